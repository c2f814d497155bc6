"""``tokuden consent import|show`` as an operator runs it: a real process, a real config file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, SHARED

CASES = SHARED / "examples" / "cases.toml"


def tokuden(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tokuden.toml"
    path.write_text(f'[store]\nurl = "sqlite:{tmp_path / "db" / "consent.db"}"\n', "utf-8")
    return path


def consent_tables() -> list[dict[str, object]]:
    with CASES.open("rb") as f:
        tables: list[dict[str, object]] = tomllib.load(f)["consent"]
    return tables


def test_import_then_show(tmp_path: Path, config: Path) -> None:
    done = tokuden("consent", "import", str(CASES), "--config", str(config), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    store = f"sqlite:{tmp_path / 'db' / 'consent.db'}"
    assert done.stdout == f"imported {len(consent_tables())} records into {store}\n"

    shown = tokuden(
        "consent", "show", "<yoshida@EXAMPLE.jp>", "--config", str(config), cwd=tmp_path
    )
    assert shown.returncode == 0
    for table in consent_tables():
        if table["address"] == "yoshida@example.jp":
            assert f"sender {table['sender']}" in shown.stdout
            assert str(table["method"]) in shown.stdout
            assert str(table["obtained_at"]) in shown.stdout
    assert "consent (C1)" in shown.stdout
    assert shown.stdout.count("verdict       may receive advertising (C1:") == 2


def test_show_cites_o1_for_an_opt_out(tmp_path: Path, config: Path) -> None:
    tokuden("consent", "import", str(CASES), "--config", str(config), cwd=tmp_path)
    shown = tokuden(
        "consent",
        "show",
        "tanaka@example.jp",
        "--sender",
        "ogiya",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert shown.returncode == 0
    assert "sender hikari" not in shown.stdout
    assert "2026-11-20T21:04:00+09:00 via opt-out page" in shown.stdout
    assert "may not receive advertising (O1:" in shown.stdout


def test_show_json_cites_c4_for_a_published_refusal(tmp_path: Path, config: Path) -> None:
    tokuden("consent", "import", str(CASES), "--config", str(config), cwd=tmp_path)
    shown = tokuden(
        "consent",
        "show",
        "info@refuse.example.co.jp",
        "--json",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert shown.returncode == 0
    (record,) = json.loads(shown.stdout)
    assert record["basis"] == "published"
    assert record["rule"] == "C4"
    assert record["refusal_displayed"] is True
    assert record["may_receive_advertising"] is False
    assert record["reason"].startswith("C4:")


def test_show_without_a_record_exits_1(tmp_path: Path, config: Path) -> None:
    tokuden("consent", "import", str(CASES), "--config", str(config), cwd=tmp_path)
    for args in (["suzuki@example.jp"], ["kimura@example.jp", "--sender", "minato"]):
        shown = tokuden("consent", "show", *args, "--config", str(config), cwd=tmp_path)
        assert shown.returncode == 1
        assert "no consent record" in shown.stdout


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2
    assert done.stderr.startswith("tokuden: ")
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_bad_address_exits_2(tmp_path: Path, config: Path) -> None:
    done = tokuden("consent", "show", "yoshida.example.jp", "--config", str(config), cwd=tmp_path)
    assert "'yoshida.example.jp' is not an e-mail address" in one_line_error(done)


def test_bad_file_exits_2_naming_the_line_and_writes_nothing(tmp_path: Path, config: Path) -> None:
    bad = DATA / "consent" / "bad_basis.csv"
    done = tokuden("consent", "import", str(bad), "--config", str(config), cwd=tmp_path)
    assert one_line_error(done).startswith(f"tokuden: {bad}:4: basis: unknown basis")
    shown = tokuden("consent", "show", "yoshida@example.jp", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 1


def test_format_option(tmp_path: Path, config: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_bytes((DATA / "consent" / "minimal.csv").read_bytes())
    done = tokuden("consent", "import", str(listing), "--config", str(config), cwd=tmp_path)
    assert "cannot tell the format" in one_line_error(done)
    done = tokuden(
        "consent", "import", str(listing), "--format", "csv", "--config", str(config), cwd=tmp_path
    )
    assert done.returncode == 0
    assert done.stdout.startswith("imported 1 records into ")


def test_unusable_store_exits_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    config = tmp_path / "tokuden.toml"
    config.write_text(f'[store]\nurl = "sqlite:{tmp_path / "file" / "consent.db"}"\n', "utf-8")
    done = tokuden("consent", "import", str(CASES), "--config", str(config), cwd=tmp_path)
    assert "cannot create the directory" in one_line_error(done)
