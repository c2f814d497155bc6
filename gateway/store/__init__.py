"""The consent store contract, free of any backend, so PostgreSQL can follow SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from gateway.consent import ConsentRecord


class StoreError(Exception):
    """The store cannot answer (locked, corrupt, missing, full): the gateway replies 451."""


class ConsentStore(Protocol):
    """What the gateway, the opt-out service and the CLI need from a consent store."""

    async def lookup(self, sender: str, addresses: Sequence[str]) -> dict[str, ConsentRecord]:
        """The records of ``sender`` for the (normalised) addresses; absent ones are left out."""
        ...

    def add(self, records: Iterable[ConsentRecord]) -> int:
        """Upsert every record by (sender, address) in one transaction; return how many."""
        ...

    def history(self, address: str) -> list[ConsentRecord]:
        """Every sender's record for one (normalised) address, for ``consent show`` and K3."""
        ...

    def close(self) -> None: ...


def open_store(url: str) -> ConsentStore:
    """Open the store a ``[store] url`` names; ``sqlite:PATH`` creates the file and schema."""
    scheme, sep, rest = url.partition(":")
    if scheme == "sqlite" and sep and rest:
        from gateway.store.sqlite import SqliteStore

        return SqliteStore(Path(rest))
    raise StoreError(f"{url!r}: unsupported store URL (use sqlite:PATH)")
