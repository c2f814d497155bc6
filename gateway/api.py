"""The public policy API: everything a policy author imports comes from here.

A policy is a class with a ``name``, built from its config table
(``Policy(options)``), with ``check(message, context)`` returning findings
(plain or ``async``). A policy finds; it never decides: the decision module
turns findings into per-recipient outcomes, and the profile's mode says how
hard they bite. A policy that raises makes the message fail temporarily
(451), never pass unchecked.

A policy that can judge a recipient from the envelope alone (no body) may
also define ``check_recipients(context)``; the gateway then uses it at RCPT
time for marketing-only profiles, to refuse each recipient with its own 550.

A policy that needs DNS asks ``context.resolver`` (the gateway's cached
resolver; tests give an in-process zone). Letting `DnsTempError` out of
``check`` is the right answer to a lookup that could not be made: the
message is deferred, never judged on a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gateway.consent import Basis, ConsentRecord
from gateway.dns import DnsTempError, Record, Resolver
from gateway.message import HiddenText, Link, ParsedMessage, TextPart, nfkc
from gateway.profile import Category, Mode, SenderProfile

__all__ = [
    "Action",
    "Basis",
    "Category",
    "Classification",
    "ConsentRecord",
    "DnsTempError",
    "Envelope",
    "Finding",
    "HiddenText",
    "Link",
    "Mode",
    "ParsedMessage",
    "Policy",
    "PolicyContext",
    "RecipientPolicy",
    "Record",
    "Resolver",
    "SenderProfile",
    "TextPart",
    "nfkc",
]


class Action(StrEnum):
    """What a finding asks for; the profile's mode may soften it."""

    BLOCK = "block"
    ANNOTATE = "annotate"
    LOG = "log"


@dataclass(frozen=True)
class Finding:
    """One thing a policy found, citing a LAW.md rule id (or the author's own id)."""

    rule: str
    code: str  # stable, dotted: "display.optout_missing"
    action: Action
    message: str  # one line, English, ASCII: it is quoted in SMTP replies (RFC 5321)
    message_ja: str = ""  # one line, Japanese
    recipients: tuple[str, ...] | None = None  # None: the finding concerns every recipient
    evidence: str = ""  # the offending line, the looked-up record
    policy: str = ""  # filled in by the pipeline: the name of the policy that found it

    def concerns(self, address: str) -> bool:
        return self.recipients is None or address in self.recipients


@dataclass(frozen=True)
class Classification:
    """The category of a mail and what decided it ("header", "profile" or "content")."""

    category: Category
    decided_by: str
    reason: str = ""


@dataclass(frozen=True)
class Envelope:
    """SMTP envelope; recipient addresses are normalised (see gateway.address)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]


@dataclass(frozen=True)
class PolicyContext:
    """Everything a policy may look at besides the message itself."""

    profile: SenderProfile
    envelope: Envelope
    classification: Classification
    consent: Mapping[str, ConsentRecord | None] = field(default_factory=dict)
    topic: str | None = None  # the mail's topic (gateway.topic), for topic consent and opt-outs
    resolver: Resolver | None = None  # DNS, for checks that need it; DnsTempError means 451
    egress: tuple[str, ...] = ()  # the addresses the next hop sends from (config relay.egress)

    @property
    def category(self) -> Category:
        return self.classification.category


FindingsResult = Iterable[Finding] | Awaitable[Iterable[Finding]]


@runtime_checkable
class Policy(Protocol):
    """A check of a parsed message. Constructed as ``cls(options)``."""

    name: str

    def check(self, message: ParsedMessage, context: PolicyContext) -> FindingsResult: ...


@runtime_checkable
class RecipientPolicy(Protocol):
    """A policy that can also judge recipients before DATA (no message yet)."""

    name: str

    def check_recipients(self, context: PolicyContext) -> Iterable[Finding]: ...
