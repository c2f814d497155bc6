"""The shared consent store: PostgreSQL, for several gateways behind one ESP.

URL: ``postgresql://user[:password]@host[:port]/db[?params]`` (a libpq URL). Besides
libpq's own parameters (``sslmode``, ``options``, …) three size the connection pool:

``pool_min_size`` (default 1)
    connections kept open even when idle;
``pool_max_size`` (default 10)
    the most connections one gateway holds;
``pool_timeout`` (default 5 s)
    how long opening the store, a connection attempt (libpq ``connect_timeout``,
    unless the URL sets its own) and waiting for a free connection may take.

A server that is down therefore costs a caller at most ``pool_timeout`` before
``StoreError``, and the gateway answers 451 instead of keeping the client waiting.

The events (``consent_events``, ``optout_events``) are append-only; the database
refuses to change them, and to delete an opt-out (O1). ``consent_state`` is the
``ConsentRecord`` of each (sender, address), recomputed from the events in the
transaction that adds them, after locking its rows so that two gateways writing
the same address at once cannot leave a state that misses one of the events.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import select
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

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

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
POOL_TIMEOUT = 5.0  # seconds; see the module docstring
_POOL_PARAMS = ("pool_min_size", "pool_max_size", "pool_timeout")
EXPORT_BATCH = 2000  # rows fetched per round trip by the export's server-side cursor

# Applied in order, each once, recorded in schema_migrations. Never edit one that
# has shipped: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE consent_templates (
        sender      text NOT NULL,
        template_id text NOT NULL,
        version     integer NOT NULL CHECK (version > 0),
        wording     text NOT NULL,
        channel     text NOT NULL DEFAULT '',
        created_at  timestamptz NOT NULL,
        PRIMARY KEY (sender, template_id, version)
    );
    CREATE TABLE consent_events (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sender            text NOT NULL,
        address           text NOT NULL,
        basis             text NOT NULL
                          CHECK (basis IN ('consent', 'notified', 'transaction', 'published')),
        obtained_at       timestamptz NOT NULL,
        consignor         text NOT NULL DEFAULT '',
        topics            text[] NOT NULL DEFAULT '{}',
        method            text NOT NULL DEFAULT '',
        evidence          text NOT NULL DEFAULT '',
        template_id       text,
        template_version  integer,
        collected_by      text NOT NULL DEFAULT '',
        refusal_displayed boolean NOT NULL DEFAULT false,
        CHECK ((template_id IS NULL) = (template_version IS NULL)),
        FOREIGN KEY (sender, template_id, template_version)
            REFERENCES consent_templates (sender, template_id, version)
    );
    CREATE INDEX consent_events_pair ON consent_events (sender, address, obtained_at, id);
    CREATE INDEX consent_events_address ON consent_events (address);
    CREATE TABLE optout_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sender       text NOT NULL,
        address      text NOT NULL,
        opted_out_at timestamptz NOT NULL,
        scope        text NOT NULL DEFAULT '*' CHECK (scope <> ''),
        channel      text NOT NULL DEFAULT '',
        evidence     text NOT NULL DEFAULT ''
    );
    CREATE INDEX optout_events_pair ON optout_events (sender, address, opted_out_at, id);
    CREATE INDEX optout_events_address ON optout_events (address);
    CREATE FUNCTION tokuden_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END $$;
    CREATE TRIGGER consent_templates_fixed BEFORE UPDATE ON consent_templates
        FOR EACH STATEMENT EXECUTE FUNCTION tokuden_append_only();
    CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR TRUNCATE ON consent_events
        FOR EACH STATEMENT EXECUTE FUNCTION tokuden_append_only();
    CREATE TRIGGER optout_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
        ON optout_events FOR EACH STATEMENT EXECUTE FUNCTION tokuden_append_only();
    CREATE TABLE consent_state (
        sender            text NOT NULL,
        address           text NOT NULL,
        basis             text,
        obtained_at       timestamptz,
        method            text NOT NULL DEFAULT '',
        evidence          text NOT NULL DEFAULT '',
        refusal_displayed boolean NOT NULL DEFAULT false,
        topics            text[] NOT NULL DEFAULT '{}',
        opted_out_at      timestamptz,
        optout_method     text NOT NULL DEFAULT '',
        optout_topics     text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (sender, address)
    );
    CREATE INDEX consent_state_address ON consent_state (address);
    CREATE INDEX consent_state_stopped ON consent_state (sender, address)
        WHERE opted_out_at IS NOT NULL AND basis IS NOT NULL;
    CREATE TABLE last_sent (
        sender  text NOT NULL,
        address text NOT NULL,
        sent_at timestamptz NOT NULL,
        PRIMARY KEY (sender, address)
    );
    CREATE TABLE measures_orders (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sender      text NOT NULL,
        received_at timestamptz NOT NULL,
        note        text NOT NULL DEFAULT ''
    );
    CREATE INDEX measures_orders_sender ON measures_orders (sender, received_at);
    """,
    # When each event was recorded (gateway.consent.ConsentRecord: an event takes effect
    # at its own time or at its recording, whichever came first). Events recorded before
    # this migration keep NULL (at their own time), except those dated after the upgrade,
    # the latest they can have been recorded; the state's times come back to it alike.
    """
    ALTER TABLE consent_events ADD COLUMN recorded_at timestamptz;
    ALTER TABLE consent_events ALTER COLUMN recorded_at SET DEFAULT now();
    ALTER TABLE optout_events ADD COLUMN recorded_at timestamptz;
    ALTER TABLE optout_events ALTER COLUMN recorded_at SET DEFAULT now();
    ALTER TABLE consent_events DISABLE TRIGGER consent_events_append_only;
    ALTER TABLE optout_events DISABLE TRIGGER optout_events_append_only;
    UPDATE consent_events SET recorded_at = now() WHERE obtained_at > now();
    UPDATE optout_events SET recorded_at = now() WHERE opted_out_at > now();
    ALTER TABLE consent_events ENABLE TRIGGER consent_events_append_only;
    ALTER TABLE optout_events ENABLE TRIGGER optout_events_append_only;
    UPDATE consent_state SET
        obtained_at = CASE WHEN obtained_at > now() THEN now() ELSE obtained_at END,
        opted_out_at = CASE WHEN opted_out_at > now() THEN now() ELSE opted_out_at END
    WHERE obtained_at > now() OR opted_out_at > now();
    """,
    # K2: mail sent within a year after a measures order makes the period one year, even
    # when later mail followed: last_sent remembers the last mail inside such a year. The
    # year's end is kept with the order (gateway.retention.order_year_end for new ones; the
    # same JST day arithmetic here for those already recorded).
    """
    ALTER TABLE last_sent ADD COLUMN order_sent_at timestamptz;
    ALTER TABLE measures_orders ADD COLUMN year_end timestamptz;
    UPDATE measures_orders SET year_end = (date_trunc('day', received_at AT TIME ZONE 'Asia/Tokyo')
        + interval '1 year' + interval '1 day') AT TIME ZONE 'Asia/Tokyo';
    ALTER TABLE measures_orders ALTER COLUMN year_end SET NOT NULL;
    UPDATE last_sent l SET order_sent_at = l.sent_at WHERE EXISTS (
        SELECT 1 FROM measures_orders m WHERE m.sender = l.sender
          AND m.received_at <= l.sent_at AND l.sent_at < m.year_end);
    """,
)

