"""The example world of shared/examples/cases.toml, for the end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, SHARED

EXAMPLES = SHARED / "examples"
CASES_FILE = EXAMPLES / "cases.toml"
WORLD: dict[str, Any] = tomllib.loads(CASES_FILE.read_text("utf-8"))
EXAMPLE_CONFIG = ROOT / "deploy" / "example.toml"


@dataclass(frozen=True)
class Case:
    file: str
    sender: str
    category: str
    outcome: dict[str, str]
    rules: list[str]
    not_rules: list[str]

    @property
    def path(self) -> Path:
        return EXAMPLES / self.file

    @property
    def blocked(self) -> set[str]:
        return {a for a, o in self.outcome.items() if o == "block"}

    @property
    def passed(self) -> set[str]:
        return {a for a, o in self.outcome.items() if o == "pass"}


CASES = [Case(**c) for c in WORLD["case"]]


def case_id(case: Case) -> str:
    return case.file.removesuffix(".eml")


def example_config(
    tmp: Path,
    listen: str = "127.0.0.1:10025",
    next_hop: str | None = None,
    store: Path | None = None,
    edits: Mapping[str, str] | None = None,
) -> Path:
    """deploy/example.toml with its state moved under ``tmp``: the tests run the shipped config.

    ``edits`` replace more of its lines (old text → new text).
    """
    text = EXAMPLE_CONFIG.read_text("utf-8")
    hop = next_hop or f"maildir:{tmp / 'maildir'}"
    replacements = {
        'listen = ["127.0.0.1:10025"]': f'listen = ["{listen}"]',
        'next_hop = "maildir:../var/tour/maildir"': f'next_hop = "{hop}"',
        'url = "sqlite:../var/tour/consent.db"': f'url = "sqlite:{store or tmp / "consent.db"}"',
        'file = "../var/tour/decisions.log"': f'file = "{tmp / "decisions.log"}"',
    }
    replacements.update(edits or {})
    for old, new in replacements.items():
        assert old in text, f"deploy/example.toml no longer has {old!r}"
        text = text.replace(old, new)
    path = tmp / "tokuden.toml"
    path.write_text(text, "utf-8")
    return path


def tokuden(*args: str) -> subprocess.CompletedProcess[str]:
    """``tokuden ARGS`` run as an operator runs it; a non-zero exit fails the test."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def import_consent(config: Path) -> None:
    """The example consent records into ``config``'s store: ``tokuden consent import``."""
    tokuden("consent", "import", str(CASES_FILE), "--config", str(config))
