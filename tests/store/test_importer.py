"""Importing consent lists: exactly the events of the file, or FILE:WHERE messages and no writes."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.consent import ALL_TOPICS, Basis, ConsentEvent, ConsentTemplate, OptOutEvent
from gateway.profile import SenderProfile
from gateway.store import ConsentStore
from gateway.store.importer import BadRow, ImportFileError, Row, RowSource, import_rows
from tests.conftest import DATA, SHARED

CASES = SHARED / "examples" / "cases.toml"
CONSENT = DATA / "consent"
JST = timezone(timedelta(hours=9))
SENDERS = {
    "ogiya": SenderProfile("ogiya", consignor="扇屋商店"),
    "hikari": SenderProfile("hikari", consignor="ひかり通信株式会社"),
    "minato": SenderProfile("minato", consignor="株式会社みなと電子"),
}

# good.csv, good.jsonl and good.toml all hold this list.
GOOD_CONSENTS = [
    ConsentEvent(
        "ogiya",
        "yoshida@example.jp",
        Basis.CONSENT,
        datetime(2026, 4, 1, 10, 15, tzinfo=JST),
        consignor="扇屋商店",
        topics=("news", "sale"),
        method="web form, checkbox ticked by the customer at checkout",
        evidence="今後、当店からの新商品などの情報のメルマガ配信を希望する",
        collected_by="shop web site",
    ),
    ConsentEvent(
        "ogiya",
        "Sato@example.co.jp",  # <Sato@Example.CO.JP>: the domain lower-cased, the local part kept
        Basis.PUBLISHED,
        datetime(2026, 2, 1, tzinfo=JST),
        consignor="扇屋商店",
        method="address published on the company's web site",
        evidence="page https://www.example.co.jp/company/\nseen 2026-02-01",
    ),
    ConsentEvent(
        "hikari",
        "tanaka@example.jp",
        Basis.TRANSACTION,
        datetime(2024, 5, 15, tzinfo=JST),
        consignor="ひかり通信株式会社",
        method="internet service contract",
    ),
]
GOOD_OPTOUTS = [
    OptOutEvent(
        "hikari",
        "tanaka@example.jp",
        datetime(2026, 9, 1, 8, tzinfo=JST),
        ALL_TOPICS,
        channel="reply",
        evidence="Message-ID <r1@mail.example.jp>",
    ),
    OptOutEvent(
        "ogiya", "yoshida@example.jp", datetime(2026, 5, 1, 12, tzinfo=JST), "sale", "one-click"
    ),
]


def events(path: Path, fmt: str | None = None) -> tuple[list[ConsentEvent], list[OptOutEvent]]:
    consents: list[ConsentEvent] = []
    optouts: list[OptOutEvent] = []
    for item in RowSource.open(path, fmt, SENDERS):
        assert isinstance(item, Row), item
        consents.extend(item.consents)
        optouts.extend(item.optouts)
    return consents, optouts


def faults(path: Path) -> list[str]:
    rows = RowSource.open(path, None, SENDERS)
    return [item.message for item in rows if isinstance(item, BadRow)]


@pytest.mark.parametrize("name", ["good.csv", "good.jsonl", "good.toml"])
def test_every_format_reads_the_same_list(name: str) -> None:
    assert events(CONSENT / name) == (GOOD_CONSENTS, GOOD_OPTOUTS)


def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_bytes((CONSENT / "good.jsonl").read_bytes())
    with pytest.raises(ImportFileError, match=r"list.txt: cannot tell the format"):
        RowSource.open(listing, None, SENDERS)
    assert events(listing, "jsonl") == (GOOD_CONSENTS, GOOD_OPTOUTS)


def _time(table: dict[str, Any], key: str) -> datetime:
    value = table[key]
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def cases_events() -> tuple[list[ConsentEvent], list[OptOutEvent]]:
    """What cases.toml's [[consent]] tables say, read straight from the file."""
    with CASES.open("rb") as f:
        tables: list[dict[str, Any]] = tomllib.load(f)["consent"]
    consents = [
        ConsentEvent(
            t["sender"],
            t["address"],
            Basis(t["basis"]),
            _time(t, "obtained_at"),
            consignor=SENDERS[t["sender"]].consignor,
            method=t.get("method", ""),
            evidence=t.get("evidence", ""),
            refusal_displayed=t.get("refusal_displayed", False),
        )
        for t in tables
    ]
    optouts = [
        OptOutEvent(t["sender"], t["address"], _time(t, "opted_out_at"), channel=t["optout_method"])
        for t in tables
        if "opted_out_at" in t
    ]
    return consents, optouts