# One lock per schema, so that gateways starting together migrate one at a time.
_MIGRATION_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('tokuden ' || current_schema(), 0))"
)

_PAIRS = "unnest(%(senders)s::text[], %(addresses)s::text[]) AS p (sender, address)"

# Creates the missing state rows and locks all of them, in one order for everyone.
_LOCK_STATE = f"""
    INSERT INTO consent_state AS s (sender, address)
    SELECT p.sender, p.address FROM {_PAIRS} ORDER BY p.sender, p.address
    ON CONFLICT (sender, address) DO UPDATE SET sender = s.sender
"""

# ConsentRecord's rules, for locked rows: the latest consent (ties: the last
# recorded) gives the basis and topics; an opt-out stands unless a consent took
# effect strictly after it (at the same instant the opt-out wins, O1). An event
# takes effect at its own time or at its recording, whichever came first
# (least() ignores the NULL recorded_at of events older than the column).
_REFRESH_STATE = f"""
    UPDATE consent_state AS s SET
        basis = c.basis,
        obtained_at = c.effective_at,
        method = coalesce(c.method, ''),
        evidence = coalesce(c.evidence, ''),
        refusal_displayed = coalesce(c.refusal_displayed, false),
        topics = coalesce(c.topics, '{{}}'),
        opted_out_at = o.effective_at,
        optout_method = coalesce(o.channel, ''),
        optout_topics = t.topics
    FROM {_PAIRS}
    LEFT JOIN LATERAL (
        SELECT e.basis, least(e.obtained_at, e.recorded_at) AS effective_at, e.method,
               e.evidence, e.refusal_displayed, e.topics
        FROM consent_events e
        WHERE e.sender = p.sender AND e.address = p.address
        ORDER BY least(e.obtained_at, e.recorded_at) DESC, e.id DESC
        LIMIT 1
    ) AS c ON true
    LEFT JOIN LATERAL (
        SELECT least(x.opted_out_at, x.recorded_at) AS effective_at, x.channel
        FROM optout_events x
        WHERE x.sender = p.sender AND x.address = p.address AND x.scope = '*'
          AND (least(x.opted_out_at, x.recorded_at) >= c.effective_at) IS NOT FALSE
        ORDER BY least(x.opted_out_at, x.recorded_at) DESC, x.id DESC
        LIMIT 1
    ) AS o ON true
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(DISTINCT x.scope ORDER BY x.scope), '{{}}') AS topics
        FROM optout_events x
        WHERE x.sender = p.sender AND x.address = p.address AND x.scope <> '*'
          AND (least(x.opted_out_at, x.recorded_at) >= c.effective_at) IS NOT FALSE
    ) AS t
    WHERE s.sender = p.sender AND s.address = p.address
"""

