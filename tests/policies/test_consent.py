"""Consent per recipient (LAW.md C1–C4, O1, O3), in the world of the shared examples."""

from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Any

import pytest

from gateway.api import (
    Action,
    Basis,
    Category,
    Classification,
    ConsentRecord,
    Envelope,
    Finding,
    ParsedMessage,
    PolicyContext,
    SenderProfile,
)
from policies.consent import ConsentPolicy
from tests.conftest import SHARED

WORLD: dict[str, Any] = tomllib.loads((SHARED / "examples" / "cases.toml").read_text("utf-8"))
CASES = {case["file"]: case for case in WORLD["case"]}
POLICY = ConsentPolicy({})


def record(table: dict[str, Any]) -> ConsentRecord:
    """A store record as cases.toml's [[consent]] table describes it."""

    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(table[key]) if key in table else None

    return ConsentRecord(
        sender=table["sender"],
        address=table["address"],
        basis=Basis(table["basis"]),
        obtained_at=when("obtained_at"),
        method=table.get("method", ""),
        evidence=table.get("evidence", ""),
        refusal_displayed=table.get("refusal_displayed", False),
        opted_out_at=when("opted_out_at"),
        optout_method=table.get("optout_method", ""),
    )


RECORDS = [record(table) for table in WORLD["consent"]]


def context(sender: str, recipients: tuple[str, ...], category: Category) -> PolicyContext:
    """What the gateway hands the policy: the records it looked up for this sender profile."""
    mine = {r.address: r for r in RECORDS if r.sender == sender}
    return PolicyContext(
        profile=SenderProfile(name=sender, consignor=sender),
        envelope=Envelope(mail_from=f"bounce@{sender}.example", rcpt_tos=recipients),
        classification=Classification(category, "content"),
        consent={addr: mine.get(addr) for addr in recipients},
    )


def case_context(file: str) -> PolicyContext:
    case = CASES[file]
    return context(case["sender"], tuple(case["outcome"]), Category(case["category"]))


def by_recipient(findings: list[Finding]) -> dict[str, list[Finding]]:
    result: dict[str, list[Finding]] = {}
    for finding in findings:
        assert finding.recipients is not None and len(finding.recipients) == 1
        result.setdefault(finding.recipients[0], []).append(finding)
    return result


@pytest.mark.parametrize("file", ["12_ad_many_recipients.eml", "06_bill_with_incidental_ad.eml"])
def test_blocks_exactly_the_recipients_cases_toml_blocks(file: str) -> None:
    found = by_recipient(POLICY.check_recipients(case_context(file)))
    blocked = {
        addr for addr, findings in found.items() if any(f.action is Action.BLOCK for f in findings)
    }
    outcome = CASES[file]["outcome"]
    assert blocked == {addr for addr, verdict in outcome.items() if verdict == "block"}


def test_case_12_cites_the_rule_of_each_blocked_recipient() -> None:
    found = by_recipient(POLICY.check_recipients(case_context("12_ad_many_recipients.eml")))
    rules = {addr: [(f.rule, f.code) for f in findings] for addr, findings in found.items()}
    assert rules == {
        "tanaka@example.jp": [("O1", "consent.opted_out")],
        "suzuki@example.jp": [("C1", "consent.no_basis")],
        "info@refuse.example.co.jp": [("C4", "consent.published_refusal")],
    }


def test_findings_speak_english_and_japanese() -> None:
    for finding in POLICY.check_recipients(case_context("12_ad_many_recipients.eml")):
        assert finding.message and finding.message_ja


def test_opt_out_evidence_names_when_and_how() -> None:
    """O1: the operator must be able to show the recipient's request."""
    (finding,) = POLICY.check_recipients(
        context("ogiya", ("tanaka@example.jp",), Category.ADVERTISING)
    )
    assert "2026-11-20T21:04:00+09:00" in finding.evidence
    assert "opt-out page" in finding.evidence
    assert "consent" in finding.evidence and "paper form at the shop" in finding.evidence


def test_refusal_evidence_quotes_the_record() -> None:
    (finding,) = POLICY.check_recipients(
        context("ogiya", ("info@refuse.example.co.jp",), Category.ADVERTISING)
    )
    assert "published" in finding.evidence
    assert "2026-02-01T00:00:00+09:00" in finding.evidence
    assert "特定電子メールの送信お断り" in finding.evidence