def test_cases_toml_reads_its_consent_tables() -> None:
    consents, optouts = cases_events()
    assert (len(consents), len(optouts)) == (9, 2)
    assert events(CASES) == (consents, optouts)


async def test_cases_toml_imports_exactly_its_records(any_store: ConsentStore) -> None:
    consents, optouts = cases_events()
    result = await import_rows(any_store, RowSource.open(CASES, None, SENDERS))
    assert (result.rows, result.consents, result.optouts, result.skipped) == (9, 9, 2, 0)
    for address in {e.address for e in consents}:
        history = await any_store.history(address)
        assert set(history.consents) == {e for e in consents if e.address == address}
        assert set(history.optouts) == {e for e in optouts if e.address == address}


def test_bad_csv_rows_name_line_and_column() -> None:
    f = CONSENT / "bad.csv"
    assert faults(f) == [
        f"{f}:3: sender: 'shop-b' is not a sender of the config (senders: hikari, minato, ogiya)",
        f"{f}:6: address: 'kimura.example.jp' is not an e-mail address: no '@'",
        f"{f}:7: obtained_at: 2026-04-01T10:15:00 has no UTC offset (e.g. +09:00)",
        f"{f}:8: method: missing: consent (C1) needs how it was given (K1): "
        "method, evidence or template_id",
        f"{f}:9: opted_out_at: missing: when the recipient asked to stop (O1)",
        f"{f}:10: basis: unknown basis 'business card' "
        "(use consent, notified, transaction or published)",
        f"{f}:12: basis: not used by optout rows",
        f"{f}:13: 6 fields, but the header has 11",
    ]


def test_bad_jsonl_rows_name_line_and_field() -> None:
    f = CONSENT / "bad.jsonl"
    assert faults(f) == [
        f"{f}:2: not JSON: Expecting property name enclosed in double quotes (column 136)",
        f"{f}:3: must be a JSON object, not list",
        f"{f}:4: topics: 'winter sale' is not a topic name (letters, digits, . _ -)",
        f"{f}:5: kind: 'unsubscribe': use consent or optout",
        f"{f}:6: refusal_displayed: only a published address (C4) shows a refusal",
        f"{f}:7: adress: unknown field",
    ]


def test_bad_toml_tables_name_index_and_key() -> None:
    f = CONSENT / "bad.toml"
    assert faults(f) == [
        f"{f}:consent[1].obtained_at: must be a date-time with offset, not a date without a time",
        f"{f}:consent[2].opted_out_at: before obtained_at: the opt-out would not apply",
        f"{f}:consent[3].basis: unknown basis 'business card' "
        "(use consent, notified, transaction or published)",
        f"{f}:optout[0].scope: 'winter sale': use * (all mail of the sender) or one topic",
    ]


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("", ":1: empty file: expected a header row"),
        ("sender,address,basis,colour\n", ":1: unknown column 'colour'"),
        ("sender,basis,obtained_at\n", ":1: missing column 'address'"),
        ("sender,address,address\n", ":1: column 'address' appears twice"),
        ("address\xff\n", ":1: not UTF-8 text"),
    ],
)
def test_a_file_that_is_no_list_stops_at_once(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ImportFileError) as caught:
        list(RowSource.open(path, None, SENDERS))
    assert str(caught.value).startswith(f"{path}{fault}")


