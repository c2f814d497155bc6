"""The embedded consent store: one SQLite file in WAL mode.

Events are the record (append-only tables, guarded by triggers); the current
state per (sender, address) lives in ``consent_state`` and is derived by
triggers on every event insert, so it changes in the same transaction as the
event whatever writes it (the store, a migration, an operator's sqlite3 shell).

Connections, and why:

* one **read** connection, used on the event loop thread once the migrations
  (run on a thread at open) are done: a lookup is one ``IN (...)`` query of a
  few µs (DESIGN.md "What is fast here"), far cheaper than a hop to a thread.
  In WAL mode readers never wait for writers.
* one **sent** connection for ``record_sent``, owned by one long-lived thread:
  concurrent callers queue their rows on the loop, and whenever the thread is
  free it gets everything queued so far as one transaction (group commit) with
  ``synchronous=FULL``, so the WAL is fsynced before any caller's await returns
  — the gateway's 250 needs the row durable. While one batch is being fsynced
  the next one collects, and lookups keep running on the loop. A thread of its
  own, fed by a SimpleQueue and answering with ``call_soon_threadsafe``, hands a
  batch over for about half the CPU of ``asyncio.to_thread`` (no executor, no
  chained futures), and a batch is one statement, so the thread takes the GIL
  back once per commit, not after every step (benchmarks/README.md).
* a fresh connection per ``writer()``, ``export`` and bulk read, used from
  worker threads: imports hold one long transaction and must not mix with the
  gateway's last-sent batches. SQLite allows one writer at a time per file, so
  a long import makes ``record_sent`` wait up to ``busy_timeout`` seconds and
  then fail with StoreError (the gateway answers 451 and the client retries).

Times are stored as fixed-width ISO-8601 UTC text, so text order is time order
and SQL ``max()``/``>=`` compare instants.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.consent import Basis, ConsentEvent, ConsentRecord, ConsentTemplate, OptOutEvent
from gateway.retention import order_year_end
from gateway.store import (
    STATS_QUERIES,
    AddressHistory,
    ExportRow,
    MeasuresOrder,
    PurgeCandidate,
    StoreError,
    StoreStats,
)

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
    # Events, templates, derived state, last-sent and measures orders. Each row of
    # schema 1's ``consent`` becomes a consent event (obtained_at unknown: the time
    # it was imported, the latest it can have been obtained) plus an opt-out event
    # when it had one. The state is derived by the triggers, then every opt-out the
    # gateway enforced before is put back, so an upgrade never lifts one (O1) even
    # when the old row's consent date was later than its opt-out. The old table is
    # dropped: every field of it but ``updated_at`` now lives in the events, and a
    # copy nobody writes would only drift from them.
    """
    CREATE TABLE consent_templates (
        sender      TEXT NOT NULL,
        template_id TEXT NOT NULL,
        version     INTEGER NOT NULL CHECK (version > 0),
        wording     TEXT NOT NULL,
        channel     TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        PRIMARY KEY (sender, template_id, version)
    ) WITHOUT ROWID;

    CREATE TABLE consent_events (
        id                INTEGER PRIMARY KEY,
        sender            TEXT NOT NULL,
        address           TEXT NOT NULL,
        basis             TEXT NOT NULL
                          CHECK (basis IN ('consent', 'notified', 'transaction', 'published')),
        obtained_at       TEXT NOT NULL,
        consignor         TEXT NOT NULL DEFAULT '',
        topics            TEXT,
        method            TEXT NOT NULL DEFAULT '',
        evidence          TEXT NOT NULL DEFAULT '',
        template_id       TEXT,
        template_version  INTEGER,
        collected_by      TEXT NOT NULL DEFAULT '',
        refusal_displayed INTEGER NOT NULL DEFAULT 0 CHECK (refusal_displayed IN (0, 1)),
        CHECK ((template_id IS NULL) = (template_version IS NULL)),
        FOREIGN KEY (sender, template_id, template_version)
            REFERENCES consent_templates (sender, template_id, version)
    );
    CREATE INDEX consent_events_by_address ON consent_events (address, sender);
    CREATE INDEX consent_events_by_sender ON consent_events (sender, obtained_at);

    CREATE TABLE optout_events (
        id           INTEGER PRIMARY KEY,
        sender       TEXT NOT NULL,
        address      TEXT NOT NULL,
        opted_out_at TEXT NOT NULL,
        scope        TEXT NOT NULL DEFAULT '*' CHECK (scope <> ''),
        channel      TEXT NOT NULL DEFAULT '',
        evidence     TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX optout_events_by_address ON optout_events (address, sender);
    CREATE INDEX optout_events_by_sender ON optout_events (sender, opted_out_at);

    -- topics: JSON array of the latest consent's topics, NULL for all of them.
    -- opted_out_at: the latest opt-out of everything made at or after the latest
    -- consent (NULL: none). optout_topics: JSON object, topic -> the latest opt-out
    -- of that topic made at or after the latest consent (NULL: none).
    CREATE TABLE consent_state (
        sender            TEXT NOT NULL,
        address           TEXT NOT NULL,
        basis             TEXT,
        obtained_at       TEXT,
        method            TEXT NOT NULL DEFAULT '',
        evidence          TEXT NOT NULL DEFAULT '',
        refusal_displayed INTEGER NOT NULL DEFAULT 0,
        topics            TEXT,
        opted_out_at      TEXT,
        optout_method     TEXT NOT NULL DEFAULT '',
        optout_topics     TEXT,
        PRIMARY KEY (sender, address)
    ) WITHOUT ROWID;
    CREATE INDEX consent_state_by_address ON consent_state (address);

    CREATE TABLE last_sent (
        sender  TEXT NOT NULL,
        address TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (sender, address)
    ) WITHOUT ROWID;

    CREATE TABLE measures_orders (
        id          INTEGER PRIMARY KEY,
        sender      TEXT NOT NULL,
        received_at TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX measures_orders_by_sender ON measures_orders (sender, received_at);

    CREATE TRIGGER consent_templates_fixed BEFORE UPDATE ON consent_templates
    BEGIN SELECT RAISE(ABORT, 'consent templates are never changed: add a version'); END;
    CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
    CREATE TRIGGER optout_events_append_only BEFORE UPDATE ON optout_events
    BEGIN SELECT RAISE(ABORT, 'opt-out events are append-only'); END;
    CREATE TRIGGER optout_events_kept BEFORE DELETE ON optout_events
    BEGIN SELECT RAISE(ABORT, 'opt-out events are never deleted (O1)'); END;

    -- The latest consent gives the basis; it lifts the opt-outs made before it.
    CREATE TRIGGER consent_events_derive AFTER INSERT ON consent_events
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET
            basis = NEW.basis,
            obtained_at = NEW.obtained_at,
            method = NEW.method,
            evidence = NEW.evidence,
            refusal_displayed = NEW.refusal_displayed,
            topics = NEW.topics,
            opted_out_at = CASE WHEN opted_out_at >= NEW.obtained_at THEN opted_out_at END,
            optout_method = CASE WHEN opted_out_at >= NEW.obtained_at
                            THEN optout_method ELSE '' END,
            optout_topics = NULLIF(
                (SELECT json_group_object(key, value) FROM json_each(optout_topics)
                 WHERE value >= NEW.obtained_at), '{}')
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL OR NEW.obtained_at >= obtained_at);
    END;

    -- An opt-out at or after the latest consent stops everything (or one topic).
    CREATE TRIGGER optout_events_derive_all AFTER INSERT ON optout_events
    WHEN NEW.scope = '*'
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET opted_out_at = NEW.opted_out_at, optout_method = NEW.channel
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL OR NEW.opted_out_at >= obtained_at)
          AND (opted_out_at IS NULL OR NEW.opted_out_at >= opted_out_at);
    END;
    CREATE TRIGGER optout_events_derive_topic AFTER INSERT ON optout_events
    WHEN NEW.scope <> '*'
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET optout_topics = json_patch(
            COALESCE(optout_topics, '{}'), json_object(NEW.scope, NEW.opted_out_at))
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL OR NEW.opted_out_at >= obtained_at)
          AND NEW.opted_out_at >= COALESCE(
              (SELECT value FROM json_each(optout_topics) WHERE key = NEW.scope), '');
    END;

    -- Schema 1 stored times with their own offsets; to UTC, keeping the microseconds.
    CREATE TEMP TABLE consent_v1 AS SELECT
        sender, address, basis, refusal_displayed, method, evidence, optout_method,
        strftime('%Y-%m-%dT%H:%M:%S', COALESCE(obtained_at, updated_at))
            || CASE WHEN substr(COALESCE(obtained_at, updated_at), 20, 1) = '.'
               THEN substr(COALESCE(obtained_at, updated_at), 20, 7) ELSE '.000000' END
            || '+00:00' AS obtained_at,
        strftime('%Y-%m-%dT%H:%M:%S', opted_out_at)
            || CASE WHEN substr(opted_out_at, 20, 1) = '.'
               THEN substr(opted_out_at, 20, 7) ELSE '.000000' END
            || '+00:00' AS opted_out_at
    FROM consent;
    INSERT INTO consent_events
        (sender, address, basis, obtained_at, method, evidence, refusal_displayed)
    SELECT sender, address, basis, obtained_at, method, evidence, refusal_displayed
    FROM consent_v1;
    INSERT INTO optout_events (sender, address, opted_out_at, channel)
    SELECT sender, address, opted_out_at, optout_method FROM consent_v1
    WHERE opted_out_at IS NOT NULL;
    UPDATE consent_state SET opted_out_at = v1.opted_out_at, optout_method = v1.optout_method
    FROM consent_v1 AS v1
    WHERE v1.sender = consent_state.sender AND v1.address = consent_state.address
      AND v1.opted_out_at IS NOT NULL;
    DROP TABLE consent_v1;
    DROP TABLE consent;
    """,
    # When each event was recorded, and the state ordered by when events took effect:
    # an event's own time, or its recording if that came first (gateway.consent.
    # ConsentRecord). Events recorded before this migration have no recorded_at (NULL:
    # at their own time), except those dated after the upgrade: the upgrade is the
    # latest they can have been recorded, so they count from it, and the state's times
    # are brought back to it in the same way.
    """
    CREATE TEMP TABLE upgrade_clock AS
        SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00' AS now;
    ALTER TABLE consent_events ADD COLUMN recorded_at TEXT;
    ALTER TABLE optout_events ADD COLUMN recorded_at TEXT;
    DROP TRIGGER consent_events_append_only;
    DROP TRIGGER optout_events_append_only;
    UPDATE consent_events SET recorded_at = (SELECT now FROM upgrade_clock)
    WHERE obtained_at > (SELECT now FROM upgrade_clock);
    UPDATE optout_events SET recorded_at = (SELECT now FROM upgrade_clock)
    WHERE opted_out_at > (SELECT now FROM upgrade_clock);
    CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
    CREATE TRIGGER optout_events_append_only BEFORE UPDATE ON optout_events
    BEGIN SELECT RAISE(ABORT, 'opt-out events are append-only'); END;
    UPDATE consent_state SET
        obtained_at = CASE WHEN obtained_at > u.now THEN u.now ELSE obtained_at END,
        opted_out_at = CASE WHEN opted_out_at > u.now THEN u.now ELSE opted_out_at END,
        optout_topics = NULLIF((SELECT json_group_object(key, min(value, u.now))
                                FROM json_each(optout_topics)), '{}')
    FROM upgrade_clock AS u
    WHERE obtained_at > u.now OR opted_out_at > u.now
       OR EXISTS (SELECT 1 FROM json_each(optout_topics) WHERE value > u.now);
    DROP TABLE upgrade_clock;

    DROP TRIGGER consent_events_derive;
    DROP TRIGGER optout_events_derive_all;
    DROP TRIGGER optout_events_derive_topic;

    -- The latest consent gives the basis; it lifts the opt-outs that took effect before it.
    CREATE TRIGGER consent_events_derive AFTER INSERT ON consent_events
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET
            basis = NEW.basis,
            obtained_at = min(NEW.obtained_at, coalesce(NEW.recorded_at, NEW.obtained_at)),
            method = NEW.method,
            evidence = NEW.evidence,
            refusal_displayed = NEW.refusal_displayed,
            topics = NEW.topics,
            opted_out_at = CASE WHEN opted_out_at
                >= min(NEW.obtained_at, coalesce(NEW.recorded_at, NEW.obtained_at))
                THEN opted_out_at END,
            optout_method = CASE WHEN opted_out_at
                >= min(NEW.obtained_at, coalesce(NEW.recorded_at, NEW.obtained_at))
                THEN optout_method ELSE '' END,
            optout_topics = NULLIF(
                (SELECT json_group_object(key, value) FROM json_each(optout_topics)
                 WHERE value >= min(NEW.obtained_at, coalesce(NEW.recorded_at, NEW.obtained_at))),
                '{}')
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL
               OR min(NEW.obtained_at, coalesce(NEW.recorded_at, NEW.obtained_at))
                  >= obtained_at);
    END;

    -- An opt-out that took effect at or after the latest consent stops everything (or a topic).
    CREATE TRIGGER optout_events_derive_all AFTER INSERT ON optout_events
    WHEN NEW.scope = '*'
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET
            opted_out_at = min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at)),
            optout_method = NEW.channel
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL
               OR min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at))
                  >= obtained_at)
          AND (opted_out_at IS NULL
               OR min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at))
                  >= opted_out_at);
    END;
    CREATE TRIGGER optout_events_derive_topic AFTER INSERT ON optout_events
    WHEN NEW.scope <> '*'
    BEGIN
        INSERT INTO consent_state (sender, address) VALUES (NEW.sender, NEW.address)
            ON CONFLICT DO NOTHING;
        UPDATE consent_state SET optout_topics = json_patch(
            COALESCE(optout_topics, '{}'),
            json_object(NEW.scope,
                        min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at))))
        WHERE sender = NEW.sender AND address = NEW.address
          AND (obtained_at IS NULL
               OR min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at))
                  >= obtained_at)
          AND min(NEW.opted_out_at, coalesce(NEW.recorded_at, NEW.opted_out_at)) >= COALESCE(
              (SELECT value FROM json_each(optout_topics) WHERE key = NEW.scope), '');
    END;
    """,
    # K2: mail sent within a year after a measures order makes the period one year, even
    # when later mail followed: last_sent remembers the last mail inside such a year. The
    # year's end is kept with the order (gateway.retention.order_year_end computes it for
    # new ones; for those already here, the same JST day arithmetic in SQL, where 29
    # February + 1 year is 1 March: a day longer, never shorter).
    """
    ALTER TABLE last_sent ADD COLUMN order_sent_at TEXT;
    ALTER TABLE measures_orders ADD COLUMN year_end TEXT;
    UPDATE measures_orders SET year_end = strftime('%Y-%m-%dT%H:%M:%S', received_at,
        '+9 hours', 'start of day', '+1 years', '+1 days', '-9 hours') || '.000000+00:00';
    UPDATE last_sent SET order_sent_at = sent_at WHERE EXISTS (
        SELECT 1 FROM measures_orders AS m WHERE m.sender = last_sent.sender
          AND m.received_at <= last_sent.sent_at AND last_sent.sent_at < m.year_end);
    """,
)

T = TypeVar("T")

_BASES = {basis.value: basis for basis in Basis}  # Basis(text) costs 0.3 µs a call
_NO_TOPICS: frozenset[str] = frozenset()

CHUNK = 500  # bound parameters per IN (...); old SQLite builds allow only 999
FETCH = 1000  # rows per fetchmany while streaming an export

_STATE = """
    SELECT s.sender, s.address, s.basis, s.obtained_at, s.method, s.evidence,
           s.refusal_displayed, s.topics, s.opted_out_at, s.optout_method, s.optout_topics,
           l.sent_at
    FROM consent_state AS s
    LEFT JOIN last_sent AS l ON l.sender = s.sender AND l.address = s.address
