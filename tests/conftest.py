"""Shared test fixtures: where the shared law, examples and corpora are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import ConsentStore, open_store

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
