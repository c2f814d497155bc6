"""K2: how long a consent record must be kept once mail to the address has stopped.

One month after the day mail to the address stops; one year when the sender
mailed the address within a year after receiving a measures order (Art. 7) —
any mail in that year counts, not only the last one, so the store remembers the
last mail relayed inside an order's year (``last_sent.order_sent_at``) besides
the last mail of all; three years for senders that also fall under the Act on
Specified Commercial Transactions (特定商取引法, mail-order:
``senders.NAME.retention = "mail_order"``).

Mail to an address stops when the recipient opts out of everything; the day it
stopped is the later of the opt-out and the last advertising mail relayed. An
address that simply gets no more mail, without an opt-out, has not "stopped"
for this purpose and is never purged: nobody can know that sending has
stopped (the next campaign may include it, and would need the record), and a
purge would drop its basis, i.e. silently unsubscribe it. Keeping a record
longer than K2 asks is lawful; an operator who wants such records gone decides
it, the gateway does not guess it.

Months are counted on Japanese calendar days (JST): a store's UTC times would
move a month end by a day (31 March 05:00 JST is 30 March in UTC). The law
counts days, so a record is kept to the END of the corresponding day (as the
Civil Code counts periods, 民法143条): kept a little longer, never shorter. The
measures order's year is counted alike: received on 5 January 2026, it covers
mail sent until the end of 5 January 2027.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from gateway.store import MeasuresOrder, PurgeCandidate

JST = timezone(timedelta(hours=9), "JST")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def order_year_end(received_at: datetime) -> datetime:
    """The moment (JST midnight) a measures order's year ends: mail sent before it, from
    ``received_at`` on, makes K2's period one year. The stores keep it with the order."""
    return _end_of_day(add_months(received_at.astimezone(JST), 12))


def in_order_year(sent: datetime, orders: Sequence[MeasuresOrder]) -> bool:
    return any(o.received_at <= sent < order_year_end(o.received_at) for o in orders)


def keep_until(
    candidate: PurgeCandidate, orders: Sequence[MeasuresOrder], mail_order: bool = False
) -> datetime:
    """The moment (JST midnight) until which the consent record of ``candidate`` is kept."""
    stopped = max(t for t in (candidate.opted_out_at, candidate.last_sent_at) if t is not None)
    stopped = stopped.astimezone(JST)
    sent_in_order_year = candidate.order_sent_at is not None or (
        candidate.last_sent_at is not None and in_order_year(candidate.last_sent_at, orders)
    )
    if mail_order:
        months = 36
    elif sent_in_order_year:
        months = 12
    else:
        months = 1
    return _end_of_day(add_months(stopped, months))


def _end_of_day(moment: datetime) -> datetime:
    """The midnight that ends ``moment``'s day (JST)."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
