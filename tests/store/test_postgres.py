"""What only the PostgreSQL store does: shared migrations, pooled connections, network failure.

Every test talks to the real server of tests/store/conftest.py, in a schema of its
own. A server that goes away is a TCP relay in front of it that the test cuts.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from gateway.consent import Basis, ConsentEvent, OptOutEvent
from gateway.store import StoreError
from gateway.store.postgres import MIGRATIONS, PostgresStore
from tests.conftest import PG_URL, pg_url
from tests.pgpeer import SERVER, Cable, url_at
from tests.store.upgrades import assert_future_consent_counts_from_the_upgrade

WHEN = datetime(2026, 4, 1, 9, tzinfo=UTC)


def url(schema: str, **params: object) -> str:
    """The test server's URL for ``schema``, with extra query parameters."""
    return f"{pg_url(schema)}&{urlencode(params)}" if params else pg_url(schema)


def sql(statement: str, *params: object) -> list[tuple[object, ...]]:
    """Run ``statement`` on a connection of its own; its rows, if it returns any."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@asynccontextmanager
async def opened(store_url: str) -> AsyncIterator[PostgresStore]:
    store = await PostgresStore.open(store_url)
    try:
        yield store
    finally:
        await store.close()


def consent(address: str, day: int = 1, basis: Basis = Basis.CONSENT) -> ConsentEvent:
    return ConsentEvent("ogiya", address, basis, WHEN.replace(day=day))


async def add(store: PostgresStore, event: ConsentEvent) -> None:
    async with store.writer() as w:
        await w.add_consents([event])


# -- migrations ----------------------------------------------------------------------


async def test_opening_again_applies_no_migration_twice(pg_schema: str) -> None:
    async with opened(url(pg_schema)):
        pass
    first = sql(f"SELECT version, applied_at FROM {pg_schema}.schema_migrations ORDER BY 1")
    async with opened(url(pg_schema)):
        pass
    assert sql(f"SELECT version, applied_at FROM {pg_schema}.schema_migrations ORDER BY 1") == first
    assert [version for version, _ in first] == list(range(1, len(MIGRATIONS) + 1))


async def test_gateways_starting_together_migrate_once(pg_schema: str) -> None:
    """Five gateways open an empty database at the same moment: the advisory lock lets
    one create the schema, the others find it made; every one of them can write."""
    stores = await asyncio.gather(*(PostgresStore.open(url(pg_schema)) for _ in range(5)))
    try:
        for i, store in enumerate(stores):
            async with store.writer() as w:
                await w.add_consents([consent(f"user{i}@example.jp")])
        found = await stores[0].lookup("ogiya", [f"user{i}@example.jp" for i in range(5)])
        assert len(found) == 5
    finally:
        for store in stores:
            await store.close()
    versions = sql(f"SELECT version FROM {pg_schema}.schema_migrations")
    assert sorted(versions) == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


async def test_a_schema_newer_than_this_tokuden_is_refused(pg_schema: str) -> None:
    async with opened(url(pg_schema)):
        pass
    sql(f"INSERT INTO {pg_schema}.schema_migrations (version) VALUES (%s)", len(MIGRATIONS) + 1)
    with pytest.raises(StoreError, match=r"newer than this tokuden knows.*upgrade tokuden"):
        await PostgresStore.open(url(pg_schema))


async def test_the_database_refuses_to_change_or_delete_an_optout(pg_schema: str) -> None:
    """O1: opt-outs are never deleted, events never edited, whoever holds a SQL shell."""
    async with opened(url(pg_schema)) as store, store.writer() as w:
        await w.add_consents([consent("a@example.jp")])
        await w.add_optouts([OptOutEvent("ogiya", "a@example.jp", WHEN)])
    for statement in (
        "DELETE FROM optout_events",
        "UPDATE optout_events SET scope = 'news'",
        "TRUNCATE optout_events",
        "UPDATE consent_events SET basis = 'published'",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            sql(f"SET search_path = {pg_schema}; {statement}")
    assert sql(f"SELECT count(*) FROM {pg_schema}.optout_events") == [(1,)]


async def test_an_upgrade_counts_events_dated_after_it_from_the_upgrade(pg_schema: str) -> None:
    """Schema 1 ordered events by the time they claim, so a consent dated 2099 outranked
    every opt-out. Its recording time is unknown, but no later than the upgrade: from then
    on it counts as of the upgrade, and the next opt-out stops the mail (O1)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"SET search_path = {pg_schema}")
        conn.execute(MIGRATIONS[0].encode())
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            " INSERT INTO schema_migrations (version) VALUES (1)"
        )
        conn.execute(
            "INSERT INTO consent_events (sender, address, basis, obtained_at, method)"
            " VALUES ('ogiya', 'a@example.jp', 'consent', '2099-04-01T00:00:00+09:00', 'web form');"
            " INSERT INTO optout_events (sender, address, opted_out_at, channel)"
            " VALUES ('ogiya', 'a@example.jp', '2026-11-01T00:00:00+00:00', 'phone');"
            " INSERT INTO consent_state (sender, address, basis, obtained_at, method)"
            " VALUES ('ogiya', 'a@example.jp', 'consent', '2099-04-01T00:00:00+09:00', 'web form')"
        )
    before = datetime.now(UTC)
    async with opened(url(pg_schema)) as store:
        obtained = datetime(2099, 3, 31, 15, tzinfo=UTC)
        await assert_future_consent_counts_from_the_upgrade(store, obtained, before)


