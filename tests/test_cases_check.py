"""Every case of shared/examples/cases.toml through ``tokuden check``, as a marketer runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cases import CASES, CASES_FILE, Case, case_id, example_config


def tokuden(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = example_config(tmp_path_factory.mktemp("check"))
    done = tokuden("consent", "import", CASES_FILE, "--config", path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_through_check(case: Case, config: Path) -> None:
    rcpts = [arg for a in case.outcome for arg in ("--rcpt", a)]
    done = tokuden(
        "check", case.path, "--config", config, "--sender", case.sender, *rcpts, "--json"
    )
    result: dict[str, Any] = json.loads(done.stdout)

    assert result["category"] == case.category
    assert {a: r["outcome"] for a, r in result["recipients"].items()} == case.outcome
    found = {f["rule"] for f in result["findings"]}
    assert set(case.rules) <= found
    assert not set(case.not_rules) & found
    for address in case.blocked:
        assert result["recipients"][address]["rules"], f"{address} blocked without a rule"
    # The English message is quoted in SMTP replies and DSNs, which are ASCII (RFC 5321 4.2).
    assert all(f["message"].isascii() for f in result["findings"])
    assert done.returncode == (1 if case.blocked else 0), done.stderr


def test_check_names_an_unknown_sender(config: Path) -> None:
    done = tokuden("check", CASES[0].path, "--config", config, "--sender", "nobody")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"tokuden: no sender profile 'nobody' in {config} (known: hikari, minato, ogiya)"
    )
    assert done.stdout == ""


def test_check_names_a_missing_mail_file(config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    done = tokuden("check", missing, "--config", config, "--sender", "ogiya")
    assert done.returncode == 2
    assert done.stderr.strip() == f"tokuden: cannot read {missing}: No such file or directory"


def test_check_without_recipients_says_so(config: Path, tmp_path: Path) -> None:
    mail = tmp_path / "no-to.eml"
    mail.write_bytes(b"From: news@ogiya.example\r\nSubject: hi\r\n\r\nbody\r\n")
    done = tokuden("check", mail, "--config", config, "--sender", "ogiya")
    assert done.returncode == 2
    assert "has no To or Cc address: give --rcpt ADDR" in done.stderr


def test_check_rejects_a_bad_config_with_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[relay]\nnext_hop = "ftp://x"\n', "utf-8")
    done = tokuden("check", CASES[0].path, "--config", bad, "--sender", "ogiya")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"tokuden: {bad}: relay.next_hop: 'ftp://x': use smtp://host:port or maildir:PATH"
    )
    assert "Traceback" not in done.stderr


def test_human_output_lists_rule_and_outcome(config: Path) -> None:
    case = next(c for c in CASES if c.file.startswith("02_"))
    done = tokuden("check", case.path, "--config", config, "--sender", case.sender)
    assert done.returncode == 1
    assert "category: advertising" in done.stdout
    assert "yoshida@example.jp: block (D2" in done.stdout


def test_fixed_out_writes_the_fixed_mail_or_says_why_not(tmp_path: Path) -> None:
    auth = 'auth = { ogiya = "ogiya-secret" }'
    edits = {auth: auth + '\ndisplay_fix = "footer"'}
    config = example_config(tmp_path, edits=edits)
    fixed = tmp_path / "fixed.eml"
    no_optout = next(c for c in CASES if c.file.startswith("02_"))
    done = tokuden(
        "check",
        no_optout.path,
        "--config",
        config,
        "--sender",
        "ogiya",
        "--rcpt",
        "suzuki@example.jp",
        "--fixed-out",
        fixed,
        "--json",
    )
    result = json.loads(done.stdout)
    assert result["fixes"] == ["footer"]
    assert {f["code"] for f in result["findings"] if f["rule"].startswith("D")} == {
        "display.fixed_by_footer"
    }
    assert b"\x1b$B" in fixed.read_bytes()  # the block went in as ISO-2022-JP
    again = tokuden(
        "check",
        fixed,
        "--config",
        config,
        "--sender",
        "ogiya",
        "--rcpt",
        "suzuki@example.jp",
        "--json",
    )
    assert not [f for f in json.loads(again.stdout)["findings"] if f["rule"].startswith("D")]

    compliant = tmp_path / "untouched.eml"
    done = tokuden(
        "check", CASES[0].path, "--config", config, "--sender", "ogiya", "--fixed-out", compliant
    )
    assert not compliant.exists()
    assert f"tokuden: the mail was not fixed; {compliant} not written" in done.stderr
