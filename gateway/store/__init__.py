"""The consent store contract, free of any backend: SQLite (embedded) and PostgreSQL (shared).

Every method is async so that one gateway code path serves both; the SQLite
backend answers point lookups on the event loop (microseconds) and pushes
bulk work to a thread. Every backend failure surfaces as ``StoreError``: the
gateway then answers 451 and never passes a message unchecked.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gateway.consent import ConsentEvent, ConsentRecord, ConsentTemplate, OptOutEvent


class StoreError(Exception):
    """The store cannot answer (down, locked, corrupt, full): the gateway replies 451."""


@dataclass(frozen=True)
class MeasuresOrder:
    """A measures order (措置命令, Art. 7) a sender received: K2 retention grows to one year."""

    sender: str
    received_at: datetime
    note: str = ""


@dataclass(frozen=True)
class AddressHistory:
    """Everything on record for one address, all senders: what ``consent show`` prints (K3)."""

    address: str
    states: list[ConsentRecord] = field(default_factory=list)  # one per sender
    consents: list[ConsentEvent] = field(default_factory=list)  # oldest first
    optouts: list[OptOutEvent] = field(default_factory=list)  # oldest first


@dataclass(frozen=True)
class ExportRow:
    """One event of one sender, as handed to the authority (K3): consent rows carry the
    template wording they reference, so the export stands on its own."""

    kind: str  # "consent" or "optout"
    consent: ConsentEvent | None = None
    template: ConsentTemplate | None = None
    optout: OptOutEvent | None = None


@dataclass(frozen=True)
class PurgeCandidate:
    """A (sender, address) whose mail has stopped (opted out of everything), with what K2 needs."""

    sender: str
    address: str
    opted_out_at: datetime
    last_sent_at: datetime | None
    consent_events: int
    order_sent_at: datetime | None = None  # the last mail sent inside a measures order's year


@dataclass(frozen=True)
class StoreStats:
    senders: dict[str, dict[str, int]]  # sender → {"addresses", "consents", "optouts", ...}


# StoreStats per sender, in SQL both backends speak.
STATS_QUERIES = {
    "addresses": "SELECT sender, count(*) FROM consent_state GROUP BY sender",
    "consents": "SELECT sender, count(*) FROM consent_events GROUP BY sender",
    "optouts": "SELECT sender, count(*) FROM optout_events GROUP BY sender",
    "opted_out": "SELECT sender, count(*) FROM consent_state"
    " WHERE opted_out_at IS NOT NULL GROUP BY sender",
    "last_sent": "SELECT sender, count(*) FROM last_sent GROUP BY sender",
    "templates": "SELECT sender, count(*) FROM consent_templates GROUP BY sender",
    "measures_orders": "SELECT sender, count(*) FROM measures_orders GROUP BY sender",
}


class StoreWriter(Protocol):
    """One transaction: everything written through it lands together or not at all."""

    async def add_consents(self, events: Sequence[ConsentEvent]) -> None: ...

    async def add_optouts(self, events: Sequence[OptOutEvent]) -> None: ...

    async def add_template(self, template: ConsentTemplate) -> ConsentTemplate:
        """Store the wording as the next version of (sender, template_id); returns it versioned."""
        ...

    async def add_measures_order(self, order: MeasuresOrder) -> None:
        """Record the order; mail already recorded as sent inside its year is marked so."""
        ...


class ConsentStore(Protocol):
    """What the gateway and the CLI need from a consent store."""

    url: str  # for messages: where the store is (no password)
    sent_commits: int  # transactions record_sent has committed (group commit shows as fewer)

    async def lookup(self, sender: str, addresses: Sequence[str]) -> dict[str, ConsentRecord]:
        """The current state for ``sender`` of each (normalised) address; absent ones left out."""
        ...

    async def record_sent(self, sender: str, addresses: Sequence[str], when: datetime) -> None:
        """Note an advertising mail relayed to these addresses (K2's clock), and, when
        ``when`` falls in the year after one of the sender's measures orders, that too.

        Concurrent calls are group-committed into one transaction; the call returns
        once its rows are durable, so the gateway can answer 250 after it.
        """
        ...

    def writer(self) -> AbstractAsyncContextManager[StoreWriter]:
        """A transaction for imports and CLI changes; an exception inside rolls it all back."""
        ...

    async def history(self, address: str) -> AddressHistory: ...

    def export(self, sender: str) -> AsyncGenerator[ExportRow, None]:
        """Every event of one sender, consents then opt-outs, oldest first, streamed."""
        ...

    async def template(
        self, sender: str, template_id: str, version: int
    ) -> ConsentTemplate | None: ...

    async def measures_orders(self, sender: str) -> list[MeasuresOrder]: ...

    async def purge_candidates(self) -> list[PurgeCandidate]:
        """Every (sender, address) opted out of everything that still has consent events."""
        ...

    async def purge(self, pairs: Sequence[tuple[str, str]]) -> int:
        """Delete the consent events (not the opt-outs) of these (sender, address) pairs."""
        ...

    async def stats(self) -> StoreStats: ...

    async def close(self) -> None: ...


def location(url: str) -> str:
    """How the store ``url`` names itself at the start of its StoreError messages."""
    scheme, sep, rest = url.partition(":")
    if scheme == "sqlite" and sep and rest:
        return str(Path(rest))
    if scheme in ("postgresql", "postgres"):
        from gateway.store.postgres import shown_url

        return shown_url(url)
    return repr(url)


async def open_store(url: str) -> ConsentStore:
    """Open the store a ``[store] url`` names, creating the schema (migrations) if needed.

    ``sqlite:PATH`` — the embedded default, one file in WAL mode.
    ``postgresql://user@host:port/db`` — shared by several gateways (libpq URL).
    """
    scheme, sep, rest = url.partition(":")
    if scheme == "sqlite" and sep and rest:
        from gateway.store.sqlite import SqliteStore

        return await SqliteStore.open(Path(rest))
    if scheme in ("postgresql", "postgres"):
        from gateway.store.postgres import PostgresStore

        return await PostgresStore.open(url)
    raise StoreError(f"{url!r}: unsupported store URL (use sqlite:PATH or postgresql://…)")
