"""The consent store contract, run against every backend (the ``any_store`` fixture).

Expected values come from LAW.md (C1-C4, K1-K3, O1) and the derived-state rules
of ``gateway.consent.ConsentRecord``, applied by hand to each test's events.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

import pytest

from gateway.consent import Basis, ConsentEvent, ConsentRecord, ConsentTemplate, OptOutEvent
from gateway.store import (
    ConsentStore,
    ExportRow,
    MeasuresOrder,
    PurgeCandidate,
    StoreError,
    open_store,
)

JST = timezone(timedelta(hours=9))
ADDR = "tanaka@example.jp"


def at(day: int, hour: int = 9) -> datetime:
    """A moment in 2026 (JST), so each test reads as a timeline."""
    return datetime(2026, 1, 1, hour, tzinfo=JST) + timedelta(days=day - 1)


def consent(
    day: int,
    address: str = ADDR,
    sender: str = "ogiya",
    basis: Basis = Basis.CONSENT,
    **fields: Any,
) -> ConsentEvent:
    return ConsentEvent(sender, address, basis, at(day), **fields)


def optout(day: int, address: str = ADDR, sender: str = "ogiya", **fields: str) -> OptOutEvent:
    return OptOutEvent(sender, address, at(day), **fields)


async def add(store: ConsentStore, *events: ConsentEvent | OptOutEvent) -> None:
    """Write ``events`` in the order given, in one transaction."""
    async with store.writer() as w:
        for event in events:
            if isinstance(event, ConsentEvent):
                await w.add_consents([event])
            else:
                await w.add_optouts([event])


async def state(store: ConsentStore, address: str = ADDR, sender: str = "ogiya") -> ConsentRecord:
    return (await store.lookup(sender, [address]))[address]


# -- lookups --------------------------------------------------------------------------


async def test_lookup_returns_only_the_addresses_on_record(any_store: ConsentStore) -> None:
    await add(any_store, consent(1, "a@example.jp"), consent(2, "b@example.jp"))
    got = await any_store.lookup("ogiya", ["a@example.jp", "nobody@example.jp", "b@example.jp"])
    assert sorted(got) == ["a@example.jp", "b@example.jp"]
    assert got["a@example.jp"].basis is Basis.CONSENT
    assert got["a@example.jp"].obtained_at == at(1)


async def test_consent_belongs_to_one_sender(any_store: ConsentStore) -> None:
    """LAW.md: consent given to shop A does not let shop B send."""
    await add(any_store, consent(1, sender="ogiya"))
    assert await any_store.lookup("minato", [ADDR]) == {}


async def test_lookup_of_many_recipients_finds_every_address(any_store: ConsentStore) -> None:
    addresses = [f"user{i}@example.jp" for i in range(1207)]
    async with any_store.writer() as w:
        await w.add_consents([consent(1, a) for a in addresses])
    got = await any_store.lookup("ogiya", [*addresses, "nobody@example.jp"])
    assert sorted(got) == sorted(addresses)


async def test_addresses_with_quotes_commas_and_braces_are_looked_up_and_recorded(
    any_store: ConsentStore,
) -> None:
    """Quoted local parts (RFC 5321 4.1.2) may hold what array and SQL syntax use."""
    odd = ['"a\\"b"@example.jp', '"a\\\\b"@example.jp', '"a,b"@example.jp', "{x}@example.jp",
           '"a b"@example.jp', "o'brien@example.jp", "はなこ@example.jp"]  # fmt: skip
    await add(any_store, *(consent(1, a, topics=("sale", "news")) for a in odd))
    await any_store.record_sent("ogiya", odd, at(3))
    got = await any_store.lookup("ogiya", [*odd, "a@example.jp"])
    assert sorted(got) == sorted(odd)
    for address, record in got.items():
        assert (record.address, record.topics, record.last_sent_at) == (
            address,
            ("sale", "news"),
            at(3),
        )


async def test_every_field_of_the_latest_consent_is_the_state(any_store: ConsentStore) -> None:
    event = consent(
        1,
        basis=Basis.NOTIFIED,
        method="business card handed over at a trade fair",
        evidence="名刺交換 2026-01-01 東京ビッグサイト",
        topics=("sale", "news"),
    )
    await add(any_store, event)
    got = await state(any_store)
    assert got == ConsentRecord(
        "ogiya",
        ADDR,
        Basis.NOTIFIED,
        obtained_at=at(1),
        method="business card handed over at a trade fair",
        evidence="名刺交換 2026-01-01 東京ビッグサイト",
        topics=("sale", "news"),
    )
    assert got.obtained_at is not None and got.obtained_at.utcoffset() is not None


# -- derived state (ConsentRecord's rules) -----------------------------------------------


async def test_latest_consent_gives_the_basis_whatever_the_order_written(
    any_store: ConsentStore,
) -> None:
    await add(
        any_store,
        consent(5, basis=Basis.TRANSACTION, method="customer"),
        consent(1, basis=Basis.NOTIFIED, method="card"),
    )
    got = await state(any_store)
    assert (got.basis, got.obtained_at, got.method) == (Basis.TRANSACTION, at(5), "customer")


async def test_optout_after_the_latest_consent_stops_everything(any_store: ConsentStore) -> None:
    await add(any_store, consent(1), optout(3, channel="one-click"))
    got = await state(any_store)
    assert got.opted_out_at == at(3)
    assert got.optout_method == "one-click"
    assert got.basis is Basis.CONSENT  # the record stays: K1 evidence until purged
    assert got.barred_by() == "O1"
    assert got.barred_by("sale") == "O1"


async def test_consent_obtained_after_the_optout_lifts_it(any_store: ConsentStore) -> None:
    """The recipient subscribed again."""
    await add(any_store, consent(1), optout(3), consent(7, method="web form again"))
    got = await state(any_store)
    assert got.opted_out_at is None
    assert got.method == "web form again"
    assert got.barred_by() is None


async def test_optout_made_before_the_latest_consent_does_not_stop(
    any_store: ConsentStore,
) -> None:
    """An old opt-out imported after a newer consent: the consent came later, it stands."""
    await add(any_store, consent(7), optout(3))
    got = await state(any_store)
    assert got.opted_out_at is None
    assert got.barred_by() is None


async def test_an_older_consent_written_late_does_not_lift_an_optout(
    any_store: ConsentStore,
) -> None:
    await add(any_store, consent(5), optout(6), consent(2))
    got = await state(any_store)
    assert (got.obtained_at, got.opted_out_at) == (at(5), at(6))
    assert got.barred_by() == "O1"


async def test_a_consent_between_two_optouts_is_stopped_by_the_later_one(
    any_store: ConsentStore,
) -> None:
    """Opt-outs on days 3 and 9 written first, then a consent of day 6: day 9 stops it."""
    await add(any_store, optout(3), optout(9), consent(6))
    got = await state(any_store)
    assert got.opted_out_at == at(9)
    assert got.barred_by() == "O1"


async def test_optout_alone_is_on_record_without_a_basis(any_store: ConsentStore) -> None:
    await add(any_store, optout(2, channel="complaint"))
    got = await state(any_store)
    assert got.basis is None
    assert got.opted_out_at == at(2)
    assert got.barred_by() == "O1"


async def test_topic_optout_stops_that_topic_only(any_store: ConsentStore) -> None:
    await add(any_store, consent(1), optout(2, scope="news", channel="web page"))
    got = await state(any_store)
    assert got.optout_topics == frozenset({"news"})
    assert got.opted_out_at is None
    assert got.barred_by("news") == "O1"
    assert got.barred_by("sale") is None
    assert got.barred_by() is None


async def test_topic_optout_before_the_latest_consent_is_lifted(any_store: ConsentStore) -> None:
    await add(any_store, consent(1), optout(2, scope="news"), optout(4, scope="sale"), consent(3))
    got = await state(any_store)
    assert got.optout_topics == frozenset({"sale"})
    assert got.barred_by("news") is None
    assert got.barred_by("sale") == "O1"


async def test_consent_to_some_topics_covers_only_those(any_store: ConsentStore) -> None:
    await add(any_store, consent(1, topics=("sale",)))
    got = await state(any_store)
    assert got.topics == ("sale",)
    assert got.barred_by("sale") is None
    assert got.barred_by("news") == "C1"


async def test_published_address_with_a_refusal_is_barred_by_c4(any_store: ConsentStore) -> None:
    await add(
        any_store,
        consent(1, "info@a.example.jp", basis=Basis.PUBLISHED, refusal_displayed=True),
        consent(1, "info@b.example.jp", basis=Basis.PUBLISHED),
    )
    got = await any_store.lookup("ogiya", ["info@a.example.jp", "info@b.example.jp"])
    assert got["info@a.example.jp"].refusal_displayed is True
    assert got["info@a.example.jp"].barred_by() == "C4"
    assert got["info@b.example.jp"].barred_by() is None


# -- when events take effect: out of order, or dated in the future ----------------------


async def test_a_consent_dated_in_the_future_counts_from_its_recording(
    any_store: ConsentStore,
) -> None:
    """A consent dated 2099 (a typo, a shop's clock) cannot outrank an opt-out the store
    receives after it: O1 holds, and the history keeps the date as given (K1)."""
    future = ConsentEvent(
        "ogiya", ADDR, Basis.CONSENT, datetime(2099, 4, 1, tzinfo=JST), method="web form"
    )
    await add(any_store, future)
    (kept,) = (await any_store.history(ADDR)).consents
    assert kept == future and kept.obtained_at == datetime(2099, 4, 1, tzinfo=JST)
    assert kept.recorded_at is not None and kept.recorded_at <= datetime.now(UTC)
    assert (await state(any_store)).obtained_at == kept.recorded_at  # when it took effect
    assert (await state(any_store)).barred_by() is None
    await add(any_store, OptOutEvent("ogiya", ADDR, datetime.now(UTC), channel="phone"))
    assert (await state(any_store)).barred_by() == "O1"


async def test_an_optout_dated_in_the_future_counts_from_its_recording(
    any_store: ConsentStore,
) -> None:
    """The same rule the other way: a consent obtained after such an opt-out was recorded
    is a subscription made after it, and lifts it."""
    await add(any_store, consent(1), OptOutEvent("ogiya", ADDR, datetime(2099, 4, 1, tzinfo=JST)))
    assert (await state(any_store)).barred_by() == "O1"
    await add(any_store, ConsentEvent("ogiya", ADDR, Basis.CONSENT, datetime.now(UTC)))
    assert (await state(any_store)).barred_by() is None


async def test_events_written_in_any_order_count_at_their_own_times(
    any_store: ConsentStore,
) -> None:
    """Past events take effect when they happened, whatever order they arrive in: the
    same four events written in two orders give the same state."""
    events = [consent(1), optout(4, channel="reply"), consent(6, method="again"), optout(9)]
    other = "other@example.jp"
    await add(any_store, *events)
    await add(any_store, *(replace(e, address=other) for e in reversed(events)))
    first, second = await state(any_store), await state(any_store, other)
    assert (first.obtained_at, first.method, first.opted_out_at) == (at(6), "again", at(9))
    assert (second.obtained_at, second.method, second.opted_out_at) == (at(6), "again", at(9))


# -- events are the record ------------------------------------------------------------


async def test_history_keeps_every_event_after_newer_ones(any_store: ConsentStore) -> None:
    events = [
        consent(1, method="paper form"),
        optout(3, channel="reply", evidence="Message-ID: <r1@example.jp>"),
        consent(7, method="web form"),
        consent(2, sender="minato", basis=Basis.TRANSACTION),
    ]
    await add(any_store, *events)
    await add(any_store, consent(1, "other@example.jp"))
    history = await any_store.history(ADDR)
    assert history.address == ADDR
    assert history.consents == [events[0], events[3], events[2]]  # oldest first
    assert history.optouts == [events[1]]
    assert [(s.sender, s.basis, s.opted_out) for s in history.states] == [
        ("minato", Basis.TRANSACTION, False),
        ("ogiya", Basis.CONSENT, False),
    ]
    empty = await any_store.history("nobody@example.jp")
    assert (empty.states, empty.consents, empty.optouts) == ([], [], [])


async def test_exception_inside_the_writer_writes_nothing(any_store: ConsentStore) -> None:
    with pytest.raises(RuntimeError, match="row 3 is bad"):
        async with any_store.writer() as w:
            await w.add_template(ConsentTemplate("ogiya", "form", 0, "wording"))
            await w.add_consents([consent(1, "a@example.jp"), consent(1, "b@example.jp")])
            await w.add_optouts([optout(2, "a@example.jp")])
            await w.add_measures_order(MeasuresOrder("ogiya", at(1)))
            raise RuntimeError("row 3 is bad")
    assert await any_store.lookup("ogiya", ["a@example.jp", "b@example.jp"]) == {}
    assert (await any_store.history("a@example.jp")).optouts == []
    assert await any_store.template("ogiya", "form", 1) is None
    assert await any_store.measures_orders("ogiya") == []
    assert (await any_store.stats()).senders == {}


async def test_a_time_without_offset_fails_the_batch(any_store: ConsentStore) -> None:
    naive = ConsentEvent("ogiya", "b@example.jp", Basis.CONSENT, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="UTC offset"):
        async with any_store.writer() as w:
            await w.add_consents([consent(1, "a@example.jp"), naive])
    assert await any_store.lookup("ogiya", ["a@example.jp", "b@example.jp"]) == {}


async def test_templates_are_versioned_per_sender_and_id(any_store: ConsentStore) -> None:
    async with any_store.writer() as w:
        v1 = await w.add_template(ConsentTemplate("ogiya", "form", 0, "メルマガを希望する"))
        v2 = await w.add_template(
            ConsentTemplate("ogiya", "form", 0, "新商品のお知らせを希望する", channel="web form")
        )
        other_id = await w.add_template(ConsentTemplate("ogiya", "card", 0, "名刺"))
        other_sender = await w.add_template(ConsentTemplate("minato", "form", 0, "港"))
    assert [v1.version, v2.version, other_id.version, other_sender.version] == [1, 2, 1, 1]
    got = await any_store.template("ogiya", "form", 2)
    assert got is not None
    assert (got.wording, got.channel, got.version) == ("新商品のお知らせを希望する", "web form", 2)
    assert got.created_at is not None and got.created_at.utcoffset() is not None
    assert (await any_store.template("ogiya", "form", 1)) == v1
    assert await any_store.template("ogiya", "form", 3) is None


async def test_consent_naming_an_unknown_template_is_refused(any_store: ConsentStore) -> None:
    """K1(b): a reference must lead to the wording, or the export could not prove it."""
    with pytest.raises(StoreError):
        async with any_store.writer() as w:
            await w.add_consents([consent(1, template_id="form", template_version=1)])
    assert await any_store.lookup("ogiya", [ADDR]) == {}


async def test_export_carries_each_consents_wording(any_store: ConsentStore) -> None:
    """K3: one sender's record stands on its own, consents then opt-outs, oldest first."""
    async with any_store.writer() as w:
        v1 = await w.add_template(ConsentTemplate("ogiya", "form", 0, "メルマガを希望する"))
        v2 = await w.add_template(ConsentTemplate("ogiya", "form", 0, "新商品のお知らせを希望する"))
    new = consent(4, "b@example.jp", template_id="form", template_version=2)
    old = consent(2, "a@example.jp", template_id="form", template_version=1)
    card = consent(3, "c@example.jp", basis=Basis.NOTIFIED, evidence="名刺")
    stop = optout(5, "a@example.jp", channel="one-click")
    topic = optout(1, "c@example.jp", scope="news")
    await add(any_store, new, old, card, stop, topic, consent(1, "a@example.jp", sender="minato"))
    rows = [row async for row in any_store.export("ogiya")]
    assert rows == [
        ExportRow("consent", consent=old, template=v1),
        ExportRow("consent", consent=card),
        ExportRow("consent", consent=new, template=v2),
        ExportRow("optout", optout=topic),
        ExportRow("optout", optout=stop),
    ]
    assert [row async for row in any_store.export("nobody")] == []


async def test_measures_orders_per_sender_oldest_first(any_store: ConsentStore) -> None:
    later = MeasuresOrder("ogiya", at(40), note="総務省 措置命令 第2号")
    earlier = MeasuresOrder("ogiya", at(3))
    async with any_store.writer() as w:
        await w.add_measures_order(later)
        await w.add_measures_order(earlier)
        await w.add_measures_order(MeasuresOrder("minato", at(5)))
    assert await any_store.measures_orders("ogiya") == [earlier, later]
    assert await any_store.measures_orders("nobody") == []


# -- last advertising mail sent (K2's clock) ---------------------------------------------


@runtime_checkable
class CountsSentCommits(Protocol):
    sent_commits: int  # transactions record_sent has committed


async def test_concurrent_record_sent_share_commits_and_each_sees_its_rows(
    any_store: ConsentStore,
) -> None:
    """Group commit: 200 callers at once take fewer transactions than callers, and each
    caller's rows are visible (committed) as soon as its own await returns."""
    assert isinstance(any_store, CountsSentCommits)
    addresses = [f"user{i}@example.jp" for i in range(200)]
    async with any_store.writer() as w:
        await w.add_consents([consent(1, a) for a in addresses])
    before = any_store.sent_commits

    async def send(i: int) -> datetime | None:
        when = at(10) + timedelta(seconds=i)
        await any_store.record_sent("ogiya", [addresses[i]], when)
        seen = (await any_store.lookup("ogiya", [addresses[i]]))[addresses[i]].last_sent_at
        assert seen == when
        return seen

    seen = await asyncio.gather(*(send(i) for i in range(200)))
    assert len(seen) == 200
    assert 1 <= any_store.sent_commits - before < 200


async def test_last_sent_keeps_the_latest_time(any_store: ConsentStore) -> None:
    await add(any_store, consent(1, "a@example.jp"), consent(1, "b@example.jp"))
    await any_store.record_sent("ogiya", ["a@example.jp", "b@example.jp"], at(20))
    await any_store.record_sent("ogiya", ["a@example.jp"], at(10))  # a late, older report
    await any_store.record_sent("minato", ["a@example.jp"], at(30))
    got = await any_store.lookup("ogiya", ["a@example.jp", "b@example.jp"])
    assert got["a@example.jp"].last_sent_at == at(20)
    assert got["b@example.jp"].last_sent_at == at(20)


async def test_last_sent_remembers_the_last_mail_inside_a_measures_order_year(
    any_store: ConsentStore,
) -> None:
    """K2: mail sent within a year after a measures order makes the period one year, even
    if mail after that year followed. The order's year runs to the end of the Japanese
    day a year after receipt: received on 3 Jan 2026, it covers mail until 4 Jan 2027 00:00."""
    inside, after, early, other = (f"{n}@example.jp" for n in ("inside", "after", "early", "x"))
    await any_store.record_sent("ogiya", [early], at(2))  # before the order was received
    await any_store.record_sent("ogiya", [early, other], at(4))  # recorded before the order
    async with any_store.writer() as w:
        await w.add_measures_order(MeasuresOrder("ogiya", at(3)))
        await w.add_measures_order(MeasuresOrder("minato", at(1)))
    await any_store.record_sent("ogiya", [inside, after], at(10))
    await any_store.record_sent("ogiya", [inside], at(20))
    last_day = datetime(2027, 1, 3, 23, 59, tzinfo=JST)
    await any_store.record_sent("ogiya", [inside], last_day)
    await any_store.record_sent("ogiya", [after], datetime(2027, 1, 4, 0, 0, tzinfo=JST))
    await any_store.record_sent("ogiya", [after], at(369))
    await any_store.record_sent("ogiya", [after], at(15))  # a late, older report
    await any_store.record_sent("minato", [other], at(400))  # minato's year is over
    await add(any_store, *(consent(1, a) for a in (inside, after, early, other)))
    await add(any_store, *(optout(300, a) for a in (inside, after, early, other)))
    await add(any_store, consent(1, other, sender="minato"), optout(300, other, sender="minato"))
    got = {(c.sender, c.address): c for c in await any_store.purge_candidates()}
    assert {k: (c.last_sent_at, c.order_sent_at) for k, c in got.items()} == {
        ("ogiya", inside): (last_day, last_day),
        ("ogiya", after): (at(369), at(15)),
        ("ogiya", early): (at(4), at(4)),  # marked when the order was recorded
        ("ogiya", other): (at(4), at(4)),
        ("minato", other): (at(400), None),
    }


# -- retention (K2) and purge ----------------------------------------------------------


async def test_purge_removes_consents_of_stopped_addresses_and_keeps_optouts(
    any_store: ConsentStore,
) -> None:
    stopped, subscribed, topic_only, optout_only, back = (
        f"{name}@example.jp" for name in ("stopped", "subscribed", "topic", "optout", "back")
    )
    await add(
        any_store,
        consent(1, stopped, basis=Basis.NOTIFIED),
        consent(2, stopped),
        optout(5, stopped, channel="web page"),
        consent(1, subscribed),
        consent(1, topic_only),
        optout(2, topic_only, scope="news"),
        optout(2, optout_only),
        consent(1, back),
        optout(2, back),
        consent(3, back),
    )
    await any_store.record_sent("ogiya", [stopped], at(4))
    assert await any_store.purge_candidates() == [
        PurgeCandidate("ogiya", stopped, opted_out_at=at(5), last_sent_at=at(4), consent_events=2)
    ]
    # Only a pair still opted out of everything loses its consents.
    assert await any_store.purge([("ogiya", stopped), ("ogiya", subscribed)]) == 2
    assert await any_store.purge_candidates() == []
    history = await any_store.history(stopped)
    assert history.consents == []
    assert history.optouts == [optout(5, stopped, channel="web page")]
    (record,) = history.states
    assert (record.basis, record.evidence, record.opted_out_at) == (None, "", at(5))
    assert record.last_sent_at == at(4)
    assert record.barred_by() == "O1"
    assert (await state(any_store, subscribed)).basis is Basis.CONSENT


async def test_stats_count_per_sender(any_store: ConsentStore) -> None:
    async with any_store.writer() as w:
        await w.add_template(ConsentTemplate("ogiya", "form", 0, "a"))
        await w.add_template(ConsentTemplate("ogiya", "form", 0, "b"))
        await w.add_consents(
            [consent(1, "a@example.jp"), consent(2, "a@example.jp"), consent(1, "b@example.jp")]
        )
        await w.add_optouts([optout(3, "a@example.jp"), optout(3, "c@example.jp", scope="news")])
        await w.add_optouts([optout(1, "z@example.jp", sender="minato")])
        await w.add_measures_order(MeasuresOrder("minato", at(1)))
    await any_store.record_sent("ogiya", ["b@example.jp"], at(4))
    assert (await any_store.stats()).senders == {
        "ogiya": {
            "addresses": 3,
            "consents": 3,
            "optouts": 2,
            "opted_out": 1,
            "last_sent": 1,
            "templates": 2,
            "measures_orders": 0,
        },
        "minato": {
            "addresses": 1,
            "consents": 0,
            "optouts": 1,
            "opted_out": 1,
            "last_sent": 0,
            "templates": 0,
            "measures_orders": 1,
        },
    }


# -- failure is StoreError: the gateway answers 451 ---------------------------------------


async def test_a_closed_store_fails_with_store_error(store_url: str) -> None:
    store = await open_store(store_url)
    await store.close()
    with pytest.raises(StoreError):
        await store.lookup("ogiya", [ADDR])
    with pytest.raises(StoreError):
        await store.record_sent("ogiya", [ADDR], at(1))
    with pytest.raises(StoreError):
        async with store.writer() as w:
            await w.add_consents([consent(1)])
