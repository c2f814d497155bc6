"""K2 retention periods, from LAW.md K2 and the ordinance's wording."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.retention import add_months, keep_until, order_year_end
from gateway.store import MeasuresOrder, PurgeCandidate


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text + "+09:00")


def candidate(
    opted_out: str, last_sent: str | None, order_sent: str | None = None
) -> PurgeCandidate:
    return PurgeCandidate(
        "ogiya",
        "a@example.jp",
        at(opted_out),
        at(last_sent) if last_sent else None,
        1,
        at(order_sent) if order_sent else None,
    )


def test_calendar_months_clamp_to_the_last_day() -> None:
    assert add_months(at("2026-01-31T10:00:00"), 1) == at("2026-02-28T10:00:00")
    assert add_months(at("2028-01-31T10:00:00"), 1) == at("2028-02-29T10:00:00")
    assert add_months(at("2026-12-15T00:00:00"), 1) == at("2027-01-15T00:00:00")
    assert add_months(at("2026-03-01T00:00:00"), 36) == at("2029-03-01T00:00:00")


def test_one_month_after_mail_stopped() -> None:
    """K2: until one month after the day mail to that address stops."""
    c = candidate(opted_out="2026-05-10T09:00:00", last_sent="2026-05-01T09:00:00")
    assert keep_until(c, []) == jst("2026-06-11T00:00:00")  # the end of 10 June (JST)


def test_a_mail_sent_after_the_opt_out_moves_the_stop_day() -> None:
    c = candidate(opted_out="2026-05-10T09:00:00", last_sent="2026-05-20T09:00:00")
    assert keep_until(c, []) == jst("2026-06-21T00:00:00")


def test_never_sent_counts_from_the_opt_out() -> None:
    assert keep_until(candidate("2026-05-10T09:00:00", None), []) == jst("2026-06-11T00:00:00")


def test_one_year_when_sending_within_a_year_after_a_measures_order() -> None:
    """K2: a sender that received a measures order and sends within one year after it."""
    order = MeasuresOrder("ogiya", at("2026-01-15T00:00:00"))
    within = candidate(opted_out="2026-05-10T09:00:00", last_sent="2026-05-01T09:00:00")
    assert keep_until(within, [order]) == jst("2027-05-11T00:00:00")
    after = candidate(opted_out="2027-03-10T09:00:00", last_sent="2027-03-01T09:00:00")
    assert keep_until(after, [order]) == jst("2027-04-11T00:00:00")
    before = candidate(opted_out="2025-12-10T09:00:00", last_sent="2025-12-01T09:00:00")
    assert keep_until(before, [order]) == jst("2026-01-11T00:00:00")


def test_any_mail_inside_the_order_year_counts_not_only_the_last() -> None:
    """K2: "sends within one year after it" — an address mailed inside the order's year
    and again after it keeps the one-year period, counted from when mail stopped."""
    order = MeasuresOrder("ogiya", at("2026-01-15T00:00:00"))
    c = candidate(
        opted_out="2027-03-10T09:00:00",
        last_sent="2027-03-01T09:00:00",  # after the order's year
        order_sent="2026-05-01T09:00:00",  # inside it
    )
    assert keep_until(c, [order]) == jst("2028-03-11T00:00:00")


def test_the_order_year_runs_to_the_end_of_its_last_japanese_day() -> None:
    """Received 5 Jan 2026 (JST): mail until the end of 5 Jan 2027 is inside (民法143条)."""
    received = jst("2026-01-05T10:00:00")
    assert order_year_end(received) == jst("2027-01-06T00:00:00")
    assert order_year_end(jst("2028-02-29T10:00:00")) == jst("2029-03-01T00:00:00")
    order = MeasuresOrder("ogiya", received)
    inside = candidate(opted_out="2027-01-10T00:00:00", last_sent="2027-01-05T14:59:00")
    outside = candidate(opted_out="2027-01-10T00:00:00", last_sent="2027-01-05T15:00:00")
    assert keep_until(inside, [order]) == jst("2028-01-11T00:00:00")  # 23:59 JST: one year
    assert keep_until(outside, [order]) == jst("2027-02-11T00:00:00")  # 00:00 JST 6 Jan


def test_three_years_for_mail_order_senders() -> None:
    c = candidate(opted_out="2026-05-10T09:00:00", last_sent="2026-05-01T09:00:00")
    assert keep_until(c, [], mail_order=True) == jst("2029-05-11T00:00:00")


def test_months_are_counted_on_japanese_days() -> None:
    """31 March 05:00 JST is 30 March in UTC; one month after the Japanese day is 30 April."""
    c = candidate(opted_out="2026-03-30T20:00:00", last_sent=None)  # 2026-03-31 05:00 JST
    assert keep_until(c, []) == jst("2026-05-01T00:00:00")  # the end of 30 April
