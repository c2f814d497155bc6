"""Findings → per-recipient outcomes, and how each mode softens them (DESIGN.md: Modes)."""

from __future__ import annotations

import pytest

from gateway.api import Action, Classification, Finding
from gateway.decision import Outcome, decide, new_id
from gateway.profile import Category, Mode

AD = Classification(Category.ADVERTISING, "content")
D2 = Finding("D2", "display.optout_missing", Action.BLOCK, "no opt-out")
C1_SUZUKI = Finding(
    "C1", "consent.no_basis", Action.BLOCK, "no basis", recipients=("suzuki@example.jp",)
)
D3_NOTE = Finding("D3", "display.note", Action.ANNOTATE, "far")
O3_LOG = Finding("O3", "consent.optout_exception", Action.LOG, "exception applied")
RCPTS = ["yoshida@example.jp", "suzuki@example.jp"]


def test_a_finding_for_all_blocks_every_recipient_in_enforce() -> None:
    d = decide([D2], RCPTS, Mode.ENFORCE, AD)
    assert {a: r.outcome for a, r in d.recipients.items()} == dict.fromkeys(RCPTS, Outcome.BLOCK)
    assert d.relayed == []
    assert d.blocked == RCPTS


def test_a_recipient_finding_blocks_only_that_recipient() -> None:
    d = decide([C1_SUZUKI], RCPTS, Mode.ENFORCE, AD)
    assert d.recipients["suzuki@example.jp"].outcome is Outcome.BLOCK
    assert d.recipients["suzuki@example.jp"].rules == ["C1"]
    assert d.recipients["yoshida@example.jp"].outcome is Outcome.PASS
    assert d.relayed == ["yoshida@example.jp"]


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [
        (Mode.ENFORCE, Outcome.BLOCK),
        (Mode.ANNOTATE, Outcome.ANNOTATE),
        (Mode.MONITOR, Outcome.PASS),
    ],
)
def test_mode_softens_a_block_but_would_keeps_it(mode: Mode, outcome: Outcome) -> None:
    r = decide([D2], RCPTS[:1], mode, AD).recipients[RCPTS[0]]
    assert r.outcome is outcome
    assert r.would is Outcome.BLOCK


def test_annotate_finding_annotates_and_log_finding_does_nothing() -> None:
    d = decide([D3_NOTE, O3_LOG], RCPTS[:1], Mode.ENFORCE, AD)
    r = d.recipients[RCPTS[0]]
    assert r.outcome is Outcome.ANNOTATE
    assert r.rules == ["D3"]
    assert d.header_outcome is Outcome.ANNOTATE
    assert d.header_rules == ["D3"]
    assert (
        decide([O3_LOG], RCPTS[:1], Mode.ENFORCE, AD).recipients[RCPTS[0]].outcome is Outcome.PASS
    )


def test_rules_are_listed_once_in_order() -> None:
    d = decide([D2, C1_SUZUKI, D2], RCPTS, Mode.ENFORCE, AD)
    assert d.recipients["suzuki@example.jp"].rules == ["D2", "C1"]


def test_a_blocked_recipient_lists_the_blocking_rules_not_the_annotations() -> None:
    d = decide([D3_NOTE, C1_SUZUKI], RCPTS, Mode.ENFORCE, AD)
    assert d.recipients["suzuki@example.jp"].rules == ["C1"]
    assert d.recipients["yoshida@example.jp"].rules == ["D3"]


def test_monitor_keeps_the_rules_of_what_enforce_would_do() -> None:
    r = decide([C1_SUZUKI], RCPTS, Mode.MONITOR, AD).recipients["suzuki@example.jp"]
    assert (r.outcome, r.would, r.rules) == (Outcome.PASS, Outcome.BLOCK, ["C1"])


def test_the_relayed_copy_never_carries_another_recipients_findings() -> None:
    """One copy reaches every relayed recipient: a consent finding about one stays in the log."""
    d = decide([C1_SUZUKI], RCPTS, Mode.ANNOTATE, AD)
    assert d.recipients["suzuki@example.jp"].outcome is Outcome.ANNOTATE
    assert d.header_rules == []
    assert d.header_outcome is Outcome.PASS


def test_monitor_mode_changes_nothing_in_the_mail() -> None:
    d = decide([D2], RCPTS, Mode.MONITOR, AD)
    assert d.relayed == RCPTS
    assert (d.header_outcome, d.header_rules) == (Outcome.PASS, [])


def test_annotate_mode_writes_message_wide_rules_into_the_mail() -> None:
    d = decide([D2, C1_SUZUKI], RCPTS, Mode.ANNOTATE, AD)
    assert (d.header_outcome, d.header_rules) == (Outcome.ANNOTATE, ["D2"])


def test_decision_ids_are_unique_and_time_ordered() -> None:
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert [i[:11] for i in ids] == sorted(i[:11] for i in ids)
