"""No false sender information: the From domain must be one the profile owns (LAW.md A5).

Applies to every category: a forged sender is never fine, not even on a bill.
A subdomain of a declared domain is the sender's own (``mail.ogiya.example``);
a look-alike is not (``ogiya.example.evil.test``, ``evilogiya.example``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.api import Action, Finding, ParsedMessage, PolicyContext


class IdentityPolicy:
    """Blocks mail whose From header names a domain outside the sender profile's."""

    name = "identity"

    def __init__(self, options: Mapping[str, Any]) -> None:
        """The policy has no options: a table given to it is a mistake worth reporting."""
        if options:
            raise ValueError(f"takes no options, got: {', '.join(sorted(options))}")

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        profile = context.profile
        address = message.from_address
        evidence = (
            f"From: {address or '(none)'}; "
            f"profile {profile.name} domains: {', '.join(profile.from_domains) or '(none)'}"
        )
        if not profile.from_domains:
            return [
                _a5(
                    "identity.no_from_domains",
                    f"sender profile {profile.name} declares no From domains",
                    f"送信者プロファイル {profile.name} に送信元ドメインが登録されていません",
                    evidence,
                )
            ]
        domain = address.rpartition("@")[2]
        if not domain or domain.startswith("["):
            return [
                _a5(
                    "identity.from_missing",
                    "the mail has no From address with a domain name",
                    "送信元（From）のアドレスまたはドメインがありません",
                    evidence,
                )
            ]
        if profile.owns_domain(domain):
            return []
        return [
            _a5(
                "identity.from_domain_not_authorised",
                f"From domain {domain} is not one of the sender profile's domains",
                f"送信元ドメイン {domain} は送信者プロファイルのドメインではありません",
                evidence,
            )
        ]


def _a5(code: str, message: str, message_ja: str, evidence: str) -> Finding:
    return Finding(
        rule="A5",
        code=code,
        action=Action.BLOCK,
        message=message,
        message_ja=message_ja,
        evidence=evidence,
    )
