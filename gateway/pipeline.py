"""The policy pipeline: classify, look up consent, run every policy in config order.

Policies are found the same way whether built in or third party: an entry
point in group ``tokuden.policies`` or a ``package.module:Class`` path.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from typing import Any

from gateway.api import (
    Action,
    Classification,
    ConsentRecord,
    Envelope,
    Finding,
    Policy,
    PolicyContext,
    RecipientPolicy,
    Resolver,
)
from gateway.classify import classify
from gateway.config import ConfigError, PolicySpec
from gateway.footer import FooterError, append_footer, render_block
from gateway.message import ParsedMessage, parse
from gateway.profile import Category, Mode, SenderProfile
from gateway.store import ConsentStore
from gateway.topic import topic_of

ENTRY_POINT_GROUP = "tokuden.policies"


class PolicyFailure(Exception):
    """A policy raised: the message fails temporarily (451), it never passes unchecked."""

    def __init__(self, policy: str, cause: BaseException) -> None:
        super().__init__(f"policy {policy!r} failed: {type(cause).__name__}: {cause}")
        self.policy = policy


def load_policies(specs: Sequence[PolicySpec], source: str = "config") -> list[Policy]:
    """Instantiate the configured policies, in order; a bad entry is a ConfigError."""
    policies = []
    for i, spec in enumerate(specs):
        key = f"{source}: policies[{i}].use"
        factory = _find(spec.use, key)
        try:
            policy = factory(spec.options)
        except Exception as exc:
            raise ConfigError(f"{key}: {spec.use!r} rejected its options: {exc}") from None
        if not isinstance(policy, Policy):
            raise ConfigError(f"{key}: {spec.use!r} has no name and check(message, context)")
        policies.append(policy)
    return policies


def _find(use: str, key: str) -> Any:
    if ":" in use:
        module_name, _, attr = use.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"{key}: cannot import {module_name!r}: {exc}") from None
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ConfigError(f"{key}: {module_name!r} has no {attr!r}") from None
    found = entry_points(group=ENTRY_POINT_GROUP, name=use)
    if not found:
        known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise ConfigError(
            f"{key}: no policy named {use!r} (installed: {', '.join(known)}; "
            "or give package.module:Class)"
        )
    return next(iter(found)).load()


@dataclass(frozen=True)
class Evaluation:
    """What the policies found for one message, before any decision."""

    message: ParsedMessage  # the mail to relay: the original, or the fixed one
    context: PolicyContext
    findings: tuple[Finding, ...]
    fixes: tuple[str, ...] = ()  # "footer" when the display block was appended


DISPLAY_RULES = frozenset({"D1", "D2", "D3", "D4", "D5", "D6"})


class Pipeline:
    def __init__(
        self,
        policies: Sequence[Policy],
        store: ConsentStore,
        resolver: Resolver | None = None,
        egress: tuple[str, ...] = (),
    ) -> None:
        self.policies = list(policies)
        self.store = store
        self.resolver = resolver
        self.egress = egress

    async def evaluate(
        self, message: ParsedMessage, profile: SenderProfile, envelope: Envelope
    ) -> Evaluation:
        """Run every policy, and the profile's footer fix when display items are missing.

        StoreError and PolicyFailure propagate (the caller answers 451).
        """
        context = PolicyContext(
            profile=profile,
            envelope=envelope,
            classification=classify(message, profile),
            consent=await self._consent(profile, envelope.rcpt_tos),
            topic=topic_of(message, profile),
            resolver=self.resolver,
            egress=self.egress,
        )
        first = Evaluation(message, context, await self._run(message, context))
        gaps = _display_gaps(first.findings)
        if profile.display_fix != "footer" or profile.mode is Mode.MONITOR or not gaps:
            return first  # monitor mode changes nothing in the mail
        try:
            fixed = parse(append_footer(message, render_block(profile)))
        except FooterError as exc:
            note = _fix_note(
                gaps,
                f"the footer fix was not applied: {exc}",
                f"表示ブロックを追記できませんでした: {exc}",
            )
            return replace(first, findings=(*first.findings, note))
        findings = await self._run(fixed, context)
        left = _display_gaps(findings)
        if left:
            rules = ", ".join(sorted({f.rule for f in left}))
            note = _fix_note(
                left,
                f"the footer fix was not applied: with the display block the mail still lacks "
                f"{rules} (does senders.{profile.name}.display_block carry those items?)",
                f"表示ブロックを追記しても {rules} が満たされないため、追記しませんでした",
            )
            return replace(first, findings=(*first.findings, note))
        return Evaluation(fixed, context, (*findings, *_fixed(gaps)), ("footer",))

    async def _run(self, message: ParsedMessage, context: PolicyContext) -> tuple[Finding, ...]:
        findings: list[Finding] = []
        for policy in self.policies:
            try:
                result = policy.check(message, context)
                if inspect.isawaitable(result):
                    result = await result
                findings.extend(_stamp(policy.name, result))
            except Exception as exc:
                raise PolicyFailure(policy.name, exc) from exc
        return tuple(findings)

    async def check_recipient(
        self, profile: SenderProfile, mail_from: str, address: str
    ) -> tuple[Finding, ...]:
        """RCPT-time verdict for a marketing-only profile: its mail is advertising before DATA."""
        context = PolicyContext(
            profile=profile,
            envelope=Envelope(mail_from, (address,)),
            classification=Classification(
                Category.ADVERTISING, "profile", f"senders.{profile.name} is marketing_only"
            ),
            consent=await self._consent(profile, (address,)),
            topic=profile.topic,
            resolver=self.resolver,
            egress=self.egress,
        )
        findings: list[Finding] = []
        for policy in self.policies:
            if not isinstance(policy, RecipientPolicy):
                continue
            try:
                findings.extend(_stamp(policy.name, policy.check_recipients(context)))
            except Exception as exc:
                raise PolicyFailure(policy.name, exc) from exc
        return tuple(findings)

    async def _consent(
        self, profile: SenderProfile, addresses: Sequence[str]
    ) -> dict[str, ConsentRecord | None]:
        found = await self.store.lookup(profile.name, addresses)
        return {a: found.get(a) for a in addresses}


def _display_gaps(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule in DISPLAY_RULES and f.action is Action.BLOCK]


def _fixed(gaps: Iterable[Finding]) -> list[Finding]:
    """What the footer repaired: annotated, so the mail says it was changed and the log says why."""
    return [
        Finding(
            rule=f.rule,
            code="display.fixed_by_footer",
            action=Action.ANNOTATE,
            message=f"{f.rule} was missing; the sender profile's display block was appended",
            message_ja=f"{f.rule} の表示がなかったため、送信者の表示ブロックを追記しました",
            evidence=f.message,
            policy="footer",
        )
        for f in {f.rule: f for f in gaps}.values()
    ]


def _fix_note(gaps: Sequence[Finding], message: str, message_ja: str) -> Finding:
    """Why the mail was not fixed; logged under the first rule it could not repair."""
    return Finding(
        rule=min(f.rule for f in gaps),
        code="display.fix_not_applied",
        action=Action.LOG,
        message=message,
        message_ja=message_ja,
        evidence=message,
        policy="footer",
    )


def _stamp(name: str, findings: Iterable[Finding]) -> list[Finding]:
    return [f if f.policy else replace(f, policy=name) for f in findings]
