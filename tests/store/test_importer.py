"""Importing consent lists: the exact records of the file, or a FILE:WHERE message and no writes."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.consent import Basis, ConsentRecord
from gateway.store.importer import ImportFileError, import_file, read_records
from gateway.store.sqlite import SqliteStore
from tests.conftest import DATA, SHARED

CASES = SHARED / "examples" / "cases.toml"
CONSENT = DATA / "consent"
JST = timezone(timedelta(hours=9))


def _time(table: dict[str, Any], key: str) -> datetime | None:
    return datetime.fromisoformat(table[key]) if key in table else None


def test_cases_toml_imports_exactly_its_consent_tables(store: SqliteStore) -> None:
    with CASES.open("rb") as f:
        tables = tomllib.load(f)["consent"]
    expected = [
        ConsentRecord(
            sender=t["sender"],
            address=t["address"],
            basis=Basis(t["basis"]),
            obtained_at=_time(t, "obtained_at"),
            method=t.get("method", ""),
            evidence=t.get("evidence", ""),
            refusal_displayed=t.get("refusal_displayed", False),
            opted_out_at=_time(t, "opted_out_at"),
            optout_method=t.get("optout_method", ""),
        )
        for t in tables
    ]
    assert len(expected) == 9
    assert import_file(store, CASES) == 9
    stored = {
        (r.sender, r.address): r for a in {e.address for e in expected} for r in store.history(a)
    }
    assert stored == {(e.sender, e.address): e for e in expected}


def test_csv_rows_become_records(store: SqliteStore) -> None:
    assert import_file(store, CONSENT / "good.csv") == 4
    assert store.history("yoshida@example.jp") == [
        ConsentRecord(
            "ogiya",
            "yoshida@example.jp",
            Basis.CONSENT,
            obtained_at=datetime(2026, 4, 1, 10, 15, tzinfo=JST),
            method="web form, checkbox ticked by the customer at checkout",
            evidence="今後、当店からの新商品などの情報のメルマガ配信を希望する",
        )
    ]
    assert [r.basis for r in store.history("Sato@example.co.jp")] == [Basis.PUBLISHED]
    (tanaka,) = store.history("tanaka@example.jp")
    assert tanaka.opted_out_at == datetime(2026, 9, 1, 8, 0, tzinfo=JST)
    assert tanaka.optout_method == "reply mail"
    assert tanaka.refusal_displayed is False
    (refusing,) = store.history("info@xn--r8jz45g.jp")
    assert refusing.refusal_displayed is True
    assert refusing.evidence == 'site says "特定電子メールの送信お断り"'
    assert refusing.obtained_at is None


def test_csv_needs_only_sender_address_and_basis_in_any_order() -> None:
    assert list(read_records(CONSENT / "minimal.csv")) == [
        ConsentRecord("ogiya", "card@example.jp", Basis.NOTIFIED)
    ]


def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes((CONSENT / "minimal.csv").read_bytes())
    with pytest.raises(ImportFileError, match="cannot tell the format"):
        list(read_records(path))
    assert len(list(read_records(path, "csv"))) == 1


def test_bad_csv_row_names_its_line_and_nothing_is_written(store: SqliteStore) -> None:
    path = CONSENT / "bad_basis.csv"
    with pytest.raises(ImportFileError) as info:
        import_file(store, path)
    assert str(info.value).startswith(f"{path}:4: basis: unknown basis 'business card'")
    assert store.history("yoshida@example.jp") == []
    assert store.history("kimura@example.jp") == []


def test_bad_toml_table_names_its_index_and_nothing_is_written(store: SqliteStore) -> None:
    path = CONSENT / "bad_basis.toml"
    with pytest.raises(ImportFileError) as info:
        import_file(store, path)
    assert str(info.value).startswith(f"{path}:consent[3].basis: unknown basis 'business card'")
    assert store.history("yoshida@example.jp") == []


HEADER = "sender,address,basis,obtained_at,refusal_displayed,opted_out_at,optout_method\n"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (HEADER + "ogiya,yoshida.example.jp,consent,,,,\n", "2: address", "no '@'"),
        (HEADER + ",yoshida@example.jp,consent,,,,\n", "2: sender", "missing"),
        (HEADER + "ogiya,a@example.jp,,,,,\n", "2: basis", "missing"),
        (HEADER + "ogiya,a@example.jp,consent,April 1st,,,\n", "2: obtained_at", "ISO-8601"),
        (
            HEADER + "ogiya,a@example.jp,consent,2026-04-01T10:15:00,,,\n",
            "2: obtained_at",
            "no UTC offset",
        ),
        (HEADER + "ogiya,a@example.jp,consent,,maybe,,\n", "2: refusal_displayed", "true or false"),
        (HEADER + "ogiya,a@example.jp,consent,,,,reply mail\n", "2: optout_method", "without"),
        (HEADER + "ogiya,a@example.jp,consent\n", "2", "3 fields, but the header has 7"),
        ("sender,address\nogiya,a@example.jp\n", "1", "missing column 'basis'"),
        ("sender,address,basis,note\n", "1", "unknown column 'note'"),
        ("", "1", "empty file"),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFileError, match=what) as info:
        list(read_records(path))
    assert str(info.value).startswith(f"{path}:{where}: ")


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("sender,address,basis\n扇屋,a@example.jp,consent\n".encode("shift_jis"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        list(read_records(path))


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            '[[consent]]\naddress = "a@example.jp"\nbasis = "consent"\n',
            "consent[0].sender",
            "missing",
        ),
        (
            '[[consent]]\nsender = "ogiya"\naddress = "a@example.jp"\nbasis = "consent"\n'
            "consented = true\n",
            "consent[0].consented",
            "unknown key",
        ),
        (
            '[[consent]]\nsender = "ogiya"\naddress = "a@example.jp"\nbasis = "consent"\n'
            "obtained_at = 2026-04-01T10:15:00\n",
            "consent[0].obtained_at",
            "no UTC offset",
        ),
        (
            '[[consent]]\nsender = "ogiya"\naddress = "a@example.jp"\nbasis = "consent"\n'
            'refusal_displayed = "maybe"\n',
            "consent[0].refusal_displayed",
            "true or false",
        ),
        ('consent = ["a@example.jp"]\n', "consent[0]", "must be a table"),
    ],
)
def test_bad_toml(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "list.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFileError, match=what) as info:
        list(read_records(path))
    assert str(info.value).startswith(f"{path}:{where}: ")


def test_toml_native_datetimes_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "list.toml"
    path.write_text(
        '[[consent]]\nsender = "ogiya"\naddress = "a@example.jp"\nbasis = "consent"\n'
        "obtained_at = 2026-04-01T10:15:00+09:00\n",
        encoding="utf-8",
    )
    (record,) = read_records(path)
    assert record.obtained_at == datetime(2026, 4, 1, 10, 15, tzinfo=JST)


def test_toml_without_consent_tables(tmp_path: Path) -> None:
    path = tmp_path / "list.toml"
    path.write_text('[senders.ogiya]\nnames = ["扇屋商店"]\n', encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"no \[\[consent\]\] tables"):
        list(read_records(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read"):
        list(read_records(tmp_path / "nowhere.csv"))
