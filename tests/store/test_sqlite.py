"""What only the SQLite backend has: the file, its migrations, WAL, locks and raw rows."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.consent import Basis, ConsentEvent, OptOutEvent
from gateway.store import StoreError, open_store
from gateway.store.sqlite import MIGRATIONS, SqliteStore
from tests.store.upgrades import assert_future_consent_counts_from_the_upgrade

JST = timezone(timedelta(hours=9))

# Rows as schema 1 (tokuden before the event model) stored them: times with their offsets.
V1_COLUMNS = (
    "sender, address, basis, refusal_displayed, obtained_at, method, evidence,"
    " opted_out_at, optout_method, updated_at"
)
V1_ROWS = [
    (
        "ogiya",
        "yoshida@example.jp",
        "consent",
        0,
        "2026-04-01T10:15:00.250000+09:00",
        "web form, checkbox ticked by the customer at checkout",
        "今後、当店からの新商品などの情報のメルマガ配信を希望する",
        None,
        "",
        "2026-04-02T00:00:00.000001+00:00",
    ),
    # No date of consent; re-imported after the opt-out, which the old store kept.
    (
        "ogiya",
        "info@xn--r8jz45g.jp",
        "published",
        1,
        None,
        "",
        'site says "特定電子メールの送信お断り"',
        "2026-02-01T12:00:00+09:00",
        "reply mail",
        "2026-03-01T00:00:00+00:00",
    ),
    # One row whose consent date is later than its opt-out: the old store blocked it.
    (
        "minato",
        "yoshida@example.jp",
        "transaction",
        0,
        "2026-05-01T09:00:00+09:00",
        "customer",
        "",
        "2026-04-01T09:00:00+09:00",
        "phone",
        "2026-05-02T00:00:00+00:00",
    ),
]


def v1_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.executemany(
            f"INSERT INTO consent ({V1_COLUMNS}) VALUES ({', '.join('?' * 10)})", V1_ROWS
        )
        db.execute("PRAGMA user_version = 1")
    db.close()


def schema_at(path: Path, version: int) -> sqlite3.Connection:
    """A database as tokuden's schema ``version`` left it: its migrations, its user_version."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    return db


async def test_a_schema_1_database_upgrades_to_events_and_state(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    v1_database(path)
    store = await SqliteStore.open(path)
    try:
        yoshida = await store.history("yoshida@example.jp")
        refusing = await store.history("info@xn--r8jz45g.jp")
    finally:
        await store.close()
    assert yoshida.consents == [
        ConsentEvent(
            "ogiya",
            "yoshida@example.jp",
            Basis.CONSENT,
            datetime(2026, 4, 1, 10, 15, 0, 250000, tzinfo=JST),
            method="web form, checkbox ticked by the customer at checkout",
            evidence="今後、当店からの新商品などの情報のメルマガ配信を希望する",
        ),
        ConsentEvent(
            "minato",
            "yoshida@example.jp",
            Basis.TRANSACTION,
            datetime(2026, 5, 1, 9, 0, tzinfo=JST),
            method="customer",
        ),
    ]
    assert yoshida.optouts == [
        OptOutEvent(
            "minato", "yoshida@example.jp", datetime(2026, 4, 1, 9, tzinfo=JST), "*", "phone"
        )
    ]
    minato, ogiya = yoshida.states
    assert ogiya.barred_by() is None
    # O1: an upgrade never lifts an opt-out the gateway was enforcing.
    assert minato.opted_out_at == datetime(2026, 4, 1, 9, tzinfo=JST)
    assert minato.barred_by() == "O1"

    # Unknown date of consent: the time of the import, the latest it can have been.
    (event,) = refusing.consents
    assert event.obtained_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert (event.basis, event.refusal_displayed) == (Basis.PUBLISHED, True)
    (state,) = refusing.states
    assert (state.opted_out_at, state.optout_method) == (
        datetime(2026, 2, 1, 12, tzinfo=JST),
        "reply mail",
    )
    assert state.barred_by() == "O1"

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "consent" not in tables


async def test_times_are_stored_as_fixed_width_utc_text(tmp_path: Path) -> None:
    """Text order is then time order, so SQL compares instants."""
    path = tmp_path / "consent.db"
    store = await SqliteStore.open(path)
    async with store.writer() as w:
        await w.add_consents(
            [ConsentEvent("ogiya", "a@example.jp", Basis.CONSENT, datetime(2026, 1, 1, tzinfo=JST))]
        )
    await store.close()
    with sqlite3.connect(path) as db:
        (text,) = db.execute("SELECT obtained_at FROM consent_events").fetchone()
    db.close()
    assert text == "2025-12-31T15:00:00.000000+00:00"


async def test_opening_twice_is_harmless_and_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    first = await SqliteStore.open(path)
    async with first.writer() as w:
        await w.add_optouts(
            [OptOutEvent("ogiya", "a@example.jp", datetime(2026, 1, 1, tzinfo=UTC))]
        )
    second = await SqliteStore.open(path)
    try:
        assert (await second.lookup("ogiya", ["a@example.jp"]))["a@example.jp"].opted_out
    finally:
        await second.close()
        await first.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


async def test_events_cannot_be_changed_nor_optouts_deleted_in_the_file(tmp_path: Path) -> None:
    """Append-only holds for any writer of the file, an operator's sqlite3 shell included."""
    path = tmp_path / "consent.db"
    store = await SqliteStore.open(path)
    async with store.writer() as w:
        when = datetime(2026, 1, 1, tzinfo=UTC)
        await w.add_consents([ConsentEvent("ogiya", "a@example.jp", Basis.CONSENT, when)])
        await w.add_optouts([OptOutEvent("ogiya", "a@example.jp", when)])
    await store.close()
    db = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.Error, match="append-only"):
            db.execute("UPDATE consent_events SET basis = 'notified'")
        with pytest.raises(sqlite3.Error, match="append-only"):
            db.execute("UPDATE optout_events SET channel = 'x'")
        with pytest.raises(sqlite3.Error, match="never deleted"):
            db.execute("DELETE FROM optout_events")
    finally:
        db.close()


