"""Who may receive advertising: a basis C1–C4 on record and no opt-out (LAW.md Art. 3, O1, O3).

Judged per recipient from the envelope and the consent store alone, so the
gateway can refuse each recipient at RCPT time. The store is keyed by sender
profile (consent belongs to one sender); the gateway looks the records up and
this policy trusts ``context.consent``, except that a record of another sender
is never a basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.api import (
    Action,
    Category,
    ConsentRecord,
    Finding,
    ParsedMessage,
    PolicyContext,
)


class ConsentPolicy:
    """Blocks advertising to recipients without a basis, who opted out, or who refuse it."""

    name = "consent"

    def __init__(self, options: Mapping[str, Any]) -> None:
        """The policy has no options: a table given to it is a mistake worth reporting."""
        if options:
            raise ValueError(f"takes no options, got: {', '.join(sorted(options))}")

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        """Consent does not depend on the body: the same judgement as at RCPT time."""
        return self.check_recipients(context)

    def check_recipients(self, context: PolicyContext) -> list[Finding]:
        findings: list[Finding] = []
        for addr in context.envelope.rcpt_tos:
            finding = _judge(context, addr, context.consent.get(addr))
            if finding is not None:
                findings.append(finding)
        return findings


def _judge(context: PolicyContext, addr: str, record: ConsentRecord | None) -> Finding | None:
    sender = context.profile.name
    if record is not None and record.sender != sender:
        return _no_basis(addr, sender, record) if context.category is Category.ADVERTISING else None
    if context.category is Category.ADVERTISING:
        return _advertising(addr, sender, record, context.topic)
    if (
        context.category is Category.INCIDENTAL
        and record is not None
        and record.barred_by(context.topic) == "O1"
    ):
        return Finding(
            rule="O3",
            code="consent.optout_exception",
            action=Action.LOG,
            message="recipient opted out, but an ad incidental to contract-related mail is "
            "exempt (O3)",
            message_ja="配信停止済みの受信者ですが、契約に付随する広告のため例外（O3）を適用しました",
            recipients=(addr,),
            evidence=_evidence(record),
        )
    return None


def _no_basis(addr: str, sender: str, foreign: ConsentRecord | None = None) -> Finding:
    """Consent given to shop A does not let shop B send: another sender's record counts as none."""
    evidence = f"no record for {addr} under sender {sender}"
    if foreign is not None:
        evidence += f"; the record found belongs to sender {foreign.sender}"
    return Finding(
        rule="C1",
        code="consent.no_basis",
        action=Action.BLOCK,
        message="no consent or other basis (C1-C4) on record for this sender",
        message_ja="この送信者について同意等の根拠（C1〜C4）の記録がありません",
        recipients=(addr,),
        evidence=evidence,
    )


def _advertising(
    addr: str, sender: str, record: ConsentRecord | None, topic: str | None
) -> Finding | None:
    if record is None:
        return _no_basis(addr, sender)
    barred = record.barred_by(topic)
    if barred is None:
        return None
    if barred == "C1":
        if record.basis is None:
            return _no_basis(addr, sender)
        return Finding(
            rule="C1",
            code="consent.topic_not_covered",
            action=Action.BLOCK,
            message=f"the recipient consented to other topics, not to {topic}",
            message_ja=f"受信者の同意は「{topic}」を対象としていません",
            recipients=(addr,),
            evidence=_evidence(record),
        )
    code, message, message_ja = _BARRED[barred]
    if barred == "O1" and not record.opted_out:
        code = "consent.opted_out_of_topic"
        message = f"recipient has asked to stop advertising mail on {topic} from this sender"
        message_ja = f"受信者はこの送信者からの「{topic}」の配信停止を求めています"
    return Finding(
        rule=barred,
        code=code,
        action=Action.BLOCK,
        message=message,
        message_ja=message_ja,
        recipients=(addr,),
        evidence=_evidence(record),
    )


_BARRED = {
    "O1": (
        "consent.opted_out",
        "recipient has asked to stop advertising mail from this sender",
        "受信者はこの送信者からの広告メールの配信停止を求めています",
    ),
    "C4": (
        "consent.published_refusal",
        "the address was published together with a refusal of advertising mail",
        "公表されたアドレスに特定電子メールの送信拒否が表示されています",
    ),
}


def _evidence(record: ConsentRecord) -> str:
    """The looked-up record, as an operator needs it to answer the recipient or the authority."""
    items = [f"basis={record.basis} ({record.basis.rule})" if record.basis else "basis=none"]
    if record.obtained_at is not None:
        items.append(f"obtained_at={record.obtained_at.isoformat()}")
    if record.method:
        items.append(f"method={record.method}")
    if record.evidence:
        items.append(f"evidence={record.evidence}")
    if record.topics:
        items.append(f"topics={','.join(record.topics)}")
    if record.opted_out_at is not None:
        items.append(f"opted_out_at={record.opted_out_at.isoformat()}")
    if record.optout_method:
        items.append(f"optout_method={record.optout_method}")
    if record.optout_topics:
        items.append(f"opted_out_topics={','.join(sorted(record.optout_topics))}")
    return "; ".join(items)