"""
_TEMPLATE = (
    "SELECT sender, template_id, version, wording, channel, created_at FROM consent_templates"
)
_CONSENT_COLUMNS = (
    "sender, address, basis, obtained_at, consignor, topics, method, evidence,"
    " template_id, template_version, collected_by, refusal_displayed, recorded_at"
)
_OPTOUT_COLUMNS = "sender, address, opted_out_at, scope, channel, evidence, recorded_at"
_INSERT_CONSENT = f"INSERT INTO consent_events ({_CONSENT_COLUMNS}) VALUES ({', '.join('?' * 13)})"
_INSERT_OPTOUT = f"INSERT INTO optout_events ({_OPTOUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
# The latest mail of all, and the latest inside a measures order's year (K2), for any
# number of (sender, address, sent_at) rows in one statement: SENT_ROWS placeholders.
_UPSERT_SENT = """
    INSERT INTO last_sent (sender, address, sent_at, order_sent_at)
    SELECT v.column1, v.column2, v.column3,
           (SELECT v.column3 FROM measures_orders AS m WHERE m.sender = v.column1
            AND m.received_at <= v.column3 AND v.column3 < m.year_end LIMIT 1)
    FROM (VALUES SENT_ROWS) AS v WHERE true
    ON CONFLICT (sender, address) DO UPDATE SET
        sent_at = max(sent_at, excluded.sent_at),
        order_sent_at = coalesce(max(order_sent_at, excluded.order_sent_at),
                                 order_sent_at, excluded.order_sent_at)