_STATE_COLUMNS = """
    s.sender, s.address, s.basis, s.obtained_at, s.method, s.evidence, s.refusal_displayed,
    s.topics, s.opted_out_at, s.optout_method, s.optout_topics, l.sent_at
    FROM consent_state s
    LEFT JOIN last_sent l ON l.sender = s.sender AND l.address = s.address
"""


@dataclass(frozen=True)
class _Prepared:
    """A statement prepared once per connection under ``name``, run through libpq."""

    name: bytes
    sql: bytes


# Arrays come back as JSON: a text array's quoting is psycopg's business, JSON is json's.
_LOOKUP = _Prepared(
    b"tokuden_lookup",
    b"""
    SELECT s.address, s.basis, s.obtained_at, s.method, s.evidence, s.refusal_displayed,
           to_json(s.topics), s.opted_out_at, s.optout_method, to_json(s.optout_topics),
           l.sent_at
    FROM consent_state s
    LEFT JOIN last_sent l ON l.sender = s.sender AND l.address = s.address
    WHERE s.sender = $1 AND s.address = ANY($2::text[])
    """,
)

_CONSENT_FIELDS = (
    "sender",
    "address",
    "basis",
    "obtained_at",
    "consignor",
    "topics",
    "method",
    "evidence",
    "template_id",
    "template_version",
    "collected_by",
    "refusal_displayed",
)
_OPTOUT_FIELDS = ("sender", "address", "opted_out_at", "scope", "channel", "evidence")
# What is read back: the columns written, and when the server recorded them.
_CONSENT_READ = (*_CONSENT_FIELDS, "recorded_at")
_OPTOUT_READ = (*_OPTOUT_FIELDS, "recorded_at")
_TEMPLATE_FIELDS = ("sender", "template_id", "version", "wording", "channel", "created_at")


def _columns(fields: Sequence[str], table: str = "") -> str:
    return ", ".join(f"{table}.{name}" if table else name for name in fields)


_EXPORT_CONSENTS = f"""
    SELECT {_columns(_CONSENT_READ, "e")}, {_columns(_TEMPLATE_FIELDS, "t")}
    FROM consent_events e
    LEFT JOIN consent_templates t
        ON t.sender = e.sender AND t.template_id = e.template_id AND t.version = e.template_version
    WHERE e.sender = %s
    ORDER BY e.obtained_at, e.id
"""

# The latest mail of all, and the latest inside a measures order's year (K2).
_RECORD_SENT = _Prepared(
    b"tokuden_record_sent",
    b"""
    INSERT INTO last_sent AS l (sender, address, sent_at, order_sent_at)
    SELECT p.sender, p.address, p.sent_at,
           CASE WHEN EXISTS (SELECT 1 FROM measures_orders m
                             WHERE m.sender = p.sender AND m.received_at <= p.sent_at
                               AND p.sent_at < m.year_end)
                THEN p.sent_at END
    FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS p (sender, address, sent_at)
    ORDER BY 1, 2
    ON CONFLICT (sender, address) DO UPDATE SET
        sent_at = GREATEST(l.sent_at, excluded.sent_at),
        order_sent_at = GREATEST(l.order_sent_at, excluded.order_sent_at)
    """,
)
# Mail recorded before the order was: the last of it may already fall in the order's year.
_MARK_ORDER_YEAR = """
    UPDATE last_sent SET order_sent_at = sent_at
    WHERE sender = %(sender)s AND %(received)s <= sent_at AND sent_at < %(year_end)s
      AND (order_sent_at IS NULL OR order_sent_at < sent_at)
"""

