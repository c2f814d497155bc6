"""Sender profiles: who a client company is and what its mail must display."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gateway.address import AddressError, normalize_domain


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
class DkimKey:
    """One DKIM signing key of a profile: d= domain, s= selector, the private key file."""

    domain: str
    selector: str
    key_file: str  # PEM (PKCS#1 or PKCS#8), RSA or Ed25519; read by gateway.signing


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
    display_fix: str = "none"  # "footer": append display_block when display items are missing
    display_block: str | None = None  # its wording; None: gateway.footer.DEFAULT_BLOCK
    topic: str | None = None  # the topic of its mail unless the client names one (X-Tokuden-Topic)
    retention: str = "standard"  # K2; "mail_order": three years after the last ad (特定商取引法)
    dkim: tuple[DkimKey, ...] = ()  # every key whose domain aligns with From signs (dual-signing)
    auth_action: str = "annotate"  # what an SPF or DMARC finding asks for: block, annotate, log

    def owns_domain(self, domain: str) -> bool:
        """True for one of ``from_domains`` or a subdomain of one, on a label boundary (A5).

        ``ogiya.example`` owns ``mail.ogiya.example``, not ``ogiya.example.evil.test``
        nor ``evilogiya.example``; Unicode and A-label spellings are one domain.
        """
        try:
            name = normalize_domain(domain)
        except AddressError:
            return False
        return any(_within(name, own) for own in _owned(self.from_domains))

    def signing_keys(self, from_domain: str) -> tuple[DkimKey, ...]:
        """The keys that sign a mail From ``from_domain``: ``d=`` is that domain or a parent.

        Such a ``d=`` is aligned with From under DMARC's relaxed mode, and is
        the domain itself under strict mode; with keys for both an RSA and an
        Ed25519 selector the mail is dual-signed (RFC 8463).
        """
        try:
            name = normalize_domain(from_domain)
        except AddressError:
            return ()
        keys = []
        for key in self.dkim:
            try:
                own = normalize_domain(key.domain)
            except AddressError:
                continue
            if _within(name, own):
                keys.append(key)
        return tuple(keys)


def _within(name: str, domain: str) -> bool:
    """``name`` is ``domain`` or below it, on a label boundary."""
    return name == domain or name.endswith("." + domain)


def _owned(domains: tuple[str, ...]) -> list[str]:
    owned = []
    for domain in domains:
        try:
            owned.append(normalize_domain(domain))
        except AddressError:
            continue
    return owned
