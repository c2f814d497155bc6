"""Sender-domain authentication as receivers will judge it: SPF and DMARC (LAW.md, technical
measures; the ministry names them, mailbox providers require them).

Asked before the mail leaves, with the gateway's own facts: the egress addresses
(``relay.egress``) the next hop sends from, and the ``d=`` domains tokuden will sign
with (the profile's keys for the From domain, ``SenderProfile.signing_keys``).

- **SPF**: the envelope sender's domain must give ``pass`` for every egress address;
  anything else (fail, softfail, neutral, none, permerror) is a finding.
- **DMARC**: the From domain's policy, discovered through the organisational domain,
  must be met by an aligned DKIM ``d=`` or an aligned SPF-passing envelope domain.

Both findings carry the profile's ``auth_action`` (block, annotate or log). A From
domain outside the profile's domains is A5, the identity policy's finding: DMARC is
not asked for it. A DNS answer that cannot be had now raises `DnsTempError`: the
mail is deferred (451), never judged on a guess. Not in the default policy list:
the embedded default runs without DNS; add ``{ use = "auth" }`` to ``policies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.api import Action, Finding, ParsedMessage, PolicyContext, Resolver
from gateway.dmarc import DmarcVerdict, evaluate
from gateway.spf import SpfChecker, SpfVerdict

CHECKS = ("spf", "dmarc")


class AuthPolicy:
    """Finds envelope domains whose SPF fails for our egress, and From domains whose DMARC fails."""

    name = "auth"

    def __init__(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"checks"}
        if unknown:
            raise ValueError(f"unknown options: {', '.join(sorted(unknown))} (known: checks)")
        checks = options.get("checks", list(CHECKS))
        if not isinstance(checks, list) or not checks or not set(checks) <= set(CHECKS):
            raise ValueError(f"checks must be a non-empty list of {' and '.join(CHECKS)}")
        self.checks = frozenset(checks)
        self._spf: tuple[Resolver, SpfChecker] | None = None

    def _checker(self, resolver: Resolver) -> SpfChecker:
        """One checker (and its cache) per resolver: the gateway passes the same one always."""
        if self._spf is None or self._spf[0] is not resolver:
            self._spf = (resolver, SpfChecker(resolver))
        return self._spf[1]

    async def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        resolver = context.resolver
        if resolver is None:
            raise RuntimeError("the auth policy needs DNS, and the gateway gave no resolver")
        profile = context.profile
        action = Action(profile.auth_action)
        findings: list[Finding] = []
        envelope_domain = context.envelope.mail_from.rpartition("@")[2]
        spf_domain: str | None = None
        if envelope_domain and context.egress:
            verdict = await self._checker(resolver).check(envelope_domain, context.egress)
            if verdict.passes:
                spf_domain = envelope_domain
            elif "spf" in self.checks:
                findings.append(_spf_finding(verdict, action))
        elif envelope_domain and "spf" in self.checks:
            findings.append(
                Finding(
                    rule="SPF",
                    code="auth.spf_no_egress",
                    action=Action.LOG,
                    message="SPF not checked: relay.egress names no egress address",
                    message_ja="relay.egress が未設定のため SPF を確認していません",
                )
            )
        from_domain = message.from_domain
        if "dmarc" in self.checks and from_domain and profile.owns_domain(from_domain):
            signers = [k.domain for k in profile.signing_keys(from_domain)]
            dmarc = await evaluate(from_domain, signers, spf_domain, resolver)
            if dmarc.result == "fail":
                findings.append(_dmarc_finding(dmarc, signers, spf_domain, action))
        return findings


def _spf_finding(verdict: SpfVerdict, action: Action) -> Finding:
    failing = verdict.failing()
    first = failing[0]
    where = ", ".join(f"{r.ip}: {r.result}" for r in failing)
    return Finding(
        rule="SPF",
        code=f"auth.spf_{first.result}",
        action=action,
        message=f"SPF of {verdict.domain} does not pass for our egress ({where})",
        message_ja=f"{verdict.domain} の SPF が当ゲートウェイの送信元アドレスで pass になりません"
        f"（{where}）",
        evidence=f"{verdict.record or '(no SPF record)'}; {first.explanation}".strip("; "),
    )


def _dmarc_finding(
    verdict: DmarcVerdict, signers: list[str], spf_domain: str | None, action: Action
) -> Finding:
    ours = ", ".join(f"d={d}" for d in signers) or "no DKIM key for this domain"
    spf = f"SPF domain {spf_domain}" if spf_domain else "no SPF-passing envelope domain"
    return Finding(
        rule="DMARC",
        code="auth.dmarc_fail",
        action=action,
        message=(
            f"DMARC of {verdict.from_domain} would fail at receivers (policy {verdict.policy}): "
            f"nothing aligned ({ours}; {spf})"
        ),
        message_ja=(
            f"{verdict.from_domain} の DMARC が受信側で fail になります"
            f"（ポリシー {verdict.policy}）: 整合する DKIM 署名ドメインも SPF ドメインもありません"
        ),
        evidence=f"{verdict.reason}; {verdict.record.text if verdict.record else ''}".strip("; "),
    )
