"""The consent model: why a recipient may receive a sender's advertising (LAW.md C1-C4, K1-K3, O1).

Events are the record the law asks for and are never edited: a consent event
says a basis was obtained (K1), an opt-out event says the recipient asked to
stop (O1, never deleted). The current state of one (sender, address) — a
``ConsentRecord`` — is derived from them and is what the gateway looks up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

ALL_TOPICS = "*"  # an opt-out scope: everything the sender sends
# How far ahead of this host's clock an imported time may be: the clocks of the web
# servers and shops that collected it are not ours. Anything later is refused.
CLOCK_SKEW = timedelta(hours=24)


class Basis(StrEnum):
    """The legal basis of Art. 3(1); the value is the word used in files and the config."""

    CONSENT = "consent"
    NOTIFIED = "notified"
    TRANSACTION = "transaction"
    PUBLISHED = "published"

    @property
    def rule(self) -> str:
        """The LAW.md id of this basis."""
        return _RULES[self]


_RULES = {
    Basis.CONSENT: "C1",
    Basis.NOTIFIED: "C2",
    Basis.TRANSACTION: "C3",
    Basis.PUBLISHED: "C4",
}


@dataclass(frozen=True)
class ConsentTemplate:
    """K1(b): the fixed wording of the form, mail or web page shown when consent was taken."""

    sender: str
    template_id: str
    version: int  # assigned by the store: 1, 2, … per (sender, template_id)
    wording: str
    channel: str = ""  # "web form", "paper form", "confirmation mail", …
    created_at: datetime | None = None


@dataclass(frozen=True)
class ConsentEvent:
    """A basis obtained for one (sender, address); append-only (K1)."""

    sender: str
    address: str  # normalised (gateway.address.normalize)
    basis: Basis
    obtained_at: datetime  # aware
    consignor: str = ""  # S3: on whose behalf, when the sender mails for another company
    topics: tuple[str, ...] = ()  # empty: consent to every topic of the sender
    method: str = ""  # how and through which channel it was obtained
    evidence: str = ""  # K1(a): the circumstances for this address
    template_id: str | None = None  # K1(b): the wording shown, see ConsentTemplate
    template_version: int | None = None
    collected_by: str = ""  # who collected it (a shop, a partner, an import)
    refusal_displayed: bool = False  # C4: the published address says it refuses ads
    # When the store recorded it (set by the store; None: before tokuden kept it). Not part
    # of the event's identity: the same event read back compares equal to the one written.
    recorded_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OptOutEvent:
    """A request to stop (O1); never deleted, never expires."""

    sender: str
    address: str  # normalised
    opted_out_at: datetime  # aware
    scope: str = ALL_TOPICS  # ALL_TOPICS or one topic
    channel: str = ""  # "web page", "one-click", "mail", "reply", "phone", "complaint", "import"
    evidence: str = ""  # the raw request: the mail's Message-ID, the page hit, the call note
    recorded_at: datetime | None = field(default=None, compare=False)  # as ConsentEvent's


@dataclass(frozen=True, slots=True)  # built per looked-up row: slots halve the cost
class ConsentRecord:
    """The current state of one (sender, address), derived from its events.

    The latest consent event gives the basis. An opt-out of everything made after
    it stops all advertising; a consent obtained after an opt-out lifts it (the
    recipient subscribed again). Topic opt-outs after the latest consent stop
    those topics only. At the same instant the opt-out wins (O1).

    "Latest" and "after" compare when each event took effect: its own time, or
    when the store recorded it if that was earlier. Events may arrive in any
    order (a list of last month's consents imported after today's opt-out), and
    each still counts at the time it happened; but a time that had not yet come
    when the event was recorded (a shop's clock ahead, a typo of 2099) counts
    from its recording: it cannot outrank an opt-out the store receives later,
    and ``consent optout`` never leaves a "may receive" behind it. The record's
    ``obtained_at`` and ``opted_out_at`` are these effective times; the events
    keep the times as given (K1).
    """

    sender: str
    address: str
    basis: Basis | None  # None: only opt-outs are on record (or the consent was purged)
    obtained_at: datetime | None = None
    method: str = ""
    evidence: str = ""
    refusal_displayed: bool = False
    topics: tuple[str, ...] = ()  # the topics consented to; empty: all
    opted_out_at: datetime | None = None  # opt-out of everything, if any
    optout_method: str = ""
    optout_topics: frozenset[str] = field(default_factory=frozenset)
    last_sent_at: datetime | None = None  # the last advertising mail relayed to the address

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    def barred_by(self, topic: str | None = None) -> str | None:
        """The LAW.md id that forbids advertising (on ``topic``) despite this record, if any.

        O1: the recipient opted out of everything, or of this topic. C4: the address
        was published together with a refusal of advertising mail. C1: the consent
        does not cover this topic, or there is no basis at all.
        """
        if self.opted_out or (topic is not None and topic in self.optout_topics):
            return "O1"
        if self.basis is None:
            return "C1"
        if self.basis is Basis.PUBLISHED and self.refusal_displayed:
            return "C4"
        if topic is not None and self.topics and topic not in self.topics:
            return "C1"
        return None
