"""Sender profiles: who a client company is and what its mail must display."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    """What a mail is, for the law (LAW.md S1, O3)."""

    ADVERTISING = "advertising"
    INCIDENTAL = "incidental"
    NON_ADVERTISING = "non_advertising"


class Mode(StrEnum):
    """How hard a profile's findings bite (DESIGN.md: new senders start in monitor)."""

    ENFORCE = "enforce"
    ANNOTATE = "annotate"
    MONITOR = "monitor"


@dataclass(frozen=True)
class SenderProfile:
    """One client company (consignor) of the ESP, as the config describes it."""

    name: str
    consignor: str
    names: tuple[str, ...] = ()
    postal_addresses: tuple[str, ...] = ()
    optout_url: str | None = None
    optout_address: str | None = None
    contact: tuple[str, ...] = ()
    info_url: str | None = None
    from_domains: tuple[str, ...] = ()
    auth_users: Mapping[str, str] = field(default_factory=dict)
    mode: Mode = Mode.MONITOR
    default_category: Category | None = None
    marketing_only: bool = False