# Only pairs still opted out of everything lose their consents (a consent obtained
# since the candidates were listed is a new subscription); their state keeps the
# opt-outs and loses the basis.
_PURGE = f"""
    WITH stopped AS (
        SELECT s.sender, s.address FROM consent_state s JOIN {_PAIRS} USING (sender, address)
        WHERE s.opted_out_at IS NOT NULL
        ORDER BY s.sender, s.address
        FOR UPDATE OF s
    ), cleared AS (
        UPDATE consent_state s SET basis = NULL, obtained_at = NULL, method = '', evidence = '',
            refusal_displayed = false, topics = '{{}}'
        FROM stopped WHERE s.sender = stopped.sender AND s.address = stopped.address
    )
    DELETE FROM consent_events e USING stopped
    WHERE e.sender = stopped.sender AND e.address = stopped.address
"""


# A record_sent call waiting for its batch: sender, addresses, when, and its future.
_SentRequest = tuple[str, Sequence[str], datetime, asyncio.Future[None]]


def shown_url(url: str) -> str:
    """``url`` as this store names itself in messages: no password, no pool parameters."""
    parts = urlsplit(url)
    libpq = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in _POOL_PARAMS and key != "password"
    ]
    return urlunsplit(
        parts._replace(netloc=re.sub(r":[^@/]*@", "@", parts.netloc), query=urlencode(libpq))
    )


@dataclass(frozen=True)
class _Settings:
    """What a store URL says: libpq's part, the pool's part, and a printable form."""

    conninfo: str
    url: str  # the URL without its password, for messages
    min_size: int
    max_size: int
    timeout: float

    @classmethod
    def parse(cls, url: str) -> Self:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        pool = {key: value for key, value in query if key in _POOL_PARAMS}
        libpq = [(key, value) for key, value in query if key not in _POOL_PARAMS]
        shown = shown_url(url)
        try:
            min_size = int(pool.get("pool_min_size", POOL_MIN_SIZE))
            max_size = int(pool.get("pool_max_size", max(POOL_MAX_SIZE, min_size)))
            timeout = float(pool.get("pool_timeout", POOL_TIMEOUT))
            conninfo = urlunsplit(parts._replace(query=urlencode(libpq)))
            if "connect_timeout" not in conninfo_to_dict(conninfo):
                # libpq counts whole seconds and takes 2 as its least
                conninfo = make_conninfo(conninfo, connect_timeout=max(2, math.ceil(timeout)))
        except (ValueError, psycopg.ProgrammingError) as exc:
            raise StoreError(f"{shown}: not a usable PostgreSQL URL: {exc}") from None
        if not 0 <= min_size <= max_size or max_size < 1 or not timeout > 0:
            raise StoreError(
                f"{shown}: need 0 <= pool_min_size <= pool_max_size, 1 <= pool_max_size"
                " and pool_timeout > 0"
            )
        return cls(conninfo, shown, min_size, max_size, timeout)


