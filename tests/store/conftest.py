"""Every store test runs against both backends (``store_url``, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.store import ConsentStore, open_store


@pytest.fixture
async def any_store(store_url: str) -> AsyncIterator[ConsentStore]:
    store = await open_store(store_url)
    try:
        yield store
    finally:
        await store.close()
