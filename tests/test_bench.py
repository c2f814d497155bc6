"""``tokuden bench`` for real, with a handful of messages: the report's shape, never timings.

Every contender runs as it would in a full run (smtp-sink, the bare relay, Postfix with its
own queue when this machine can start one, ``tokuden serve`` with DKIM keys and a small
consent store); the test checks that every message was answered and that the replies are
the ones the mix predicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.bench.contenders import postfix_unavailable
from tests.conftest import ROOT, SHARED

MESSAGES = 40
CLASSES = {"accepted", "rejected", "deferred", "failed"}


def bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "bench",
            "--json",
            "--cache",
            str(tmp_path / "cache"),
            "--shared",
            str(SHARED),
            "--rows",
            "1000",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def postfix_available() -> bool:
    return postfix_unavailable() is None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    names = "sink,bare,postfix,tokuden" if postfix_available() else "sink,bare,tokuden"
    tmp = tmp_path_factory.mktemp("bench")
    return bench(
        tmp, "--messages", str(MESSAGES), "--warmup", "5", "--concurrency", "3", "--only", names
    )


def test_the_report_names_the_sink_the_mix_and_every_contender_asked_for(
    report: dict[str, Any],
) -> None:
    assert report["sink"]["kind"]
    assert report["mix"]["messages"] == MESSAGES
    assert sum(report["mix"]["kinds"].values()) == MESSAGES
    names = [c["name"] for c in report["contenders"]]
    expected = (
        ["sink", "bare", "postfix", "tokuden"]
        if postfix_available()
        else ["sink", "bare", "tokuden"]
    )
    assert names == expected
    assert all(c["available"] for c in report["contenders"]), report["contenders"]


def test_every_message_is_answered_by_every_contender(report: dict[str, Any]) -> None:
    for c in report["contenders"]:
        assert c["messages"] == c["answered"] == MESSAGES, c["name"]
        assert set(c["replies"]) == CLASSES
        assert sum(c["replies"].values()) == MESSAGES
        assert c["replies"]["failed"] == 0, c["name"]
        assert sum(sum(v.values()) for v in c["by_kind"].values()) == MESSAGES


def test_pass_through_contenders_accept_the_whole_mix(report: dict[str, Any]) -> None:
    for c in report["contenders"]:
        if c["name"] != "tokuden":
            assert c["replies"]["accepted"] == MESSAGES, c["name"]
            assert c["sink_received"] >= MESSAGES, c["name"]  # Postfix: drained to the sink


def test_tokuden_answers_what_the_mix_predicts(report: dict[str, Any]) -> None:
    tokuden = next(c for c in report["contenders"] if c["name"] == "tokuden")
    expected = tokuden["expected"]
    assert expected["checked"] > 0
    assert expected["matched"] == expected["checked"], expected["mismatches"]
    assert tokuden["replies"]["rejected"] > 0  # the blocked campaigns are in the mix


def test_each_contender_reports_rate_latency_cpu_and_memory(report: dict[str, Any]) -> None:
    for c in report["contenders"]:
        for key in ("messages_per_s", "cpu_ms_per_message", "peak_rss_mib"):
            assert isinstance(c[key], int | float), (c["name"], key)
        assert {"p50", "p99", "max"} <= c["latency_ms"].keys()
    assert set(report["ratios"]) >= {"tokuden/bare"}
    assert set(report["ratios"]["tokuden/bare"]) >= {"messages_per_s", "cpu_ms_per_message"}


def test_only_runs_the_contenders_named_and_prints_a_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "bench",
            "--only",
            "sink",
            "--messages",
            "5",
            "--warmup",
            "0",
            "--shared",
            str(SHARED),
            "--cache",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "msg/s" in done.stdout and "\nsink " in done.stdout
    assert "bare" not in done.stdout.split("contender", 1)[1].split("\n\n")[0]