class PostgresStore:
    """A :class:`gateway.store.ConsentStore` in a PostgreSQL database (or schema)."""

    def __init__(
        self, settings: _Settings, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]
    ):
        self.url = settings.url
        self.sent_commits = 0  # transactions record_sent has committed (group commit)
        self._pool = pool
        self._sent: list[_SentRequest] = []
        self._sent_waiting = asyncio.Event()
        self._closing = False
        self._sent_writer = asyncio.create_task(self._write_sent(), name=f"last-sent {self.url}")

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect, bring the schema up to date and open the pool; StoreError if any fails."""
        settings = _Settings.parse(url)
        with _errors(settings.url, "cannot open"):
            # A connection of its own: a refused one fails at once, not after the pool's wait.
            async with await psycopg.AsyncConnection.connect(settings.conninfo) as conn:
                await _migrate(conn, settings.url)
            pool = AsyncConnectionPool(
                settings.conninfo,
                kwargs={"autocommit": True},
                min_size=settings.min_size,
                max_size=settings.max_size,
                timeout=settings.timeout,
                configure=_configure,
                name=settings.url,
                open=False,
            )
            try:
                await pool.open(wait=True, timeout=settings.timeout)
            except BaseException:
                await pool.close()
                raise
        return cls(settings, pool)

    async def lookup(self, sender: str, addresses: Sequence[str]) -> dict[str, ConsentRecord]:
        params = [sender.encode(), _text_array(addresses)]
        async with self._connection("lookup failed") as conn:
            result = await _run_prepared(conn, _LOOKUP, params)
        return {record.address: record for record in _records(sender, result)}

    async def record_sent(self, sender: str, addresses: Sequence[str], when: datetime) -> None:
        """Queue the rows for the writer task and wait until the batch holding them commits."""
        _check_aware(when)
        if not addresses:
            return
        if self._closing:
            raise StoreError(f"{self.url}: the store is closed")
        done = asyncio.get_running_loop().create_future()
        self._sent.append((sender, addresses, when, done))
        self._sent_waiting.set()
        await done

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[_Writer]:
        async with self._connection("cannot write") as conn, conn.transaction():
            yield _Writer(conn, self.url)

    async def history(self, address: str) -> AddressHistory:
        async with self._snapshot("cannot read the history") as conn:
            states = await conn.execute(
                f"SELECT {_STATE_COLUMNS} WHERE s.address = %s ORDER BY s.sender", (address,)
            )
            records = [_record(row) for row in await states.fetchall()]
            consents = await conn.execute(
                f"SELECT {_columns(_CONSENT_READ)} FROM consent_events WHERE address = %s"
                " ORDER BY obtained_at, id",
                (address,),
            )
            consent_events = [_consent(row) for row in await consents.fetchall()]
            optouts = await conn.execute(
                f"SELECT {_columns(_OPTOUT_READ)} FROM optout_events WHERE address = %s"
                " ORDER BY opted_out_at, id",
                (address,),
            )
            optout_events = [_optout(row) for row in await optouts.fetchall()]
        return AddressHistory(address, records, consent_events, optout_events)

    async def export(self, sender: str) -> AsyncGenerator[ExportRow, None]:
        """Both queries read one snapshot, through server-side cursors: memory stays bounded."""
        async with self._snapshot("export failed") as conn:
            async with conn.cursor(name="export_consents") as consents:
                consents.itersize = EXPORT_BATCH
                await consents.execute(_EXPORT_CONSENTS, (sender,))
                async for row in consents:
                    wording = row[len(_CONSENT_READ) :]
                    yield ExportRow(
                        "consent",
                        consent=_consent(row[: len(_CONSENT_READ)]),
                        template=None if wording[0] is None else _template(wording),
                    )
            async with conn.cursor(name="export_optouts") as optouts:
                optouts.itersize = EXPORT_BATCH
                await optouts.execute(
                    f"SELECT {_columns(_OPTOUT_READ)} FROM optout_events WHERE sender = %s"
                    " ORDER BY opted_out_at, id",
                    (sender,),
                )
                async for row in optouts:
                    yield ExportRow("optout", optout=_optout(row))

    async def template(self, sender: str, template_id: str, version: int) -> ConsentTemplate | None:
        async with self._connection("cannot read the template") as conn:
            cur = await conn.execute(
                f"SELECT {_columns(_TEMPLATE_FIELDS)} FROM consent_templates"
                " WHERE sender = %s AND template_id = %s AND version = %s",
                (sender, template_id, version),
            )
            row = await cur.fetchone()
        return None if row is None else _template(row)

    async def measures_orders(self, sender: str) -> list[MeasuresOrder]:
        async with self._connection("cannot read the measures orders") as conn:
            cur = await conn.execute(
                "SELECT sender, received_at, note FROM measures_orders WHERE sender = %s"
                " ORDER BY received_at, id",
                (sender,),
            )
            rows = await cur.fetchall()
        return [MeasuresOrder(*row) for row in rows]

    async def purge_candidates(self) -> list[PurgeCandidate]:
        async with self._connection("cannot list purge candidates") as conn:
            cur = await conn.execute(
                "SELECT s.sender, s.address, s.opted_out_at, l.sent_at,"
                " (SELECT count(*) FROM consent_events e"
                "  WHERE e.sender = s.sender AND e.address = s.address), l.order_sent_at"
                " FROM consent_state s"
                " LEFT JOIN last_sent l ON l.sender = s.sender AND l.address = s.address"
                " WHERE s.opted_out_at IS NOT NULL AND s.basis IS NOT NULL"
                " ORDER BY s.sender, s.address"
            )
            rows = await cur.fetchall()
        return [PurgeCandidate(*row) for row in rows]

    async def purge(self, pairs: Sequence[tuple[str, str]]) -> int:
        async with self._connection("cannot purge") as conn:
            cur = await conn.execute(_PURGE, _pair_params(pairs))
        return cur.rowcount

    async def stats(self) -> StoreStats:
        senders: dict[str, dict[str, int]] = {}
        async with self._snapshot("cannot count") as conn:
            for key, sql in STATS_QUERIES.items():
                cur = await conn.execute(sql)
                for sender, count in await cur.fetchall():
                    senders.setdefault(sender, dict.fromkeys(STATS_QUERIES, 0))[key] = count
        return StoreStats(senders)

    async def close(self) -> None:
        """Let the last-sent writer commit what is queued, then close the pool."""
        self._closing = True
        self._sent_waiting.set()
        await self._sent_writer
        await self._pool.close()

    async def _write_sent(self) -> None:
        """The group commit: the calls queued while one batch commits make the next batch."""
        batch: list[_SentRequest] = []
        try:
            while not (self._closing and not self._sent):
                await self._sent_waiting.wait()
                self._sent_waiting.clear()
                batch, self._sent = self._sent, []
                if batch:
                    await self._commit_sent(batch)
        except BaseException as exc:  # cancelled: no caller may be left waiting for ever
            self._closing = True
            self._fail_sent([*batch, *self._sent], exc)
            raise

    async def _commit_sent(self, batch: list[_SentRequest]) -> None:
        latest: dict[tuple[str, str], datetime] = {}
        for sender, addresses, when, _ in batch:
            for address in addresses:
                key = (sender, address)
                latest[key] = max(when, latest.get(key, when))
        params = [
            _text_array(sender for sender, _ in latest),
            _text_array(address for _, address in latest),
            _text_array(when.isoformat() for when in latest.values()),
        ]
        try:
            async with self._connection("cannot record sent mail") as conn:
                await _run_prepared(conn, _RECORD_SENT, params)
        except Exception as exc:
            self._fail_sent(batch, exc)
            return
        self.sent_commits += 1
        for *_, done in batch:
            if not done.done():
                done.set_result(None)

    def _fail_sent(self, batch: list[_SentRequest], exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, StoreError) else f"{self.url}: {exc!r}"
        for *_, done in batch:
            if not done.done():
                error = StoreError(message)  # one per waiter: each gets its own traceback
                error.__cause__ = exc
                done.set_exception(error)

    @asynccontextmanager
    async def _connection(self, what: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; every failure, getting it or using it, is a StoreError.

        One the server dropped while it sat in the pool (a restart, a failover) is closed,
        so that the pool replaces it, and the next is taken: that costs no 451. Seeing it
        costs no round trip (the pool's own check costs one, a third of a lookup).
        """
        with _errors(self.url, what):
            for _ in range(self._pool.max_size + 1):
                async with self._pool.connection() as conn:
                    if not _dropped(conn):
                        yield conn
                        return
                    await conn.close()
            raise psycopg.OperationalError("the server drops every new connection")

    @asynccontextmanager
    async def _snapshot(self, what: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A read-only transaction that sees one consistent state of the store."""
        async with self._connection(what) as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn


class _Writer:
    """A :class:`gateway.store.StoreWriter` on the connection of one open transaction.

    Events go in through COPY; the state rows they touch are then locked and
    recomputed, so a million-row import costs three statements per batch.
    """

    def __init__(self, conn: psycopg.AsyncConnection[Any], url: str) -> None:
        self._conn = conn
        self._url = url

    async def add_consents(self, events: Sequence[ConsentEvent]) -> None:
        rows = (
            (
                e.sender,
                e.address,
                Basis(e.basis).value,
                _check_aware(e.obtained_at),
                e.consignor,
                list(e.topics),
                e.method,
                e.evidence,
                e.template_id,
                e.template_version,
                e.collected_by,
                e.refusal_displayed,
            )
            for e in events
        )
        await self._add(
            f"COPY consent_events ({_columns(_CONSENT_FIELDS)}) FROM STDIN", rows, events
        )

    async def add_optouts(self, events: Sequence[OptOutEvent]) -> None:
        rows = (
            (
                e.sender,
                e.address,
                _check_aware(e.opted_out_at),
                e.scope,
                e.channel,
                e.evidence,
            )
            for e in events
        )
        await self._add(f"COPY optout_events ({_columns(_OPTOUT_FIELDS)}) FROM STDIN", rows, events)

    async def add_template(self, template: ConsentTemplate) -> ConsentTemplate:
        """Versions of one (sender, template_id) are numbered under a lock, without gaps."""
        if template.created_at is not None:
            _check_aware(template.created_at)
        with _errors(self._url, "cannot add the template"):
            await self._conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))",
                (template.sender, template.template_id),
            )
            cur = await self._conn.execute(
                f"INSERT INTO consent_templates ({_columns(_TEMPLATE_FIELDS)})"
                " SELECT %(sender)s, %(id)s, coalesce(max(version), 0) + 1, %(wording)s,"
                " %(channel)s, coalesce(%(created)s, now())"
                " FROM consent_templates WHERE sender = %(sender)s AND template_id = %(id)s"
                f" RETURNING {_columns(_TEMPLATE_FIELDS)}",
                {
                    "sender": template.sender,
                    "id": template.template_id,
                    "wording": template.wording,
                    "channel": template.channel,
                    "created": template.created_at,
                },
            )
            row = await cur.fetchone()
        assert row is not None  # INSERT … SELECT of an aggregate inserts one row
        return _template(row)

    async def add_measures_order(self, order: MeasuresOrder) -> None:
        params = {
            "sender": order.sender,
            "received": _check_aware(order.received_at),
            "note": order.note,
            "year_end": order_year_end(order.received_at),
        }
        with _errors(self._url, "cannot add the measures order"):
            await self._conn.execute(
                "INSERT INTO measures_orders (sender, received_at, note, year_end)"
                " VALUES (%(sender)s, %(received)s, %(note)s, %(year_end)s)",
                params,
            )
            await self._conn.execute(_MARK_ORDER_YEAR, params)

    async def _add(
        self,
        copy_sql: str,
        rows: Iterable[tuple[object, ...]],
        events: Sequence[ConsentEvent] | Sequence[OptOutEvent],
    ) -> None:
        if not events:
            return
        with _errors(self._url, "cannot write"):
            async with self._conn.cursor().copy(copy_sql) as copy:
                for row in rows:
                    await copy.write_row(row)
            pairs = _pair_params((e.sender, e.address) for e in events)
            await self._conn.execute(_LOCK_STATE, pairs)
            await self._conn.execute(_REFRESH_STATE, pairs)


async def _migrate(conn: psycopg.AsyncConnection[Any], url: str) -> None:
    """Apply the missing MIGRATIONS in one transaction, under a lock held until it commits."""
    async with conn.transaction():
        await conn.execute(_MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        row = await cur.fetchone()
        version: int = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{url}: schema version {version} is newer than this tokuden knows"
                f" ({len(MIGRATIONS)}); upgrade tokuden"
            )
        for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            await conn.execute(sql.encode())  # bytes: a script of several statements, no params
            await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))


# -- the two statements of every message, straight to libpq ------------------------------
#
# lookup and record_sent run for every message. psycopg's execute (a cursor, adaptation,
# its generator protocol) cost about 150 µs of client CPU per query on the benchmark
# machine; the same prepared statement through psycopg.pq costs about 60 (benchmarks/
# README.md). Parameters go as text, results come back as text and are read here; the
# connection is the pool's, held alone, and left idle, so the pool and psycopg see it as
# they left it. Every libpq failure is a psycopg.Error, which _errors makes a StoreError.

_PREPARED: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], set[bytes]] = (
    weakref.WeakKeyDictionary()
)
_NOT_PREPARED = b"26000"  # invalid_sql_statement_name: the server forgot it (a pooler)


async def _run_prepared(
    conn: psycopg.AsyncConnection[Any], statement: _Prepared, params: Sequence[bytes | None]
) -> pq.abc.PGresult:
    """Run ``statement`` (preparing it first on a connection that has not seen it)."""
    known = _PREPARED.setdefault(conn, set())
    for attempt in (1, 2):
        pg = conn.pgconn
        if statement.name not in known:
            pg.send_prepare(statement.name, statement.sql)
            await _result(pg)
            known.add(statement.name)
        pg.send_query_prepared(statement.name, params)
        try:
            return await _result(pg)
        except _ServerError as exc:
            if exc.state != _NOT_PREPARED or attempt == 2:
                raise
            known.discard(statement.name)
    raise AssertionError("unreachable")


class _ServerError(psycopg.DatabaseError):
    """An error result, with its SQLSTATE."""

    def __init__(self, result: pq.abc.PGresult) -> None:
        super().__init__(result.error_message.decode("utf-8", "replace").strip())
        self.state = result.error_field(pq.DiagnosticField.SQLSTATE)


async def _result(pg: pq.abc.PGconn) -> pq.abc.PGresult:
    """Send what libpq holds, then read until the answer is complete: its last result."""
    loop = asyncio.get_running_loop()
    while pg.flush():
        await _ready(loop, pg.socket, writing=True)
    last: pq.abc.PGresult | None = None
    error: pq.abc.PGresult | None = None
    while True:
        if pg.is_busy():
            await _ready(loop, pg.socket, writing=False)
            pg.consume_input()
            continue
        result = pg.get_result()
        if result is None:
            break
        if result.status == pq.ExecStatus.FATAL_ERROR:
            error = error or result
        last = result
    if error is not None:
        raise _ServerError(error)
    if last is None:
        raise psycopg.OperationalError("the server sent no result")
    return last


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, writing: bool) -> None:
    """Until ``fd`` can be read (or written)."""
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if writing:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if writing:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def _text_array(values: Iterable[str]) -> bytes:
    """A text[] literal: every element quoted, its quotes and backslashes escaped."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return ("{" + ",".join(quoted) + "}").encode()


def _records(sender: str, result: pq.abc.PGresult) -> Iterator[ConsentRecord]:
    """The rows of _LOOKUP; runs per recipient of every message, so kept lean."""
    value = result.get_value
    for i in range(result.ntuples):
        basis, obtained, opted_out, sent = value(i, 1), value(i, 2), value(i, 7), value(i, 10)
        yield ConsentRecord(
            sender,
            _text(value(i, 0)),
            None if basis is None else _BASES[basis],
            None if obtained is None else datetime.fromisoformat(obtained.decode()),
            _text(value(i, 3)),
            _text(value(i, 4)),
            value(i, 5) == b"t",
            tuple(json.loads(_text(value(i, 6)))),
            None if opted_out is None else datetime.fromisoformat(opted_out.decode()),
            _text(value(i, 8)),
            frozenset(json.loads(_text(value(i, 9)))),
            None if sent is None else datetime.fromisoformat(sent.decode()),
        )


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode()


_BASES = {basis.value.encode(): basis for basis in Basis}


def _dropped(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server closed this idle connection: only then has it anything to read."""
    idle = select.poll()
    idle.register(conn.fileno(), select.POLLIN)
    return bool(idle.poll(0))


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Times come back in UTC whatever the server's TimeZone, so every replica prints alike;
    as ISO text in UTF-8 whatever the server's DateStyle and encoding, as _records reads."""
    for setting in ("TIME ZONE 'UTC'", "DateStyle = 'ISO'", "client_encoding = 'UTF8'"):
        await conn.execute(f"SET {setting}")


@contextmanager
def _errors(url: str, what: str) -> Iterator[None]:
    """Every psycopg and pool failure as a StoreError naming the store: callers answer 451."""
    try:
        yield
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__  # libpq's lines, one log line
        raise StoreError(f"{url}: {what}: {detail}") from exc


def _pair_params(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Distinct (sender, address) pairs, sorted so that writers lock rows in one order."""
    unique = sorted(set(pairs))
    return {"senders": [s for s, _ in unique], "addresses": [a for _, a in unique]}


def _check_aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()}: a stored time needs a UTC offset")
    return moment


def _record(row: Sequence[Any]) -> ConsentRecord:
    (sender, address, basis, obtained, method, evidence, refusal, topics) = row[:8]
    opted_out, optout_method, optout_topics, last_sent = row[8:]
    return ConsentRecord(
        sender=sender,
        address=address,
        basis=None if basis is None else Basis(basis),
        obtained_at=obtained,
        method=method,
        evidence=evidence,
        refusal_displayed=refusal,
        topics=tuple(topics),
        opted_out_at=opted_out,
        optout_method=optout_method,
        optout_topics=frozenset(optout_topics),
        last_sent_at=last_sent,
    )


def _consent(row: Sequence[Any]) -> ConsentEvent:
    (sender, address, basis, obtained, consignor, topics, method, evidence) = row[:8]
    template_id, template_version, collected_by, refusal, recorded_at = row[8:]
    return ConsentEvent(
        sender=sender,
        address=address,
        basis=Basis(basis),
        obtained_at=obtained,
        consignor=consignor,
        topics=tuple(topics),
        method=method,
        evidence=evidence,
        template_id=template_id,
        template_version=template_version,
        collected_by=collected_by,
        refusal_displayed=refusal,
        recorded_at=recorded_at,
    )


def _optout(row: Sequence[Any]) -> OptOutEvent:
    sender, address, opted_out, scope, channel, evidence, recorded_at = row
    return OptOutEvent(sender, address, opted_out, scope, channel, evidence, recorded_at)


def _template(row: Sequence[Any]) -> ConsentTemplate:
    sender, template_id, version, wording, channel, created_at = row
    return ConsentTemplate(sender, template_id, version, wording, channel, created_at)