def test_sender_option_fills_rows_without_one_and_refuses_others(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "address,basis,obtained_at,sender\n"
        "card@example.jp,notified,2026-10-05T15:30:00+09:00,\n"
        "kimura@example.jp,transaction,2026-08-12T14:00:00+09:00,hikari\n",
        "utf-8",
    )
    rows = list(RowSource.open(path, None, SENDERS, sender=SENDERS["ogiya"]))
    assert isinstance(rows[0], Row)
    assert [e.sender for e in rows[0].consents] == ["ogiya"]
    assert rows[1] == BadRow(f"{path}:3: sender: 'hikari', but --sender says 'ogiya'")


async def test_a_bad_row_writes_nothing_even_after_full_batches(any_store: ConsentStore) -> None:
    source = RowSource.open(CONSENT / "bad.csv", None, SENDERS)
    with pytest.raises(ImportFileError, match=r"bad.csv:3: sender:"):
        await import_rows(any_store, source, batch_rows=1)  # line 2 was written before line 3
    assert (await any_store.stats()).senders == {}


async def test_skip_bad_imports_the_rest(any_store: ConsentStore) -> None:
    seen: list[BadRow] = []
    result = await import_rows(
        any_store,
        RowSource.open(CONSENT / "bad.csv", None, SENDERS),
        skip_bad=True,
        on_bad=seen.append,
        batch_rows=2,
    )
    f = CONSENT / "bad.csv"
    template_fault = (
        f"{f}:11: template_id: sender ogiya has no template 'mailform' version 1 "
        "(add it first: tokuden consent template add)"
    )
    assert [b.message for b in seen] == [*faults(f)[:6], template_fault, *faults(f)[6:]]
    assert (result.rows, result.consents, result.optouts, result.skipped) == (3, 3, 0, 9)
    for address in ("yoshida@example.jp", "card@example.jp", "tanaka@example.jp"):
        assert len((await any_store.history(address)).consents) == 1
    assert (await any_store.history("suzuki@example.jp")).consents == []


async def test_a_template_reference_needs_the_stored_wording(
    any_store: ConsentStore, tmp_path: Path
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "sender,address,basis,obtained_at,template_id,template_version\n"
        "ogiya,mori@example.jp,consent,2026-04-01T10:15:00+09:00,mailform,1\n",
        "utf-8",
    )
    with pytest.raises(ImportFileError, match=r"list.csv:2: template_id: .* no template"):
        await import_rows(any_store, RowSource.open(path, None, SENDERS))
    async with any_store.writer() as writer:
        await writer.add_template(ConsentTemplate("ogiya", "mailform", 0, "メルマガを受け取る"))
    result = await import_rows(any_store, RowSource.open(path, None, SENDERS))
    assert result.consents == 1
    (event,) = (await any_store.history("mori@example.jp")).consents
    assert (event.template_id, event.template_version) == ("mailform", 1)


def test_bytes_that_are_not_utf8_are_a_bad_row_on_their_line(tmp_path: Path) -> None:
    csv_path, jsonl_path = tmp_path / "list.csv", tmp_path / "list.jsonl"
    csv_path.write_bytes(
        b"sender,address,basis,obtained_at,method\n"
        b"ogiya,card@example.jp,notified,2026-10-05T15:30:00+09:00,\x96\xbc\x8e\xe6\n"
    )
    jsonl_path.write_bytes(b'{"sender": "ogiya", "method": "\x96\xbc\x8e\xe6"}\n')
    assert faults(csv_path) == [f"{csv_path}:2: method: not UTF-8 text"]
    assert faults(jsonl_path) == [f"{jsonl_path}:1: not UTF-8 text"]


