"""K2: how long a consent record must be kept once mail to the address has stopped.

One month after the day mail to the address stops; one year when the sender
sent within a year after receiving a measures order (Art. 7); three years for
senders that also fall under the Act on Specified Commercial Transactions
(特定商取引法, mail-order: ``senders.NAME.retention = "mail_order"``).
Mail to an address stops when the recipient opts out of everything; the day it
stopped is the later of the opt-out and the last advertising mail relayed.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime

from gateway.store import MeasuresOrder, PurgeCandidate


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def keep_until(
    candidate: PurgeCandidate, orders: Sequence[MeasuresOrder], mail_order: bool = False
) -> datetime:
    stopped = max(t for t in (candidate.opted_out_at, candidate.last_sent_at) if t is not None)
    if mail_order:
        return add_months(stopped, 36)
    sent = candidate.last_sent_at
    if sent is not None and any(
        o.received_at <= sent <= add_months(o.received_at, 12) for o in orders
    ):
        return add_months(stopped, 12)
    return add_months(stopped, 1)