"""
SENT_CHUNK = 300  # rows per statement: 900 parameters, under old SQLite builds' 999
_ADD_ORDER = "INSERT INTO measures_orders (sender, received_at, note, year_end) VALUES (?, ?, ?, ?)"
# Mail recorded before the order was: the last of it may already fall in the order's year.
_MARK_ORDER_YEAR = """
    UPDATE last_sent SET order_sent_at = sent_at
    WHERE sender = ?1 AND ?2 <= sent_at AND sent_at < ?3
      AND (order_sent_at IS NULL OR order_sent_at < sent_at)
"""
_ADD_TEMPLATE = """
    INSERT INTO consent_templates (sender, template_id, version, wording, channel, created_at)
    SELECT ?1, ?2, COALESCE(max(version), 0) + 1, ?3, ?4, ?5
    FROM consent_templates WHERE sender = ?1 AND template_id = ?2
    RETURNING version
"""
# Only a pair still opted out of everything loses its consents: a consent obtained
# since the candidates were listed (a new subscription) is never purged.
_PURGE_EVENTS = """
    DELETE FROM consent_events WHERE sender = ?1 AND address = ?2 AND EXISTS (
        SELECT 1 FROM consent_state
        WHERE sender = ?1 AND address = ?2 AND opted_out_at IS NOT NULL)