def test_an_opt_out_ends_every_basis() -> None:
    """O1: hikari's C3 transaction customer tanaka opted out; advertising to them is blocked."""
    (finding,) = POLICY.check_recipients(
        context("hikari", ("tanaka@example.jp",), Category.ADVERTISING)
    )
    assert (finding.rule, finding.action) == ("O1", Action.BLOCK)
    assert "reply mail" in finding.evidence


def test_consent_belongs_to_one_sender() -> None:
    """yoshida consented to ogiya and minato, not to hikari."""
    (finding,) = POLICY.check_recipients(
        context("hikari", ("yoshida@example.jp",), Category.ADVERTISING)
    )
    assert (finding.rule, finding.code, finding.action) == ("C1", "consent.no_basis", Action.BLOCK)


def test_another_senders_record_is_no_basis() -> None:
    """Should a store hand over a record of another sender, it still is not this sender's basis."""
    minato = next(r for r in RECORDS if r.sender == "minato")
    ctx = PolicyContext(
        profile=SenderProfile(name="hikari", consignor="hikari"),
        envelope=Envelope(mail_from="bounce@hikari-net.example", rcpt_tos=(minato.address,)),
        classification=Classification(Category.ADVERTISING, "content"),
        consent={minato.address: minato},
    )
    (finding,) = POLICY.check_recipients(ctx)
    assert finding.rule == "C1"
    assert "minato" in finding.evidence


def test_incidental_ad_to_an_opted_out_recipient_is_logged_not_blocked() -> None:
    """O3 (a): a bill may carry an ad even to a recipient who opted out."""
    findings = POLICY.check_recipients(case_context("06_bill_with_incidental_ad.eml"))
    assert [(f.recipients, f.rule, f.code, f.action) for f in findings] == [
        (("tanaka@example.jp",), "O3", "consent.optout_exception", Action.LOG)
    ]
    assert "2026-09-01T08:00:00+09:00" in findings[0].evidence


@pytest.mark.parametrize("category", [Category.INCIDENTAL, Category.NON_ADVERTISING])
def test_only_advertising_needs_a_basis(category: Category) -> None:
    assert POLICY.check_recipients(context("hikari", ("suzuki@example.jp",), category)) == []


def test_non_advertising_ignores_opt_outs() -> None:
    ctx = context("ogiya", ("tanaka@example.jp",), Category.NON_ADVERTISING)
    assert POLICY.check_recipients(ctx) == []


def test_check_is_the_rcpt_time_judgement() -> None:
    ctx = case_context("12_ad_many_recipients.eml")
    message = ParsedMessage(raw=b"", headers=[], parts=())
    assert POLICY.check(message, ctx) == POLICY.check_recipients(ctx)


def topic_context(record: ConsentRecord, topic: str | None) -> PolicyContext:
    return PolicyContext(
        profile=SenderProfile(name="ogiya", consignor="ogiya"),
        envelope=Envelope("bounce@ogiya.example", (record.address,)),
        classification=Classification(Category.ADVERTISING, "content"),
        consent={record.address: record},
        topic=topic,
    )


NEWS_ONLY = ConsentRecord(
    sender="ogiya",
    address="yoshida@example.jp",
    basis=Basis.CONSENT,
    obtained_at=datetime.fromisoformat("2026-04-01T10:15:00+09:00"),
    topics=("news",),
    optout_topics=frozenset({"sale"}),
)


def test_consent_to_some_topics_covers_those_only() -> None:
    """C1: consent belongs to what the recipient agreed to receive."""
    assert POLICY.check_recipients(topic_context(NEWS_ONLY, "news")) == []
    [finding] = POLICY.check_recipients(topic_context(NEWS_ONLY, "event"))
    assert (finding.rule, finding.code) == ("C1", "consent.topic_not_covered")


def test_an_opt_out_of_one_topic_stops_that_topic_only() -> None:
    """O1: no further mail against the recipient's wish, here the wish about one topic."""
    [finding] = POLICY.check_recipients(topic_context(NEWS_ONLY, "sale"))
    assert (finding.rule, finding.code) == ("O1", "consent.opted_out_of_topic")
    assert "opted_out_topics=sale" in finding.evidence


def test_a_record_with_only_an_opt_out_is_o1_not_c1() -> None:
    only_optout = ConsentRecord(
        sender="ogiya",
        address="x@example.jp",
        basis=None,
        opted_out_at=datetime.fromisoformat("2026-05-01T00:00:00+09:00"),
        optout_method="complaint",
    )
    [finding] = POLICY.check_recipients(topic_context(only_optout, None))
    assert (finding.rule, finding.code) == ("O1", "consent.opted_out")
