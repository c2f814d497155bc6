"""The SQLite consent store: what goes in comes out, per (sender, address), or StoreError."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.address import normalize
from gateway.consent import Basis, ConsentRecord
from gateway.store import StoreError, open_store
from gateway.store.sqlite import CHUNK, MIGRATIONS, SqliteStore

JST = timezone(timedelta(hours=9))


def full_record() -> ConsentRecord:
    return ConsentRecord(
        sender="ogiya",
        address="tanaka@example.jp",
        basis=Basis.CONSENT,
        obtained_at=datetime(2025, 6, 10, 9, 0, tzinfo=JST),
        method="paper form at the shop",
        evidence="今後、当店からの新商品などの情報のメルマガ配信を希望する",
        refusal_displayed=True,
        opted_out_at=datetime(2026, 11, 20, 21, 4, tzinfo=JST),
        optout_method="opt-out page",
    )


async def test_every_field_round_trips_with_its_offset(store: SqliteStore) -> None:
    record = full_record()
    assert store.add([record]) == 1
    got = (await store.lookup("ogiya", [record.address]))[record.address]
    assert got == record
    assert got.obtained_at is not None and got.obtained_at.utcoffset() == timedelta(hours=9)


async def test_consent_belongs_to_one_sender(store: SqliteStore) -> None:
    store.add([ConsentRecord("ogiya", "yoshida@example.jp", Basis.CONSENT)])
    assert await store.lookup("minato", ["yoshida@example.jp"]) == {}


async def test_upsert_replaces_the_record_of_the_same_sender_and_address(
    store: SqliteStore,
) -> None:
    store.add([ConsentRecord("ogiya", "kimura@example.jp", Basis.NOTIFIED, method="card")])
    store.add([ConsentRecord("ogiya", "kimura@example.jp", Basis.TRANSACTION, method="customer")])
    got = await store.lookup("ogiya", ["kimura@example.jp"])
    assert got == {
        "kimura@example.jp": ConsentRecord(
            "ogiya", "kimura@example.jp", Basis.TRANSACTION, method="customer"
        )
    }
    assert len(store.history("kimura@example.jp")) == 1


async def test_reimport_without_optout_keeps_the_optout(store: SqliteStore) -> None:
    """O1: a stale consent list must not bring an opted-out address back."""
    store.add([full_record()])
    stale = ConsentRecord(
        "ogiya", "tanaka@example.jp", Basis.CONSENT, obtained_at=datetime(2025, 6, 10, tzinfo=JST)
    )
    store.add([stale])
    got = (await store.lookup("ogiya", ["tanaka@example.jp"]))["tanaka@example.jp"]
    assert got.opted_out_at == full_record().opted_out_at
    assert got.optout_method == "opt-out page"


async def test_consent_obtained_after_the_optout_clears_it(store: SqliteStore) -> None:
    store.add([full_record()])
    fresh = ConsentRecord(
        "ogiya", "tanaka@example.jp", Basis.CONSENT, obtained_at=datetime(2027, 1, 5, tzinfo=JST)
    )
    store.add([fresh])
    assert (await store.lookup("ogiya", ["tanaka@example.jp"]))["tanaka@example.jp"] == fresh


async def test_lookup_finds_mixed_case_domains_once_normalised(store: SqliteStore) -> None:
    store.add([ConsentRecord("ogiya", "Sato@Example.CO.JP", Basis.PUBLISHED)])
    store.add([ConsentRecord("ogiya", "info@例え.jp", Basis.PUBLISHED)])
    asked = [normalize(a) for a in ("<Sato@EXAMPLE.co.jp>", "info@例え.JP", "sato@example.co.jp")]
    got = await store.lookup("ogiya", asked)
    assert sorted(got) == ["Sato@example.co.jp", "info@xn--r8jz45g.jp"]


async def test_lookup_above_one_chunk_finds_every_address(store: SqliteStore) -> None:
    addresses = [f"user{i}@example.jp" for i in range(CHUNK * 2 + 7)]
    store.add(ConsentRecord("ogiya", a, Basis.CONSENT) for a in addresses)
    got = await store.lookup("ogiya", [*addresses, "nobody@example.jp"])
    assert sorted(got) == sorted(addresses)


def test_history_lists_every_sender(store: SqliteStore) -> None:
    store.add(
        [
            ConsentRecord("ogiya", "yoshida@example.jp", Basis.CONSENT),
            ConsentRecord("minato", "yoshida@example.jp", Basis.CONSENT),
            ConsentRecord("ogiya", "other@example.jp", Basis.CONSENT),
        ]
    )
    assert [r.sender for r in store.history("yoshida@example.jp")] == ["minato", "ogiya"]
    assert store.history("nobody@example.jp") == []


def test_a_batch_with_one_bad_record_writes_nothing(store: SqliteStore) -> None:
    naive = ConsentRecord("ogiya", "b@example.jp", Basis.CONSENT, obtained_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="UTC offset"):
        store.add([ConsentRecord("ogiya", "a@example.jp", Basis.CONSENT), naive])
    assert store.history("a@example.jp") == []


def test_migrations_apply_once_and_reopening_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    first = SqliteStore(path)
    first.add([ConsentRecord("ogiya", "card@example.jp", Basis.NOTIFIED)])
    first.close()
    second = SqliteStore(path)
    assert [r.address for r in second.history("card@example.jp")] == ["card@example.jp"]
    second.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_from_a_newer_tokuden_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)


def test_open_store_creates_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "consent.db"
    open_store(f"sqlite:{path}").close()
    assert path.is_file()


def test_unwritable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        open_store(f"sqlite:{blocker}/consent.db")


def test_corrupt_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        open_store(f"sqlite:{path}")


def test_locked_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    store = SqliteStore(path, timeout=0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.add([ConsentRecord("ogiya", "a@example.jp", Basis.CONSENT)])
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


def test_unknown_url_scheme_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        open_store("postgresql://db/tokuden")