"""
_PURGE_STATE = """
    UPDATE consent_state SET basis = NULL, obtained_at = NULL, method = '', evidence = '',
        refusal_displayed = 0, topics = NULL
    WHERE sender = ? AND address = ? AND opted_out_at IS NOT NULL
"""


class SqliteStore:
    """A :class:`gateway.store.ConsentStore` in one SQLite file."""

    def __init__(
        self, path: Path, busy_timeout: float, read: sqlite3.Connection, sent: sqlite3.Connection
    ) -> None:
        """Use :meth:`open`: it creates the file and applies the migrations first."""
        self.path = path
        self.url = f"sqlite:{path}"
        self.busy_timeout = busy_timeout
        self.sent_commits = 0  # transactions record_sent has committed (group commit)
        self._read = read
        self._sent = sent
        self._queue: list[tuple[list[tuple[str, str, str]], asyncio.Future[None]]] = []
        self._sent_thread = _SentThread(path, sent)
        self._in_flight = False  # a batch is with the thread
        self._idle = asyncio.Event()  # nothing queued, nothing in flight
        self._idle.set()
        self._closed = False

    @classmethod
    async def open(cls, path: Path, busy_timeout: float = 5.0) -> SqliteStore:
        """Open (creating if needed) ``path``; wait up to ``busy_timeout`` s for another writer."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the directory: {exc.strerror}") from None
        opened: list[sqlite3.Connection] = []
        try:
            with _errors(path, "cannot open"):
                read = _connect(path, busy_timeout)
                opened.append(read)
                read.execute("PRAGMA journal_mode = WAL")
                await _to_thread_to_the_end(_migrate, read, path)
                sent = _connect(path, busy_timeout)
                opened.append(sent)
        except BaseException:
            for db in opened:
                db.close()
            raise
        return cls(path, busy_timeout, read, sent)

    async def lookup(self, sender: str, addresses: Sequence[str]) -> dict[str, ConsentRecord]:
        wanted = list(dict.fromkeys(addresses))
        found: dict[str, ConsentRecord] = {}
        with _errors(self.path, "lookup failed"):
            for i in range(0, len(wanted), CHUNK):
                chunk = wanted[i : i + CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = self._read.execute(
                    f"{_STATE} WHERE s.sender = ? AND s.address IN ({marks})", (sender, *chunk)
                )
                for row in rows:
                    found[row[1]] = _state(row)
        return found

    async def record_sent(self, sender: str, addresses: Sequence[str], when: datetime) -> None:
        if not addresses:
            return
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
        sent_at = _utc_text(when)
        done = asyncio.get_running_loop().create_future()
        self._queue.append(([(sender, a, sent_at) for a in addresses], done))
        self._idle.clear()
        if not self._in_flight:
            self._dispatch()
        await done

    def _dispatch(self) -> None:
        """Hand everything queued to the thread as one transaction (on the loop thread,
        which also builds the statements: the thread holds the GIL as little as it can)."""
        batch, self._queue = self._queue, []
        statements = _sent_statements([row for rows, _ in batch for row in rows])
        loop = asyncio.get_running_loop()
        self._in_flight = True

        def finished(error: BaseException | None) -> None:  # on the thread
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(self._finished, batch, error)

        self._sent_thread.commit(statements, finished)

    def _finished(
        self,
        batch: list[tuple[list[tuple[str, str, str]], asyncio.Future[None]]],
        error: BaseException | None,
    ) -> None:
        """The batch is durable (or failed): answer its callers, then send the next one —
        on the next turn of the loop, so that what the callers just woken do first (the
        next message's write, often) joins that batch instead of making one of its own."""
        if error is None:
            self.sent_commits += 1
        elif isinstance(error, sqlite3.Error | OSError):
            error = StoreError(f"{self.path}: cannot record the last mail sent: {error}")
        else:
            error = StoreError(f"{self.path}: last-sent write interrupted: {error!r}")
        for _, done in batch:
            if not done.done():
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
        asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        self._in_flight = False
        if self._queue:
            self._dispatch()
        else:
            self._idle.set()

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[_Writer]:
        db = await self._connect()
        try:
            await _on_thread(self.path, "cannot write", _run, db, "BEGIN IMMEDIATE")
            try:
                yield _Writer(self.path, db)
            except BaseException:
                await _on_thread(self.path, "cannot roll back", _rollback, db)
                raise
            await _on_thread(self.path, "cannot commit", _run, db, "COMMIT")
        finally:
            db.close()

    async def history(self, address: str) -> AddressHistory:
        with _errors(self.path, "lookup failed"):
            db = self._read
            states = db.execute(f"{_STATE} WHERE s.address = ? ORDER BY s.sender", (address,))
            records = [_state(r) for r in states]
            consents = db.execute(
                f"SELECT {_CONSENT_COLUMNS} FROM consent_events WHERE address = ?"
                " ORDER BY obtained_at, id",
                (address,),
            )
            consent_events = [_consent(r) for r in consents]
            optouts = db.execute(
                f"SELECT {_OPTOUT_COLUMNS} FROM optout_events WHERE address = ?"
                " ORDER BY opted_out_at, id",
                (address,),
            )
            return AddressHistory(address, records, consent_events, [_optout(r) for r in optouts])

    async def export(self, sender: str) -> AsyncGenerator[ExportRow, None]:
        db = await self._connect()
        try:
            templates = {
                (row[1], row[2]): _template(row)
                async for row in self._stream(db, f"{_TEMPLATE} WHERE sender = ?", sender)
            }
            # aclosing: a reader that stops early (| head) closes each cursor before db
            async with contextlib.aclosing(
                self._stream(
                    db,
                    f"SELECT {_CONSENT_COLUMNS} FROM consent_events WHERE sender = ?"
                    " ORDER BY obtained_at, id",
                    sender,
                )
            ) as consents:
                async for row in consents:
                    template = templates.get((row[8], row[9]))
                    yield ExportRow("consent", consent=_consent(row), template=template)
            async with contextlib.aclosing(
                self._stream(
                    db,
                    f"SELECT {_OPTOUT_COLUMNS} FROM optout_events WHERE sender = ?"
                    " ORDER BY opted_out_at, id",
                    sender,
                )
            ) as optouts:
                async for row in optouts:
                    yield ExportRow("optout", optout=_optout(row))
        finally:
            db.close()

    async def _stream(
        self, db: sqlite3.Connection, sql: str, *params: object
    ) -> AsyncGenerator[tuple[Any, ...], None]:
        """The rows of ``sql``, read in slices on a thread: bounded memory, a free loop."""
        cursor = await _on_thread(self.path, "export failed", db.execute, sql, params)
        try:
            while rows := await _on_thread(self.path, "export failed", cursor.fetchmany, FETCH):
                for row in rows:
                    yield row
        finally:
            await _on_thread(self.path, "export failed", cursor.close)

    async def template(self, sender: str, template_id: str, version: int) -> ConsentTemplate | None:
        with _errors(self.path, "lookup failed"):
            row = self._read.execute(
                f"{_TEMPLATE} WHERE sender = ? AND template_id = ? AND version = ?",
                (sender, template_id, version),
            ).fetchone()
        return None if row is None else _template(row)

    async def measures_orders(self, sender: str) -> list[MeasuresOrder]:
        with _errors(self.path, "lookup failed"):
            rows = self._read.execute(
                "SELECT sender, received_at, note FROM measures_orders WHERE sender = ?"
                " ORDER BY received_at, id",
                (sender,),
            ).fetchall()
        return [MeasuresOrder(s, datetime.fromisoformat(at), note) for s, at, note in rows]

    async def purge_candidates(self) -> list[PurgeCandidate]:
        rows = await self._bulk(
            "cannot list purge candidates",
            lambda d: d.execute(
                """
                SELECT s.sender, s.address, s.opted_out_at, l.sent_at,
                       (SELECT count(*) FROM consent_events AS e
                        WHERE e.address = s.address AND e.sender = s.sender) AS n,
                       l.order_sent_at
                FROM consent_state AS s
                LEFT JOIN last_sent AS l ON l.sender = s.sender AND l.address = s.address
                WHERE s.opted_out_at IS NOT NULL AND n > 0
                ORDER BY s.sender, s.address
                """
            ).fetchall(),
        )
        return [
            PurgeCandidate(
                sender, address, datetime.fromisoformat(out), _time(sent), n, _time(in_year)
            )
            for sender, address, out, sent, n, in_year in rows
        ]

    async def purge(self, pairs: Sequence[tuple[str, str]]) -> int:
        def purge(db: sqlite3.Connection) -> int:
            deleted = db.executemany(_PURGE_EVENTS, pairs).rowcount
            db.executemany(_PURGE_STATE, pairs)
            return deleted

        return await self._bulk("cannot purge", lambda d: _transaction(d, purge))

    async def stats(self) -> StoreStats:
        def count(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
            senders: dict[str, dict[str, int]] = {}
            for key, sql in STATS_QUERIES.items():
                for sender, n in db.execute(sql):
                    senders.setdefault(sender, dict.fromkeys(STATS_QUERIES, 0))[key] = n
            return senders

        return StoreStats(await self._bulk("cannot count", count))

    async def close(self) -> None:
        """Wait for queued last-sent rows to commit, then close the connections."""
        await self._idle.wait()
        self._closed = True
        self._sent_thread.stop()
        self._sent.close()
        self._read.close()

    async def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
        return await _on_thread(self.path, "cannot open", _connect, self.path, self.busy_timeout)

    async def _bulk(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on a connection of its own on a worker thread (scans, purges)."""
        db = await self._connect()
        try:
            return await _on_thread(self.path, what, work, db)
        finally:
            db.close()


_Statements = list[tuple[str, list[str]]]


class _SentThread:
    """The thread that owns the last-sent connection: one transaction at a time, in order."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self._path = path
        self._db = db
        self._jobs: queue.SimpleQueue[
            tuple[_Statements, Callable[[BaseException | None], None]] | None
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def commit(self, statements: _Statements, then: Callable[[BaseException | None], None]) -> None:
        """Run ``statements`` on the thread, then call ``then`` there with the error, if any."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"last-sent {self._path}", daemon=True
            )
            self._thread.start()
        self._jobs.put((statements, then))

    def stop(self) -> None:
        """End the thread once it is idle (the store waits for that before calling)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        db = self._db
        while (job := self._jobs.get()) is not None:
            statements, then = job
            try:
                for sql, params in statements:
                    db.execute(sql, params)
            except BaseException as exc:  # every caller must hear of it
                with contextlib.suppress(sqlite3.Error):  # unusable: the next batch says so
                    _rollback(db)
                then(exc)
            else:
                then(None)


def _sent_statements(rows: list[tuple[str, str, str]]) -> _Statements:
    """The upserts of ``rows``, as few statements as the parameter limit allows. One
    statement is one sqlite3_step, its own transaction, with the GIL released throughout
    (the fsync included); BEGIN + executemany + COMMIT took the GIL back after every step,
    and a thread waits for the event loop to let go of it each time. More rows than one
    statement holds are wrapped in one transaction, still one fsync."""
    statements = []
    for i in range(0, len(rows), SENT_CHUNK):
        chunk = rows[i : i + SENT_CHUNK]
        sql = _UPSERT_SENT.replace("SENT_ROWS", ", ".join(["(?, ?, ?)"] * len(chunk)))
        statements.append((sql, [value for row in chunk for value in row]))
    if len(statements) > 1:
        statements = [("BEGIN IMMEDIATE", []), *statements, ("COMMIT", [])]
    return statements


class _Writer:
    """The StoreWriter of one ``writer()`` transaction; rows are converted on the thread."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self._path = path
        self._db = db

    async def add_consents(self, events: Sequence[ConsentEvent]) -> None:
        now = _utc_text(datetime.now(UTC))
        rows = (_consent_row(e, now) for e in events)
        await _on_thread(self._path, "cannot write", _run_many, self._db, _INSERT_CONSENT, rows)

    async def add_optouts(self, events: Sequence[OptOutEvent]) -> None:
        now = _utc_text(datetime.now(UTC))
        rows = (_optout_row(e, now) for e in events)
        await _on_thread(self._path, "cannot write", _run_many, self._db, _INSERT_OPTOUT, rows)

    async def add_template(self, template: ConsentTemplate) -> ConsentTemplate:
        created = template.created_at or datetime.now(UTC)
        params = (
            template.sender,
            template.template_id,
            template.wording,
            template.channel,
            _utc_text(created),
        )
        (version,) = await _on_thread(
            self._path, "cannot write", lambda: self._db.execute(_ADD_TEMPLATE, params).fetchone()
        )
        return replace(template, version=version, created_at=created)

    async def add_measures_order(self, order: MeasuresOrder) -> None:
        received, year_end = (
            _utc_text(order.received_at),
            _utc_text(order_year_end(order.received_at)),
        )

        def add(db: sqlite3.Connection) -> None:
            db.execute(_ADD_ORDER, (order.sender, received, order.note, year_end))
            db.execute(_MARK_ORDER_YEAR, (order.sender, received, year_end))

        await _on_thread(self._path, "cannot write", add, self._db)


def _run(db: sqlite3.Connection, sql: str) -> None:
    """``db.execute(sql)``, its cursor closed on this thread: see :func:`_run_many`."""
    db.execute(sql).close()


def _run_many(db: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """``db.executemany``, its cursor closed on the thread that ran it. A cursor handed back
    to the event loop is freed there whenever the loop drops it, and freeing resets its
    statement — the cached one the next call of the transaction is running on a worker
    thread at that moment: SQLITE_MISUSE, "bad parameter or other API misuse", now and then
    in the middle of an import."""
    db.executemany(sql, rows).close()


async def _on_thread(path: Path, what: str, work: Callable[..., T], *args: Any) -> T:
    """Run ``work`` on a worker thread, SQLite and OS errors becoming StoreError."""
    with _errors(path, what):
        return await _to_thread_to_the_end(work, *args)


async def _to_thread_to_the_end(work: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread``, but a cancelled caller (Ctrl-C during an import) still waits
    for the thread: rolling back or closing a connection a thread is using crashes the
    process (SQLITE_MISUSE, or a segmentation fault)."""
    job = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait([job])
        raise


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread."""
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")  # in WAL mode: fsync the WAL at every commit
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to ``len(MIGRATIONS)``; safe when several processes start at once."""
    if _version(db) == len(MIGRATIONS):
        return

    def apply(db: sqlite3.Connection) -> None:
        version = _version(db)  # re-read under the write lock
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{path}: schema version {version} is newer than this tokuden knows"
                f" ({len(MIGRATIONS)}); upgrade tokuden"
            )
        for sql in MIGRATIONS[version:]:
            for statement in _statements(sql):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    _transaction(db, apply)


def _transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` in one write transaction, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise
    return result


def _rollback(db: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already undone it (disk full, I/O)."""
    if db.in_transaction:
        db.execute("ROLLBACK")


def _version(db: sqlite3.Connection) -> int:
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


@contextmanager
def _errors(path: Path, what: str) -> Iterator[None]:
    """Turn every SQLite or OS failure into StoreError naming the file: callers answer 451."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"{path}: {what}: {exc}") from exc


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


def _utc_text(moment: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order in SQL."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()}: a stored time needs a UTC offset")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _topics(text: str | None) -> tuple[str, ...]:
    return () if text is None else tuple(json.loads(text))


def _consent_row(e: ConsentEvent, recorded_at: str) -> tuple[Any, ...]:
    return (
        e.sender,
        e.address,
        Basis(e.basis).value,
        _utc_text(e.obtained_at),
        e.consignor,
        json.dumps(list(e.topics), ensure_ascii=False) if e.topics else None,
        e.method,
        e.evidence,
        e.template_id,
        e.template_version,
        e.collected_by,
        int(e.refusal_displayed),
        recorded_at,
    )


def _optout_row(e: OptOutEvent, recorded_at: str) -> tuple[Any, ...]:
    return (
        e.sender,
        e.address,
        _utc_text(e.opted_out_at),
        e.scope,
        e.channel,
        e.evidence,
        recorded_at,
    )


def _state(row: tuple[Any, ...]) -> ConsentRecord:
    """A row of ``_STATE``; runs per recipient of every message, so kept lean."""
    sender, address, basis, obtained, method, evidence, refusal, topics, out, out_method = row[:10]
    out_topics, sent = row[10:]
    return ConsentRecord(
        sender,
        address,
        None if basis is None else _BASES[basis],
        obtained and datetime.fromisoformat(obtained),
        method,
        evidence,
        bool(refusal),
        _topics(topics),
        out and datetime.fromisoformat(out),
        out_method,
        frozenset(json.loads(out_topics)) if out_topics else _NO_TOPICS,
        sent and datetime.fromisoformat(sent),
    )


def _consent(row: tuple[Any, ...]) -> ConsentEvent:
    sender, address, basis, obtained, consignor, topics, method, evidence = row[:8]
    return ConsentEvent(
        sender=sender,
        address=address,
        basis=_BASES[basis],
        obtained_at=datetime.fromisoformat(obtained),
        consignor=consignor,
        topics=_topics(topics),
        method=method,
        evidence=evidence,
        template_id=row[8],
        template_version=row[9],
        collected_by=row[10],
        refusal_displayed=bool(row[11]),
        recorded_at=_time(row[12]),
    )


def _optout(row: tuple[Any, ...]) -> OptOutEvent:
    sender, address, opted_out_at, scope, channel, evidence, recorded_at = row
    return OptOutEvent(
        sender,
        address,
        datetime.fromisoformat(opted_out_at),
        scope,
        channel,
        evidence,
        _time(recorded_at),
    )


def _template(row: tuple[Any, ...]) -> ConsentTemplate:
    sender, template_id, version, wording, channel, created_at = row
    return ConsentTemplate(sender, template_id, version, wording, channel, _time(created_at))
