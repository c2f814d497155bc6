"""Shared test fixtures: where the shared law, examples and corpora are; empty consent stores.

``store_url`` gives one store of each backend, embedded SQLite and a real
PostgreSQL: the server at $TOKUDEN_TEST_PG (default: trust auth on
127.0.0.1:5432, database ``test``, as on these machines; ``.ci/run`` starts one
where none runs). Each test gets a schema of its own, dropped afterwards. A
server that cannot be reached fails the test: nothing is skipped silently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from gateway.store import ConsentStore, open_store

pytest_plugins = ["tests.dkimpeers"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"

if not (SHARED / "examples" / "cases.toml").is_file():
    raise pytest.UsageError(
        f"the shared folder is missing: expected {SHARED} beside the checkout "
        "(it holds LAW.md, examples/ and corpora/)"
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ConsentStore]:
    """An empty SQLite consent store of this test's own."""
    s = await open_store(f"sqlite:{tmp_path / 'consent.db'}")
    yield s
    await s.close()


PG_URL = os.environ.get("TOKUDEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh, empty schema; its name is unique to this test."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pg_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each backend (the CLI tests open it themselves)."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'consent.db'}"
    schema: str = request.getfixturevalue("pg_schema")
    return pg_url(schema)
