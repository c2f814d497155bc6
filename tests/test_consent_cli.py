"""``tokuden consent …`` as an operator runs it: a real process, a real config, both backends."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import signal
import socket
import sqlite3
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.consent import Basis, ConsentEvent
from gateway.store import open_store
from tests.conftest import DATA, ROOT, SHARED

CASES = SHARED / "examples" / "cases.toml"
CONSENT = DATA / "consent"
JST = timezone(timedelta(hours=9))


def tokuden(*args: str, config: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "gateway", "consent", *args, "--config", str(config)],
        cwd=config.parent,
        env=env,
        capture_output="stderr" not in kwargs,
        text=True,
        check=False,
        **kwargs,
    )


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Path:
    """The senders of cases.toml, plus a mail-order shop (特定商取引法, three years)."""
    path = tmp_path / "tokuden.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n'
        '[senders.ogiya]\nconsignor = "扇屋商店"\n'
        "[senders.hikari]\n"
        "[senders.minato]\n"
        '[senders.tsuhan]\nretention = "mail_order"\n',
        "utf-8",
    )
    return path


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done
    assert done.stderr.startswith("tokuden: ")
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def show_json(address: str, config: Path) -> list[dict[str, Any]]:
    done = tokuden("show", address, "--json", config=config)
    assert done.returncode == 0, done
    shown: list[dict[str, Any]] = json.loads(done.stdout)
    return shown


def test_cases_toml_imports_and_shows_its_records(config: Path) -> None:
    with CASES.open("rb") as f:
        tables: list[dict[str, Any]] = tomllib.load(f)["consent"]
    done = tokuden("import", str(CASES), config=config)
    optouts = sum("opted_out_at" in t for t in tables)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(
        f"imported {len(tables)} rows ({len(tables)} consent events, {optouts} opt-out events)"
    )
    for t in tables:
        (state,) = (s for s in show_json(t["address"], config) if s["sender"] == t["sender"])
        (consent,) = (e for e in state["events"] if e["kind"] == "consent")
        assert (consent["basis"], consent["method"], consent["evidence"]) == (
            t["basis"],
            t["method"],
            t.get("evidence", ""),
        )
        assert datetime.fromisoformat(consent["obtained_at"]) == datetime.fromisoformat(
            t["obtained_at"]
        )
        refused = t.get("refusal_displayed", False)
        assert state["may_receive_advertising"] is ("opted_out_at" not in t and not refused)
        if "opted_out_at" in t:
            assert state["barred_by"] == "O1"
            (optout,) = (e for e in state["events"] if e["kind"] == "optout")
            assert optout["channel"] == t["optout_method"]
        elif refused:
            assert state["barred_by"] == "C4"


def test_show_text_gives_history_and_verdict_per_sender(config: Path) -> None:
    tokuden("import", str(CASES), config=config)
    shown = tokuden("show", "<tanaka@EXAMPLE.jp>", config=config)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "tanaka@example.jp"
    assert "  sender hikari: may not receive advertising (O1: the recipient asked to stop" in (
        shown.stdout
    )
    assert "opt-out  all mail; channel: reply mail" in shown.stdout
    assert "transaction (C3); method: internet service contract" in shown.stdout
    only = tokuden("show", "tanaka@example.jp", "--sender", "ogiya", config=config)
    assert "sender hikari" not in only.stdout
    assert "paper form at the shop" in only.stdout


def test_show_without_a_record_exits_1(config: Path) -> None:
    tokuden("import", str(CASES), config=config)
    for args in (["suzuki@example.jp"], ["kimura@example.jp", "--sender", "minato"]):
        shown = tokuden("show", *args, config=config)
        assert shown.returncode == 1
        assert "nothing on record" in shown.stdout


@pytest.mark.parametrize(
    ("name", "first_fault"),
    [
        ("bad.csv", "bad.csv:3: sender: 'shop-b' is not a sender of the config"),
        ("bad.jsonl", "bad.jsonl:2: not JSON"),
        ("bad.toml", "bad.toml:consent[1].obtained_at: must be a date-time"),
    ],
)
def test_a_bad_file_exits_2_naming_the_row_and_writes_nothing(
    config: Path, name: str, first_fault: str
) -> None:
    done = tokuden("import", str(CONSENT / name), config=config)
    assert one_line_error(done).startswith(f"tokuden: {CONSENT / name}:")
    assert first_fault in done.stderr
    stats = tokuden("stats", config=config)
    assert stats.returncode == 1
    assert stats.stdout.startswith("nothing on record in ")


def test_skip_bad_reports_each_bad_row_imports_the_rest_and_exits_1(config: Path) -> None:
    bad = CONSENT / "bad.csv"
    done = tokuden("import", str(bad), "--skip-bad", config=config)
    assert done.returncode == 1
    reported = done.stderr.splitlines()
    assert [line.split(":")[1] for line in reported] == [
        "3",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
    ]
    assert all(line.startswith(f"{bad}:") for line in reported)
    assert "imported 3 rows (3 consent events, 0 opt-out events)" in done.stdout
    assert done.stdout.endswith("; skipped 9 bad rows\n")
    assert show_json("card@example.jp", config)[0]["events"][0]["evidence"] == (
        "handed over at a trade fair,\nbooth 12"
    )


def test_template_export_reproduces_the_evidence_with_its_wording(
    config: Path, tmp_path: Path
) -> None:
    wording = tmp_path / "form.txt"
    wording.write_text("☑ 扇屋商店からのお得な情報をメールで受け取る\n", "utf-8")
    for version in (1, 2):
        done = tokuden(
            "template", "add", "--sender", "ogiya", "--id", "checkout", str(wording),
            "--channel", "web form", config=config,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (0, f"template checkout version {version}\n")
    listing = tmp_path / "list.csv"
    listing.write_text(
        "kind,sender,address,basis,obtained_at,template_id,template_version,"
        "collected_by,opted_out_at,channel,evidence\n"
        "consent,ogiya,yoshida@example.jp,consent,2026-04-01T10:15:00+09:00,checkout,2,"
        "shop web site,,,\n"
        "optout,ogiya,yoshida@example.jp,,,,,,2026-11-20T21:04:00+09:00,one-click,"
        "POST /mail/stop 2026-11-20T21:04:00+09:00\n"
        "consent,hikari,kimura@example.jp,transaction,2024-01-15T00:00:00+09:00,,,,,,"
        "internet service contract\n",
        "utf-8",
    )
    assert tokuden("import", str(listing), config=config).returncode == 0

    out = tmp_path / "ogiya.csv"
    done = tokuden("export", "--sender", "ogiya", "--output", str(out), config=config)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    with out.open(encoding="utf-8", newline="") as f:
        consent, optout = csv.DictReader(f)
    assert consent["kind"] == "consent"
    assert (consent["address"], consent["basis"], consent["rule"]) == (
        "yoshida@example.jp",
        "consent",
        "C1",
    )
    assert (consent["template_id"], consent["template_version"]) == ("checkout", "2")
    assert consent["template_wording"] == wording.read_text("utf-8")
    assert consent["template_channel"] == "web form"
    assert (consent["consignor"], consent["collected_by"]) == ("扇屋商店", "shop web site")
    assert optout["kind"] == "optout"
    assert (optout["channel"], optout["scope"]) == ("one-click", "*")
    assert optout["evidence"] == "POST /mail/stop 2026-11-20T21:04:00+09:00"
    assert datetime.fromisoformat(optout["opted_out_at"]) == datetime(
        2026, 11, 20, 21, 4, tzinfo=JST
    )

    jsonl = tokuden("export", "--sender", "ogiya", "--format", "jsonl", config=config)
    assert jsonl.returncode == 0
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["kind"] for r in records] == ["consent", "optout"]
    assert records[0]["template_wording"] == wording.read_text("utf-8")
    with io.StringIO(out.read_text("utf-8"), newline="") as f:
        assert [r["kind"] for r in csv.DictReader(f)] == [r["kind"] for r in records]

    nothing = tokuden("export", "--sender", "minato", "--output", str(out), config=config)
    assert nothing.returncode == 1
    assert out.exists()  # the earlier export is not replaced by an empty one


def test_optout_then_show(config: Path) -> None:
    tokuden("import", str(CONSENT / "good.csv"), config=config)
    assert show_json("Sato@example.co.jp", config)[0]["may_receive_advertising"] is True
    done = tokuden(
        "optout", "Sato@EXAMPLE.co.jp", "--sender", "ogiya", "--channel", "phone",
        "--evidence", "call 2026-12-01 10:02, 佐藤様", config=config,
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.startswith("Sato@example.co.jp opted out of all mail from ogiya at ")
    (state,) = show_json("Sato@example.co.jp", config)
    assert (state["may_receive_advertising"], state["barred_by"]) == (False, "O1")
    assert state["events"][-1]["kind"] == "optout"
    assert state["events"][-1]["evidence"] == "call 2026-12-01 10:02, 佐藤様"

    topic = tokuden("optout", "yoshida@example.jp", "--sender", "ogiya", "--topic", "News",
                    config=config)  # fmt: skip
    assert topic.returncode == 0
    (state,) = show_json("yoshida@example.jp", config)
    assert state["may_receive_advertising"] is True  # a topic opt-out keeps the rest
    assert state["optout_topics"] == ["news", "sale"]
    text = tokuden("show", "yoshida@example.jp", config=config).stdout
    assert "topics opted out   news, sale (O1)" in text


async def test_a_consent_dated_in_the_future_never_outlives_an_optout(
    config: Path, tmp_path: Path, store_url: str
) -> None:
    """The audit of issue 4: a consent dated 2099 was imported, ``optout`` said "opted out
    (O1)" and ``show`` still said "may receive". Now the import refuses the date (with its
    line), and a store that holds such a consent anyway (written before this check) lets
    the opt-out stop the mail: the consent counts from when it was recorded."""
    listing = tmp_path / "list.csv"
    listing.write_text(
        "sender,address,basis,obtained_at,method\n"
        "ogiya,future@example.jp,consent,2099-04-01T00:00:00+09:00,web form\n",
        "utf-8",
    )
    done = tokuden("import", str(listing), config=config)
    assert f"{listing}:2: obtained_at: 2099-04-01T00:00:00+09:00 is in the future" in (
        one_line_error(done)
    )
    store = await open_store(store_url)
    try:
        async with store.writer() as w:
            await w.add_consents(
                [
                    ConsentEvent(
                        "ogiya", "future@example.jp", Basis.CONSENT,
                        datetime(2099, 4, 1, tzinfo=JST), method="web form",
                    )
                ]
            )  # fmt: skip
    finally:
        await store.close()
    (state,) = show_json("future@example.jp", config)
    assert state["may_receive_advertising"] is True
    done = tokuden("optout", "future@example.jp", "--sender", "ogiya", config=config)
    assert done.returncode == 0, done
    assert "opted out of all mail from ogiya" in done.stdout
    (state,) = show_json("future@example.jp", config)
    assert (state["may_receive_advertising"], state["barred_by"]) == (False, "O1")
    text = tokuden("show", "future@example.jp", config=config).stdout
    assert "2099-04-01T00:00:00+09:00  consent (C1); method: web form; counts from: " in text
    assert ", when it was recorded (dated in the future)" in text


async def test_optout_says_so_when_a_consent_still_outranks_it(
    config: Path, store_url: str
) -> None:
    """A consent recorded by a host whose clock runs 73 years ahead takes effect after any
    opt-out made now: ``optout`` records the opt-out but must not report success."""
    address = "ahead@example.jp"
    ahead = "2099-04-01T00:00:00.000000+00:00"
    store = await open_store(store_url)  # creates the schema
    await store.close()
    if store_url.startswith("sqlite:"):
        with sqlite3.connect(store_url.removeprefix("sqlite:")) as db:
            db.execute(
                "INSERT INTO consent_events"
                " (sender, address, basis, obtained_at, method, recorded_at)"
                " VALUES ('ogiya', ?, 'consent', ?, 'web form', ?)",
                (address, ahead, ahead),
            )
        db.close()
    else:
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO consent_events"
                " (sender, address, basis, obtained_at, method, recorded_at)"
                " VALUES ('ogiya', %s, 'consent', %s, 'web form', %s)",
                (address, ahead, ahead),
            )
    store = await open_store(store_url)
    try:  # one more (older) consent through the store: PostgreSQL derives the state then
        async with store.writer() as w:
            await w.add_consents(
                [ConsentEvent("ogiya", address, Basis.CONSENT, datetime(2026, 1, 1, tzinfo=JST),
                              method="paper form")]
            )  # fmt: skip
    finally:
        await store.close()
    done = tokuden("optout", address, "--sender", "ogiya", config=config)
    error = one_line_error(done)
    assert "the opt-out is recorded at " in error
    assert "but ogiya may still send: the latest consent counts from 2099-04-01T09:00:00+09:00" in (
        error
    )
    assert done.stdout == ""
    (state,) = show_json(address, config)
    assert state["may_receive_advertising"] is True  # what the message said
    assert [e["kind"] for e in state["events"]] == ["consent", "optout", "consent"]


def test_bad_input_exits_2_with_one_line(config: Path, tmp_path: Path) -> None:
    for args, fault in [
        (["show", "yoshida.example.jp"], "'yoshida.example.jp' is not an e-mail address"),
        (["optout", "a@example.jp", "--sender", "shop-b"], "no sender profile 'shop-b'"),
        (["optout", "a@example.jp", "--sender", "ogiya", "--topic", "a b"], "not a topic"),
        (["purge", "--now", "2026-13-01"], "--now '2026-13-01': not an ISO-8601"),
        (["purge", "--now", "2026-02-01T10:00"], "give the UTC offset"),
        (["measures-order", "--sender", "minato", "--received", "2099-01-01"], "not yet received"),
        (["import", str(tmp_path / "none.csv")], "none.csv: cannot read: no such file"),
        (["import", str(tmp_path)], f"{tmp_path}: cannot read: it is a directory, not a file"),
        (["template", "add", "--sender", "ogiya", "--id", "x", str(tmp_path)], "cannot read"),
    ]:
        assert fault in one_line_error(tokuden(*args, config=config)), args


def test_an_unusable_store_exits_2_naming_it_once(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with socket.socket() as closed:  # bound, never listening: PostgreSQL is down
        closed.bind(("127.0.0.1", 0))
        down = f"postgresql://tokuden@127.0.0.1:{closed.getsockname()[1]}/consent"
        for url, where, why in [
            (f"sqlite:{tmp_path / 'file' / 'consent.db'}", str(tmp_path / "file"), "directory"),
            (down, down, "Connection refused"),
        ]:
            config = tmp_path / "tokuden.toml"
            config.write_text(f'[store]\nurl = "{url}"\n[senders.ogiya]\n', "utf-8")
            for args in (["import", str(CASES)], ["stats"], ["show", "a@example.jp"]):
                error = one_line_error(tokuden(*args, config=config))
                assert error.startswith(f"tokuden: store {url}: "), error
                assert error.count(where) == 1, error
                assert why in error, error


async def test_purge_removes_exactly_the_records_past_keep_until(
    config: Path, tmp_path: Path, store_url: str
) -> None:
    """K2 on dates written here: one month after mail stopped; a year when the sender mailed
    within a year after a measures order; three years for a mail-order sender."""
    listing = tmp_path / "list.csv"
    listing.write_text(
        "kind,sender,address,basis,obtained_at,method,opted_out_at\n"
        # ogiya: stopped 2026-01-10 12:00 → kept through 2026-02-10
        "consent,ogiya,early@example.jp,notified,2025-05-01T10:00:00+09:00,card,\n"
        "optout,ogiya,early@example.jp,,,,2026-01-10T12:00:00+09:00\n"
        # ogiya: stopped 2026-01-31 09:00 → 31 Jan + 1 month = through 28 Feb 2026
        "consent,ogiya,late@example.jp,notified,2025-05-01T10:00:00+09:00,card,\n"
        "optout,ogiya,late@example.jp,,,,2026-01-31T09:00:00+09:00\n"
        # ogiya: stopped 2026-03-31 05:00 in Japan (30 March in UTC) → through 2026-04-30
        "consent,ogiya,march@example.jp,notified,2025-05-01T10:00:00+09:00,card,\n"
        "optout,ogiya,march@example.jp,,,,2026-03-31T05:00:00+09:00\n"
        # ogiya: still subscribed, never a candidate
        "consent,ogiya,stays@example.jp,notified,2025-05-01T10:00:00+09:00,card,\n"
        # minato: measures order 2026-01-05, last ad 2026-03-01, opted out 2026-03-02 09:00
        #   → one year: kept through 2027-03-02
        "consent,minato,ordered@example.jp,transaction,2025-12-01T10:00:00+09:00,order,\n"
        "optout,minato,ordered@example.jp,,,,2026-03-02T09:00:00+09:00\n"
        # tsuhan (mail order): stopped 2026-01-10 12:00 → three years: through 2029-01-10
        "consent,tsuhan,shopper@example.jp,transaction,2025-05-01T10:00:00+09:00,order,\n"
        "optout,tsuhan,shopper@example.jp,,,,2026-01-10T12:00:00+09:00\n",
        "utf-8",
    )
    assert tokuden("import", str(listing), config=config).returncode == 0
    order = tokuden("measures-order", "--sender", "minato", "--received", "2026-01-05",
                    "--note", "総務省 措置命令", config=config)  # fmt: skip
    assert order.returncode == 0
    assert "received 2026-01-05T00:00:00+09:00" in order.stdout
    store = await open_store(store_url)
    try:
        await store.record_sent(
            "minato", ["ordered@example.jp"], datetime(2026, 3, 1, 10, tzinfo=JST)
        )
    finally:
        await store.close()

    # kept to the end of the corresponding Japanese day (midnight that ends it)
    keep = {
        ("ogiya", "early@example.jp"): datetime(2026, 2, 11, tzinfo=JST),
        ("ogiya", "late@example.jp"): datetime(2026, 3, 1, tzinfo=JST),
        ("ogiya", "march@example.jp"): datetime(2026, 5, 1, tzinfo=JST),
        ("minato", "ordered@example.jp"): datetime(2027, 3, 3, tzinfo=JST),
        ("tsuhan", "shopper@example.jp"): datetime(2029, 1, 11, tzinfo=JST),
    }

    def purge(now: datetime, *flags: str) -> dict[tuple[str, str], datetime]:
        done = tokuden("purge", "--now", now.isoformat(), *flags, config=config)
        assert done.returncode == 0, done
        *lines, summary = done.stdout.splitlines()
        removed = {}
        for line in lines:
            head, _, until = line.partition(", keep-until ")
            sender, address = head.split(":")[0].split()[-2:]
            removed[sender, address] = datetime.fromisoformat(until)
        assert summary.endswith(f" of {len(lines)} addresses; opt-outs kept (O1)")
        return removed

    removed: set[tuple[str, str]] = set()

    def past(now: datetime) -> dict[tuple[str, str], datetime]:
        """What K2 lets go at ``now`` of what is still there."""
        return {p: until for p, until in keep.items() if now > until and p not in removed}

    for now in (datetime(2026, 2, 20, tzinfo=JST), datetime(2026, 2, 28, 9, tzinfo=JST)):
        assert purge(now, "--dry-run") == past(now)
        assert set(past(now)) == {("ogiya", "early@example.jp")}
    assert show_json("early@example.jp", config)[0]["basis"] == "notified"  # dry run

    for now in (
        datetime(2026, 4, 30, 12, tzinfo=JST),  # early and late; march lasts all 30 April
        datetime(2026, 6, 1, tzinfo=JST),  # nothing more: minato's year, tsuhan's three
        datetime(2027, 3, 3, 1, tzinfo=JST),  # past the measures-order year
    ):
        assert purge(now) == past(now)
        removed |= set(past(now))
    assert removed == set(keep) - {("tsuhan", "shopper@example.jp")}
    (state,) = show_json("early@example.jp", config)
    assert [e["kind"] for e in state["events"]] == ["optout"]  # the opt-out is kept
    assert (state["basis"], state["barred_by"]) == (None, "O1")
    assert show_json("stays@example.jp", config)[0]["may_receive_advertising"] is True
    assert show_json("shopper@example.jp", config)[0]["events"][0]["kind"] == "consent"


async def test_purge_keeps_a_year_when_mail_went_inside_an_order_year_and_after_it(
    config: Path, tmp_path: Path, store_url: str
) -> None:
    """K2: "if the sender ... sends within one year after [a measures order], the period
    is one year". minato received an order on 10 Jan 2025, mailed the address inside that
    year (1 June 2025) and after it (1 Feb 2026); the opt-out came on 10 Feb 2026. The
    record is kept one year after mail stopped — through 10 Feb 2027 — not one month."""
    listing = tmp_path / "list.csv"
    listing.write_text(
        "kind,sender,address,basis,obtained_at,method,opted_out_at\n"
        "consent,minato,twice@example.jp,transaction,2024-12-01T10:00:00+09:00,order,\n"
        "optout,minato,twice@example.jp,,,,2026-02-10T12:00:00+09:00\n"
        "consent,minato,late@example.jp,transaction,2024-12-01T10:00:00+09:00,order,\n"
        "optout,minato,late@example.jp,,,,2026-02-10T12:00:00+09:00\n",
        "utf-8",
    )
    assert tokuden("import", str(listing), config=config).returncode == 0
    order = tokuden("measures-order", "--sender", "minato", "--received", "2025-01-10",
                    config=config)  # fmt: skip
    assert "records of mail sent until 2026-01-11T00:00:00+09:00 are kept" in order.stdout
    store = await open_store(store_url)
    try:
        await store.record_sent("minato", ["twice@example.jp"], datetime(2025, 6, 1, tzinfo=JST))
        for address in ("twice@example.jp", "late@example.jp"):  # after the order's year
            await store.record_sent("minato", [address], datetime(2026, 2, 1, tzinfo=JST))
    finally:
        await store.close()

    def purge(now: str) -> list[str]:
        done = tokuden("purge", "--now", now, config=config)
        assert done.returncode == 0, done
        return done.stdout.splitlines()[:-1]

    # late@ got mail only after the order's year: one month after 10 Feb 2026
    assert purge("2026-03-11T00:00:00+09:00") == []
    assert purge("2026-03-11T00:00:01+09:00") == [
        "removed minato late@example.jp: 1 consent events, keep-until 2026-03-11T00:00:00+09:00"
    ]
    # twice@ got mail inside it too: one year
    assert purge("2027-02-11T00:00:00+09:00") == []
    assert show_json("twice@example.jp", config)[0]["basis"] == "transaction"
    assert purge("2027-02-11T00:00:01+09:00") == [
        "removed minato twice@example.jp: 1 consent events, keep-until 2027-02-11T00:00:00+09:00"
    ]
    (state,) = show_json("twice@example.jp", config)
    assert (state["basis"], state["barred_by"]) == (None, "O1")


def test_stats_counts_per_sender(config: Path) -> None:
    with CASES.open("rb") as f:
        tables: list[dict[str, Any]] = tomllib.load(f)["consent"]
    tokuden("import", str(CASES), config=config)
    done = tokuden("stats", config=config)
    assert done.returncode == 0
    header, *rows = (line.split() for line in done.stdout.splitlines())
    counts = {row[0]: dict(zip(header[1:], map(int, row[1:]), strict=True)) for row in rows}
    assert set(counts) == {t["sender"] for t in tables}
    for sender, got in counts.items():
        mine = [t for t in tables if t["sender"] == sender]
        assert got["consents"] == len(mine)
        assert got["optouts"] == sum("opted_out_at" in t for t in mine)
        assert got["addresses"] == len({t["address"] for t in mine})


def test_progress_bar_on_a_terminal(config: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        done = tokuden("import", str(CONSENT / "good.jsonl"), config=config, stderr=terminal)
        os.close(terminal)
        terminal = -1
        shown = os.read(controller, 4096).decode()
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert done.returncode == 0
    assert shown.startswith("\r[########################] 100% 5 rows, ")
    assert shown.endswith(" rows/s\x1b[K\r\n")


def test_a_large_csv_imports_with_bounded_memory(config: Path, tmp_path: Path) -> None:
    """200,000 rows (the 1,000,000-row run is the benchmark's): the importer's peak RSS grows
    by far less than the file, and stderr, not a terminal, gets a plain line per 100,000."""
    rows = 200_000
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as f:
        f.write("sender,address,basis,obtained_at,method,evidence,topics\n")
        for i in range(rows):
            f.write(
                f"ogiya,user{i}@example.jp,consent,2026-04-01T10:15:00+09:00,web form,"
                f'"checkbox ticked at checkout, order {i:08d}",news;sale\n'
            )
    small = tmp_path / "small.csv"
    small.write_text("\n".join(big.read_text("utf-8").splitlines()[:11]) + "\n", "utf-8")

    def peak_rss(path: Path) -> tuple[int, str, str]:
        env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
        env["PYTHONPATH"] = str(ROOT)
        out, err = tmp_path / f"{path.stem}.out", tmp_path / f"{path.stem}.err"
        with out.open("w") as o, err.open("w") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "consent", "import", str(path),
                 "--config", str(config)],
                env=env, stdout=o, stderr=e,
            )  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, err.read_text()
        return usage.ru_maxrss * 1024, out.read_text(), err.read_text()  # Linux: KiB

    base, _, _ = peak_rss(small)
    peak, stdout, stderr = peak_rss(big)
    assert stdout.startswith(f"imported {rows} rows ({rows} consent events, 0 opt-out events)")
    lines = stderr.splitlines()
    assert [line.rpartition("%")[2].split(" rows")[0].strip() for line in lines] == [
        "100,000",
        "200,000",
    ]
    assert lines[0].startswith(f"{big}: [")  # a bar: how much of the file is read
    assert lines[1].startswith(f"{big}: [########################] 100% ")
    assert big.stat().st_size > 24 * 2**20
    assert peak - base < 150 * 2**20, f"peak RSS grew by {(peak - base) / 2**20:.0f} MiB"


def test_an_interrupted_import_writes_nothing_and_exits_cleanly(
    config: Path, tmp_path: Path
) -> None:
    """Ctrl-C mid-import: the one transaction rolls back, the process exits 130, no crash."""
    big = tmp_path / "interrupted.csv"
    with big.open("w", encoding="utf-8") as f:
        f.write("sender,address,basis,obtained_at,method\n")
        for i in range(400_000):
            f.write(f"ogiya,user{i}@example.jp,consent,2026-04-01T10:15:00+09:00,web form\n")
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "consent", "import", str(big), "--config", str(config)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the progress line at 100,000 rows: mid-import
    assert "100,000 rows" in first, first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    stats = tokuden("stats", config=config)
    assert "ogiya" not in stats.stdout, stats.stdout


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_to_a_reader_that_stops_early_ends_quietly(
    config: Path, tmp_path: Path, fmt: str
) -> None:
    # `tokuden consent export ... | head -1`: the reader goes away while rows are still
    # coming; the export stops there, exit 0, and nothing on stderr (no task left behind).
    listing = tmp_path / "many.csv"
    rows = [
        f"consent,ogiya,u{i:05d}@example.jp,consent,2026-04-01T10:15:00+09:00,,,,,,"
        f"signed up at the counter on form {i}"
        for i in range(3000)
    ]
    listing.write_text(
        "kind,sender,address,basis,obtained_at,template_id,template_version,"
        "collected_by,opted_out_at,channel,evidence\n" + "\n".join(rows) + "\n",
        "utf-8",
    )
    assert tokuden("import", str(listing), config=config).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    export = subprocess.Popen(
        [sys.executable, "-m", "gateway", "consent", "export", "--sender", "ogiya",
         "--format", fmt, "--config", str(config)],
        cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert export.stdout is not None and export.stderr is not None
    first = export.stdout.readline()
    export.stdout.close()  # what head does after its line
    stderr = export.stderr.read().decode()
    assert export.wait(timeout=60) == 0
    assert first and stderr == ""
