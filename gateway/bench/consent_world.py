"""The synthetic consent world of the benchmarks: N consent events for ten senders.

Shared by ``benchmarks/store_bench.py`` (the store alone) and ``tokuden bench`` (the
gateway end to end). Row ``i`` is a pure function of ``i``, so a benchmark knows which
addresses are on record, for whom, on which basis, without reading the store back.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from gateway.consent import ALL_TOPICS, Basis, ConsentEvent, ConsentTemplate, OptOutEvent
from gateway.store import StoreWriter

SENDERS = tuple(f"bench{i:02d}" for i in range(10))
OPTOUT_EVERY = 100  # one address in a hundred has also opted out (alternately all, one topic)
TOPICS: tuple[tuple[str, ...], ...] = ((), (), ("sale",), ("news", "sale"), ())
BASES = (Basis.CONSENT,) * 7 + (Basis.NOTIFIED, Basis.TRANSACTION, Basis.PUBLISHED)
METHODS = ("web form, checkbox at checkout", "paper form at the shop", "confirmation mail")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPREAD = 2 * 365 * 86400  # obtained_at spans two years


def address(i: int) -> str:
    """Row ``i``'s address, already normalised (lower-case ASCII)."""
    return f"user{i:08d}@mail{i % 997:03d}.example.jp"


def sender_of(i: int) -> str:
    return SENDERS[i % len(SENDERS)]


def present(rng: random.Random, rows: int, sender: int) -> int:
    """A row index whose address is on record for ``sender``."""
    n = len(SENDERS)
    return rng.randrange((rows - sender + n - 1) // n) * n + sender


def absent(rng: random.Random, rows: int, sender: int) -> int:
    """A row index not on record for ``sender``: another sender's address, or none at all."""
    if rng.random() < 0.5:
        return rows + rng.randrange(rows)
    other = (sender + 1 + rng.randrange(len(SENDERS) - 1)) % len(SENDERS)
    return present(rng, rows, other)


def consent_event(i: int, templates: dict[str, ConsentTemplate]) -> ConsentEvent:
    sender = sender_of(i)
    obtained = EPOCH + timedelta(seconds=(i * 7919) % SPREAD)
    template = templates.get(sender) if i % 2 else None
    basis = BASES[i % len(BASES)]
    return ConsentEvent(
        sender=sender,
        address=address(i),
        basis=basis,
        obtained_at=obtained,
        consignor="" if i % 3 else f"client{i % 7}",
        topics=TOPICS[i % len(TOPICS)],
        method=METHODS[i % len(METHODS)],
        evidence="" if template else f"order #{i}: ticked 'メルマガを受け取る' at checkout",
        template_id=template.template_id if template else None,
        template_version=template.version if template else None,
        collected_by="store_bench",
        refusal_displayed=basis is Basis.PUBLISHED and i % 20 == 9,
    )


def optout_event(i: int) -> OptOutEvent:
    return OptOutEvent(
        sender=sender_of(i),
        address=address(i),
        opted_out_at=EPOCH + timedelta(seconds=SPREAD + i % 86400),
        scope=ALL_TOPICS if (i // OPTOUT_EVERY) % 2 else "sale",
        channel="one-click",
        evidence=f"POST /unsubscribe token={i:x}",
    )


def batches(
    rows: int, size: int, templates: dict[str, ConsentTemplate]
) -> Iterator[tuple[list[ConsentEvent], list[OptOutEvent]]]:
    """The rows, generated batch by batch: never more than one batch in memory."""
    for start in range(0, rows, size):
        stop = min(rows, start + size)
        yield (
            [consent_event(i, templates) for i in range(start, stop)],
            [optout_event(i) for i in range(start, stop) if i % OPTOUT_EVERY == OPTOUT_EVERY - 1],
        )


async def add_templates(writer: StoreWriter) -> dict[str, ConsentTemplate]:
    """One consent template (K1 b) per sender; half of the rows cite it."""
    return {
        sender: await writer.add_template(
            ConsentTemplate(
                sender=sender,
                template_id="signup-form",
                version=0,
                wording="□ 今後、当店からの新商品などの情報のメルマガ配信を希望する"
                " (I want to receive the shop's newsletter)",
                channel="web form",
                created_at=EPOCH,
            )
        )
        for sender in SENDERS
    }


async def populate(writer: StoreWriter, rows: int, batch: int = 10_000) -> tuple[int, int]:
    """Write the ``rows`` consent events (and their opt-outs); returns (consents, opt-outs)."""
    templates = await add_templates(writer)
    consents = optouts = 0
    for events, stops in batches(rows, batch, templates):
        await writer.add_consents(events)
        if stops:
            await writer.add_optouts(stops)
        consents += len(events)
        optouts += len(stops)
    return consents, optouts
