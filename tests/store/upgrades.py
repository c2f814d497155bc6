"""What an upgraded store must say of events recorded before ``recorded_at`` existed."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.consent import OptOutEvent
from gateway.store import ConsentStore


async def assert_future_consent_counts_from_the_upgrade(
    store: ConsentStore, obtained: datetime, before: datetime
) -> None:
    """A consent dated in the future, stored before the upgrade, counts from the upgrade on
    (its own date kept as given, K1); the opt-out stored before it keeps its own time, and
    one recorded now bars the address (O1)."""
    history = await store.history("a@example.jp")
    (future,) = history.consents
    (past,) = history.optouts
    assert future.obtained_at == obtained
    assert future.recorded_at is not None and before <= future.recorded_at
    assert past.recorded_at is None  # at its own time, as before
    (state,) = history.states
    assert state.obtained_at == future.recorded_at
    assert state.barred_by() is None  # the old opt-out came before the upgrade
    async with store.writer() as w:
        await w.add_optouts([OptOutEvent("ogiya", "a@example.jp", datetime.now(UTC))])
    assert (await store.lookup("ogiya", ["a@example.jp"]))["a@example.jp"].barred_by() == "O1"
