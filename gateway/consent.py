"""The consent record: why a recipient may receive a sender's advertising (LAW.md C1-C4, O1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
class ConsentRecord:
    """What the store knows of one (sender profile, address)."""

    sender: str
    address: str
    basis: Basis
    obtained_at: datetime | None = None
    method: str = ""
    evidence: str = ""
    refusal_displayed: bool = False
    opted_out_at: datetime | None = None
    optout_method: str = ""

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def barred_by(self) -> str | None:
        """The LAW.md id that forbids advertising despite this record, if any.

        O1: the recipient opted out, whatever the basis. C4: the address was
        published together with a refusal of advertising mail.
        """
        if self.opted_out:
            return "O1"
        if self.basis is Basis.PUBLISHED and self.refusal_displayed:
            return "C4"
        return None
