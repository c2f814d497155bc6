"""Shared test fixtures: where the shared law, examples and corpora are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"

if not (SHARED / "examples" / "cases.toml").is_file():
    raise pytest.UsageError(
        f"the shared folder is missing: expected {SHARED} beside the checkout "
        "(it holds LAW.md, examples/ and corpora/)"
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """An empty SQLite consent store of this test's own."""
    s = SqliteStore(tmp_path / "consent.db")
    yield s
    s.close()
