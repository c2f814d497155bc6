"""The embedded consent store: one SQLite file in WAL mode, one connection per process.

Lookups run on the event loop thread: a ten-address ``IN (...)`` query costs about
26 µs (DESIGN.md "What is fast here"), far less than handing it to a thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from gateway.address import normalize
from gateway.consent import Basis, ConsentRecord
from gateway.store import StoreError

# Applied in order; PRAGMA user_version counts how many a database has had.
# Never edit one that has shipped: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE consent (
        sender            TEXT NOT NULL,
        address           TEXT NOT NULL,
        basis             TEXT NOT NULL
                          CHECK (basis IN ('consent', 'notified', 'transaction', 'published')),
        refusal_displayed INTEGER NOT NULL DEFAULT 0 CHECK (refusal_displayed IN (0, 1)),
        obtained_at       TEXT,
        method            TEXT NOT NULL DEFAULT '',
        evidence          TEXT NOT NULL DEFAULT '',
        opted_out_at      TEXT,
        optout_method     TEXT NOT NULL DEFAULT '',
        updated_at        TEXT NOT NULL,
        PRIMARY KEY (sender, address)
    ) WITHOUT ROWID;
    CREATE INDEX consent_by_address ON consent (address);
    """,
)

CHUNK = 500  # bound parameters per IN (...); old SQLite builds allow only 999

_COLUMNS = (
    "sender, address, basis, refusal_displayed, obtained_at, method, evidence,"
    " opted_out_at, optout_method"
)

# An opt-out (O1) survives a re-import that does not mention it; only an opt-out
# of its own, or a consent obtained after the opt-out, replaces it.
_KEEP_OPTOUT = """
    consent.opted_out_at IS NOT NULL AND excluded.opted_out_at IS NULL
    AND (excluded.obtained_at IS NULL
         OR julianday(excluded.obtained_at) <= julianday(consent.opted_out_at))
"""

_UPSERT = f"""
    INSERT INTO consent ({_COLUMNS}, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sender, address) DO UPDATE SET
        basis = excluded.basis,
        refusal_displayed = excluded.refusal_displayed,
        obtained_at = excluded.obtained_at,
        method = excluded.method,
        evidence = excluded.evidence,
        opted_out_at = CASE WHEN {_KEEP_OPTOUT}
                       THEN consent.opted_out_at ELSE excluded.opted_out_at END,
        optout_method = CASE WHEN {_KEEP_OPTOUT}
                        THEN consent.optout_method ELSE excluded.optout_method END,
        updated_at = excluded.updated_at
"""

_Row = tuple[str, str, str, int, str | None, str, str, str | None, str]


class SqliteStore:
    """A :class:`gateway.store.ConsentStore` in one SQLite file."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        """Open (creating if needed) ``path``; wait up to ``timeout`` s for another writer."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the directory: {exc.strerror}") from None
        with self._errors("cannot open"):
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            with self._errors("cannot open"):
                self._db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
        except StoreError:
            self._db.close()
            raise

    async def lookup(self, sender: str, addresses: Sequence[str]) -> dict[str, ConsentRecord]:
        wanted = list(dict.fromkeys(addresses))
        found: dict[str, ConsentRecord] = {}
        with self._errors("lookup failed"):
            for i in range(0, len(wanted), CHUNK):
                chunk = wanted[i : i + CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM consent WHERE sender = ? AND address IN ({marks})",
                    (sender, *chunk),
                )
                for row in rows:
                    record = _record(row)
                    found[record.address] = record
        return found

    def add(self, records: Iterable[ConsentRecord]) -> int:
        """Upsert all ``records`` or none; addresses are normalised on the way in.

        A stored opt-out is kept when a record without one arrives, unless that
        record's consent was obtained after the opt-out (LAW.md O1).
        """
        count = 0
        now = datetime.now(UTC).isoformat()

        def rows() -> Iterator[tuple[object, ...]]:
            nonlocal count
            for r in records:
                count += 1
                yield (
                    r.sender,
                    normalize(r.address),
                    Basis(r.basis).value,
                    int(r.refusal_displayed),
                    _text(r.obtained_at),
                    r.method,
                    r.evidence,
                    _text(r.opted_out_at),
                    r.optout_method,
                    now,
                )

        with self._errors("cannot write"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_UPSERT, rows())
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return count

    def history(self, address: str) -> list[ConsentRecord]:
        with self._errors("lookup failed"):
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM consent WHERE address = ? ORDER BY sender", (address,)
            ).fetchall()
        return [_record(row) for row in rows]

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        """Bring the schema to ``len(MIGRATIONS)``; safe when several processes start at once."""
        if self._version() == len(MIGRATIONS):
            return
        self._db.execute("BEGIN IMMEDIATE")  # re-read the version under the write lock
        try:
            version = self._version()
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this tokuden knows"
                    f" ({len(MIGRATIONS)}); upgrade tokuden"
                )
            for sql in MIGRATIONS[version:]:
                for statement in _statements(sql):
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already undone it (disk full, I/O)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn every SQLite failure into StoreError naming the file, so callers answer 451."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {what}: {exc}") from exc


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (sqlite3.execute runs only one at a time)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()!r}")


def _text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()}: a stored time needs a UTC offset")
    return moment.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _record(row: _Row) -> ConsentRecord:
    sender, address, basis, refusal, obtained, method, evidence, opted_out, optout_method = row
    return ConsentRecord(
        sender=sender,
        address=address,
        basis=Basis(basis),
        obtained_at=_time(obtained),
        method=method,
        evidence=evidence,
        refusal_displayed=bool(refusal),
        opted_out_at=_time(opted_out),
        optout_method=optout_method,
    )