async def test_addresses_outside_rfc_5321_are_bad_rows_and_never_stored(
    any_store: ConsentStore, tmp_path: Path
) -> None:
    """The audit of issue 4 found these imported (and exported) as addresses."""
    garbage = {
        "a@x.jp;b@y.jp": "'@' at position 2: a list of addresses: give one address",
        "a@x.jp,b@y.jp": "'@' at position 2: a list of addresses: give one address",
        "d@@example.jp": "'@' at position 2: a second '@' (quote the local part if it really"
        " holds one)",
        "mailto:z@x.jp": "':' at position 7: a 'mailto:' URI: give the address alone",
        "<a@x.jp": "'<' at position 1: an angle bracket: '<' and '>' may only enclose the"
        " whole address",
        "(comment)a@x.jp": "'(' at position 1: a comment: SMTP addresses carry none"
        " (RFC 5321 4.1.2)",
    }
    path = tmp_path / "list.csv"
    lines = ["sender,address,basis,obtained_at,method"]
    lines += [f'ogiya,"{a}",notified,2026-10-05T15:30:00+09:00,card' for a in garbage]
    lines.append('ogiya,"""yoshida""@Example.JP",notified,2026-10-05T15:30:00+09:00,card')
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert faults(path) == [
        f"{path}:{n}: address: {a!r} is not an e-mail address: {why}"
        for n, (a, why) in enumerate(garbage.items(), start=2)
    ]
    result = await import_rows(any_store, RowSource.open(path, None, SENDERS), skip_bad=True)
    assert (result.rows, result.skipped) == (1, len(garbage))
    # the one good row, in the least-quoted form (RFC 5321 4.1.2)
    exported = [row async for row in any_store.export("ogiya")]
    assert [row.consent.address for row in exported if row.consent] == ["yoshida@example.jp"]


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    for fmt in (None, "csv"):
        with pytest.raises(ImportFileError) as caught:
            RowSource.open(tmp_path, fmt, SENDERS)
        assert str(caught.value) == f"{tmp_path}: cannot read: it is a directory, not a file"
    with pytest.raises(ImportFileError, match="cannot read: no such file"):
        RowSource.open(tmp_path / "none.csv", None, SENDERS)


def test_times_in_the_future_are_bad_rows_on_their_line(tmp_path: Path) -> None:
    """A consent or an opt-out dated after the import proves nothing (K1): a typo or a
    wrong clock. CLOCK_SKEW (24 hours) of difference between clocks is allowed."""
    now = datetime(2026, 12, 4, 12, 0, tzinfo=JST)
    path = tmp_path / "list.csv"
    path.write_text(
        "kind,sender,address,basis,obtained_at,method,opted_out_at\n"
        "consent,ogiya,a@example.jp,consent,2099-04-01T00:00:00+09:00,web form,\n"
        "consent,ogiya,b@example.jp,consent,2026-12-05T12:00:00+09:00,web form,\n"
        "consent,ogiya,c@example.jp,consent,2026-12-05T12:00:01+09:00,web form,\n"
        "optout,ogiya,d@example.jp,,,,2099-04-01T00:00:00+09:00\n"
        "consent,ogiya,e@example.jp,consent,2026-12-01T00:00:00+09:00,web form,"
        "2099-04-01T00:00:00+09:00\n",
        "utf-8",
    )
    rows = list(RowSource.open(path, None, SENDERS, now=now))
    clock = "this host's clock: 2026-12-04T12:00:00+09:00; 24 hours of clock difference"
    assert [r.message for r in rows if isinstance(r, BadRow)] == [
        f"{path}:2: obtained_at: 2099-04-01T00:00:00+09:00 is in the future ({clock} are allowed)",
        f"{path}:4: obtained_at: 2026-12-05T12:00:01+09:00 is in the future ({clock} are allowed)",
        f"{path}:5: opted_out_at: 2099-04-01T00:00:00+09:00 is in the future ({clock} are allowed)",
        f"{path}:6: opted_out_at: 2099-04-01T00:00:00+09:00 is in the future ({clock} are allowed)",
    ]
    (good,) = (r for r in rows if isinstance(r, Row))
    assert [e.address for e in good.consents] == ["b@example.jp"]  # 24 hours ahead: allowed
