"""The one place that turns findings into per-recipient outcomes (Mailman's chains, not its rules).

A finding asks for an action; the sender profile's mode says how hard it
bites: ``enforce`` blocks, ``annotate`` only marks, ``monitor`` only logs.
``would`` keeps what enforce mode would have done, so monitor mode still
shows an operator what it would block.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.api import Action, Classification, Finding
from gateway.profile import Mode


class Outcome(StrEnum):
    PASS = "pass"
    ANNOTATE = "annotate"
    BLOCK = "block"


_ACTION_OF = {Outcome.BLOCK: Action.BLOCK, Outcome.ANNOTATE: Action.ANNOTATE}

_SOFTENED = {
    Mode.ENFORCE: {Outcome.BLOCK: Outcome.BLOCK, Outcome.ANNOTATE: Outcome.ANNOTATE},
    Mode.ANNOTATE: {Outcome.BLOCK: Outcome.ANNOTATE, Outcome.ANNOTATE: Outcome.ANNOTATE},
    Mode.MONITOR: {Outcome.BLOCK: Outcome.PASS, Outcome.ANNOTATE: Outcome.PASS},
}


@dataclass(frozen=True)
class RecipientDecision:
    address: str
    outcome: Outcome  # what happens, after the mode
    would: Outcome  # what enforce mode would do
    findings: tuple[Finding, ...]

    @property
    def rules(self) -> list[str]:
        """Rule ids behind ``would``: the block findings of a block, the annotate ones of an
        annotate, in order, once each. Log-only findings never count."""
        wanted = _ACTION_OF.get(self.would)
        return _rules(f for f in self.findings if f.action is wanted)


@dataclass(frozen=True)
class Decision:
    id: str
    mode: Mode
    classification: Classification
    findings: tuple[Finding, ...]
    recipients: dict[str, RecipientDecision]

    @property
    def relayed(self) -> list[str]:
        return [a for a, r in self.recipients.items() if r.outcome is not Outcome.BLOCK]

    @property
    def blocked(self) -> list[str]:
        return [a for a, r in self.recipients.items() if r.outcome is Outcome.BLOCK]

    @property
    def header_rules(self) -> list[str]:
        """The rules written into the relayed copy: message-wide findings only, none in monitor.

        One copy goes to every relayed recipient, so what concerns one recipient (its
        consent) stays in the log; monitor mode changes nothing in the mail.
        """
        if self.mode is Mode.MONITOR:
            return []
        return _rules(
            f for f in self.findings if f.recipients is None and f.action is not Action.LOG
        )

    @property
    def header_outcome(self) -> Outcome:
        return Outcome.ANNOTATE if self.header_rules else Outcome.PASS


def new_id() -> str:
    """Time-ordered, unique across processes: milliseconds then 32 random bits, hex."""
    return f"{time.time_ns() // 1_000_000:011x}{secrets.token_hex(4)}"


def decide(
    findings: Sequence[Finding],
    recipients: Sequence[str],
    mode: Mode,
    classification: Classification,
    decision_id: str | None = None,
) -> Decision:
    per_recipient = {}
    for address in recipients:
        mine = tuple(f for f in findings if f.concerns(address))
        would = _strongest(mine)
        outcome = _SOFTENED[mode].get(would, Outcome.PASS)
        per_recipient[address] = RecipientDecision(address, outcome, would, mine)
    return Decision(decision_id or new_id(), mode, classification, tuple(findings), per_recipient)


def _strongest(findings: Iterable[Finding]) -> Outcome:
    actions = {f.action for f in findings}
    if Action.BLOCK in actions:
        return Outcome.BLOCK
    if Action.ANNOTATE in actions:
        return Outcome.ANNOTATE
    return Outcome.PASS


def _rules(findings: Iterable[Finding]) -> list[str]:
    return list(dict.fromkeys(f.rule for f in findings))