async def test_a_database_from_a_newer_tokuden_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        await SqliteStore.open(path)


async def test_open_store_creates_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "consent.db"
    await (await open_store(f"sqlite:{path}")).close()
    assert path.is_file()


async def test_unwritable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        await open_store(f"sqlite:{blocker}/consent.db")


async def test_corrupt_file_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError, match="not a database") as info:
        await open_store(f"sqlite:{path}")
    assert str(path) in str(info.value)


async def test_locked_database_fails_every_waiting_caller_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    store = await SqliteStore.open(path, busy_timeout=0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            async with store.writer() as w:
                await w.add_optouts([OptOutEvent("ogiya", "a@example.jp", datetime.now(UTC))])
        results = await asyncio.gather(
            *(
                store.record_sent("ogiya", [f"u{i}@example.jp"], datetime.now(UTC))
                for i in range(20)
            ),
            return_exceptions=True,
        )
        assert len(results) == 20
        assert all(isinstance(r, StoreError) and "locked" in str(r) for r in results)
    finally:
        other.execute("ROLLBACK")
        other.close()
    try:
        await store.record_sent("ogiya", ["u0@example.jp"], datetime.now(UTC))
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT address FROM last_sent").fetchall() == [("u0@example.jp",)]
    db.close()


async def test_an_upgrade_counts_events_dated_after_it_from_the_upgrade(tmp_path: Path) -> None:
    """Schema 2 ordered events by the time they claim, so a consent dated 2099 outranked
    every opt-out. Its recording time is unknown, but it cannot be later than the upgrade:
    from then on it counts as of the upgrade, and the next opt-out stops the mail (O1)."""
    path = tmp_path / "consent.db"
    with schema_at(path, 2) as db:
        db.execute(
            "INSERT INTO consent_events (sender, address, basis, obtained_at, method)"
            " VALUES ('ogiya', 'a@example.jp', 'consent', '2099-03-31T15:00:00.000000+00:00',"
            " 'web form')"
        )
        db.execute(
            "INSERT INTO optout_events (sender, address, opted_out_at, channel)"
            " VALUES ('ogiya', 'a@example.jp', '2026-11-01T00:00:00.000000+00:00', 'phone')"
        )
    db.close()
    before = datetime.now(UTC)
    store = await SqliteStore.open(path)
    try:
        obtained = datetime(2099, 4, 1, tzinfo=JST)
        await assert_future_consent_counts_from_the_upgrade(store, obtained, before)
    finally:
        await store.close()


async def test_an_upgrade_marks_mail_already_sent_inside_a_measures_order_year(
    tmp_path: Path,
) -> None:
    """The order's year (to the end of the Japanese day a year after receipt) is computed
    for orders already on record, and so is what last_sent holds inside it."""
    path = tmp_path / "consent.db"
    with schema_at(path, 3) as db:
        db.execute(
            "INSERT INTO measures_orders (sender, received_at)"
            " VALUES ('ogiya', '2026-01-04T15:00:00.000000+00:00')"  # 5 Jan 2026, 00:00 JST
        )
        for address, sent in (("in", "2027-01-05T14:59:59"), ("out", "2027-01-05T15:00:00")):
            db.execute(
                "INSERT INTO consent_events (sender, address, basis, obtained_at)"
                " VALUES ('ogiya', ?, 'transaction', '2025-01-01T00:00:00.000000+00:00')",
                (f"{address}@example.jp",),
            )
            db.execute(
                "INSERT INTO optout_events (sender, address, opted_out_at)"
                " VALUES ('ogiya', ?, '2026-02-01T00:00:00.000000+00:00')",
                (f"{address}@example.jp",),
            )
            db.execute(
                "INSERT INTO last_sent (sender, address, sent_at) VALUES ('ogiya', ?, ?)",
                (f"{address}@example.jp", f"{sent}.000000+00:00"),
            )
    db.close()
    store = await SqliteStore.open(path)
    try:
        got = {c.address: c.order_sent_at for c in await store.purge_candidates()}
    finally:
        await store.close()
    assert got == {
        "in@example.jp": datetime(2027, 1, 5, 23, 59, 59, tzinfo=JST),  # the year's last day
        "out@example.jp": None,
    }


async def test_many_writes_in_one_transaction_from_worker_threads(tmp_path: Path) -> None:
    """An import hands batch after batch of one transaction to worker threads. A cursor of
    a batch, freed later on the event loop, reset the statement the next batch was running:
    "bad parameter or other API misuse" (SQLITE_MISUSE) now and then. Every write lands."""
    store = await SqliteStore.open(tmp_path / "consent.db")
    when = datetime(2026, 1, 1, tzinfo=JST)
    try:
        for i in range(100):
            addresses = [f"user{i}.{j}@example.jp" for j in range(4)]
            async with store.writer() as w:
                for address in addresses:
                    await w.add_consents([ConsentEvent("ogiya", address, Basis.CONSENT, when)])
            async with store.writer() as w:
                for address in addresses:
                    await w.add_optouts([OptOutEvent("ogiya", address, when)])
        stats = (await store.stats()).senders["ogiya"]
    finally:
        await store.close()
    assert (stats["consents"], stats["optouts"], stats["opted_out"]) == (400, 400, 400)