async def test_an_upgrade_marks_mail_already_sent_inside_a_measures_order_year(
    pg_schema: str,
) -> None:
    """The order's year (to the end of the Japanese day a year after receipt) is computed
    for orders already on record, and so is what last_sent holds inside it."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"SET search_path = {pg_schema}")
        for script in MIGRATIONS[:2]:
            conn.execute(script.encode())
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            " INSERT INTO schema_migrations (version) VALUES (1), (2);"
            " INSERT INTO measures_orders (sender, received_at)"
            " VALUES ('ogiya', '2026-01-05T00:00:00+09:00')"
        )
        for address, sent in (("in", "2027-01-05T23:59:59+09:00"), ("out", "2027-01-06T00:00+09")):
            for statement in (
                "INSERT INTO consent_events (sender, address, basis, obtained_at)"
                " VALUES ('ogiya', %(a)s, 'transaction', '2025-01-01T00:00:00Z')",
                "INSERT INTO consent_state (sender, address, basis, obtained_at, opted_out_at)"
                " VALUES ('ogiya', %(a)s, 'transaction', '2025-01-01T00:00:00Z',"
                " '2026-02-01T00:00:00Z')",
                "INSERT INTO last_sent (sender, address, sent_at) VALUES ('ogiya', %(a)s, %(s)s)",
            ):
                conn.execute(statement, {"a": f"{address}@example.jp", "s": sent})
    async with opened(url(pg_schema)) as store:
        got = {c.address: c.order_sent_at for c in await store.purge_candidates()}
        (order,) = await store.measures_orders("ogiya")
    assert got == {
        "in@example.jp": datetime(2027, 1, 5, 14, 59, 59, tzinfo=UTC),  # the year's last day
        "out@example.jp": None,
    }
    assert order.received_at == datetime(2026, 1, 4, 15, tzinfo=UTC)


# -- two gateways writing the same address --------------------------------------------


async def test_an_optout_committed_while_an_older_consent_is_written_still_stops(
    pg_schema: str,
) -> None:
    """Gateway A records an opt-out; gateway B, at the same time, imports an older consent
    for the address. B's state row waits for A's transaction and is then computed from
    both events: the opt-out stands (O1). Without that lock B would derive its state
    without A's opt-out and overwrite A's."""
    address = "a@example.jp"
    app = f"tokuden-import-{pg_schema}"
    async with opened(url(pg_schema)) as a, opened(url(pg_schema, application_name=app)) as b:
        await add(a, consent(address, day=1))
        async with a.writer() as w:
            await w.add_optouts([OptOutEvent("ogiya", address, WHEN.replace(day=10))])
            importing = asyncio.create_task(add(b, consent(address, day=5, basis=Basis.NOTIFIED)))
            await _until_waiting_for_a_lock(app)
            assert not importing.done()
        await importing
        record = (await a.lookup("ogiya", [address]))[address]
    assert record.basis is Basis.NOTIFIED  # the latest consent
    assert record.opted_out_at == WHEN.replace(day=10)  # made after it
    assert record.barred_by() == "O1"


async def _until_waiting_for_a_lock(application_name: str) -> None:
    """Return once a backend of ``application_name`` waits for a row lock (at most 5 s)."""
    deadline = time.monotonic() + 5
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        while time.monotonic() < deadline:
            cur = await conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = %s AND wait_event_type = 'Lock'",
                (application_name,),
            )
            if (await cur.fetchone()) == (1,):
                return
    pytest.fail(f"{application_name} never waited for the lock")


# -- last-sent group commit --------------------------------------------------------------


async def test_closing_commits_the_last_sent_rows_already_queued(pg_schema: str) -> None:
    """A gateway shutting down still makes durable what its callers were promised."""
    store = await PostgresStore.open(url(pg_schema))
    async with asyncio.timeout(10):
        await asyncio.gather(
            *(store.record_sent("ogiya", [f"user{i}@example.jp"], WHEN) for i in range(10)),
            store.close(),
        )
    assert sql(f"SELECT count(*) FROM {pg_schema}.last_sent") == [(10,)]
    assert store.sent_commits == 1
    with pytest.raises(StoreError, match="closed"):
        await store.record_sent("ogiya", ["late@example.jp"], WHEN)


# -- the per-message statements ---------------------------------------------------------


async def test_a_server_that_forgot_the_prepared_statements_costs_no_failed_call(
    pg_schema: str,
) -> None:
    """lookup and record_sent are prepared once per connection; a server (or a pooler in
    front of it) that dropped them gets them prepared again, and the call succeeds."""
    async with opened(url(pg_schema, pool_max_size=1)) as store:
        await add(store, consent("a@example.jp"))
        await store.record_sent("ogiya", ["a@example.jp"], WHEN)
        assert "a@example.jp" in await store.lookup("ogiya", ["a@example.jp"])
        async with store._pool.connection() as conn:  # the pool's only connection
            await conn.execute("DEALLOCATE ALL")
        await store.record_sent("ogiya", ["a@example.jp"], WHEN.replace(day=2))
        found = await store.lookup("ogiya", ["a@example.jp"])
    assert found["a@example.jp"].last_sent_at == WHEN.replace(day=2)


async def test_an_error_of_the_server_is_a_store_error_naming_the_store(pg_schema: str) -> None:
    async with opened(url(pg_schema)) as store:
        sql(f"DROP TABLE {pg_schema}.last_sent")
        with pytest.raises(StoreError, match=r"lookup failed: .*last_sent.* does not exist"):
            await store.lookup("ogiya", ["a@example.jp"])
        with pytest.raises(StoreError, match=r"cannot record sent mail: .*last_sent"):
            await store.record_sent("ogiya", ["a@example.jp"], WHEN)


# -- the pool ---------------------------------------------------------------------------


async def test_the_pool_reuses_its_connections(pg_schema: str) -> None:
    """200 lookups and last-sent writes, 50 at a time, through at most two connections
    that stay open throughout."""
    app = f"tokuden-pool-{pg_schema}"
    sessions = (
        "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s ORDER BY 1"
    )
    addresses = [f"user{i}@example.jp" for i in range(50)]
    async with opened(url(pg_schema, application_name=app, pool_max_size=2)) as store:
        async with store.writer() as w:
            await w.add_consents([consent(a) for a in addresses])
        before = sql(sessions, app)
        for _ in range(2):
            await asyncio.gather(
                *(store.lookup("ogiya", [a]) for a in addresses),
                *(store.record_sent("ogiya", [a], WHEN) for a in addresses),
            )
        after = sql(sessions, app)
    assert 1 <= len(after) <= 2
    assert set(before) <= set(after)


async def test_a_server_restart_costs_no_failed_call(pg_schema: str) -> None:
    """The connections the pool holds die with the server; the next calls get new ones
    instead of a StoreError (and the gateway's 451)."""
    cable = Cable()
    port = await cable.start()
    async with opened(url_at(port, pg_schema, pool_max_size=2)) as store:
        await add(store, consent("a@example.jp"))
        await store.record_sent("ogiya", ["a@example.jp"], WHEN)
        await cable.drop()
        assert (await store.lookup("ogiya", ["a@example.jp"]))["a@example.jp"].last_sent_at == WHEN
        await cable.drop()
        await store.record_sent("ogiya", ["a@example.jp"], WHEN.replace(day=2))
        await cable.drop()
        await add(store, consent("b@example.jp"))
        found = await store.lookup("ogiya", ["a@example.jp", "b@example.jp"])
    assert found["a@example.jp"].last_sent_at == WHEN.replace(day=2)
    assert "b@example.jp" in found
    await cable.cut()


def test_pool_settings_come_from_the_url_and_the_password_is_never_shown() -> None:
    from gateway.store.postgres import _Settings

    settings = _Settings.parse(
        "postgresql://tokuden:s3cret@db.example:6432/consent"
        "?pool_min_size=2&pool_max_size=20&pool_timeout=1.5&sslmode=disable&password=s3cret"
    )
    assert (settings.min_size, settings.max_size, settings.timeout) == (2, 20, 1.5)
    assert settings.url == "postgresql://tokuden@db.example:6432/consent?sslmode=disable"
    libpq = conninfo_to_dict(settings.conninfo)
    assert libpq["connect_timeout"] == "2"  # libpq's least; whole seconds
    assert "pool_timeout" not in libpq and libpq["sslmode"] == "disable"
    defaults = _Settings.parse("postgresql://tokuden@db.example/consent")
    assert (defaults.min_size, defaults.max_size, defaults.timeout) == (1, 10, 5.0)
    assert conninfo_to_dict(defaults.conninfo)["connect_timeout"] == "5"
    for bad in ("pool_max_size=0", "pool_min_size=3&pool_max_size=2", "pool_timeout=soon"):
        with pytest.raises(StoreError, match=r"db\.example") as error:
            _Settings.parse(f"postgresql://tokuden:s3cret@db.example/consent?{bad}")
        assert "s3cret" not in str(error.value)


# -- a server that is down: StoreError, quickly, so the gateway answers 451 -------------


async def test_a_refused_connection_fails_open_at_once_naming_host_and_database() -> None:
    with closed_port() as port:
        started = time.monotonic()
        with pytest.raises(StoreError) as error:
            await PostgresStore.open(url_at(port).replace("@", ":s3cret@", 1))
        assert time.monotonic() - started < 1
    message = str(error.value)
    assert f"127.0.0.1:{port}/{SERVER['dbname']}" in message
    assert "s3cret" not in message


async def test_a_server_that_never_answers_fails_open_within_the_timeout() -> None:
    with silent_port() as port:
        started = time.monotonic()
        with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
            await PostgresStore.open(url_at(port, pool_timeout=1))
        assert time.monotonic() - started < 4  # libpq's connect_timeout: 2 s at least


async def test_a_server_lost_after_opening_fails_every_call_within_the_timeout(
    pg_schema: str,
) -> None:
    cable = Cable()
    port = await cable.start()
    async with opened(url_at(port, pg_schema, pool_timeout=1)) as store:
        async with store.writer() as w:
            await w.add_consents([consent("a@example.jp")])
        assert "a@example.jp" in await store.lookup("ogiya", ["a@example.jp"])
        await cable.cut()

        started = time.monotonic()
        with pytest.raises(StoreError, match=f"127.0.0.1:{port}.*lookup failed"):
            await store.lookup("ogiya", ["a@example.jp"])
        assert time.monotonic() - started < 3
        sent = await asyncio.gather(
            *(store.record_sent("ogiya", ["a@example.jp"], WHEN) for _ in range(3)),
            return_exceptions=True,
        )
        assert [type(result) for result in sent] == [StoreError] * 3
        with pytest.raises(StoreError):
            async with store.writer() as w:
                await w.add_optouts([OptOutEvent("ogiya", "a@example.jp", WHEN)])
