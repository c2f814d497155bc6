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
from gateway.footer import FooterError, append_footer, main_parts, render_block, unseen
from gateway.message import ParsedMessage, TextPart, parse
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
        block = render_block(profile)
        parts = main_parts(message)
        try:
            fixed = parse(append_footer(message, block))
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
            message_en, message_ja = await self._why_still_lacking(
                left, fixed, parts, block, context
            )
            note = _fix_note(left, message_en, message_ja)
            return replace(first, findings=(*first.findings, note))
        where = ", ".join(f"{p.content_type} part #{p.index} ({p.charset})" for p in parts)
        return Evaluation(fixed, context, (*findings, *_fixed(gaps, where)), ("footer",))

    async def _why_still_lacking(
        self,
        left: Sequence[Finding],
        fixed: ParsedMessage,
        parts: Sequence[TextPart],
        block: str,
        context: PolicyContext,
    ) -> tuple[str, str]:
        """The fix_not_applied message: the real cause of the items still missing.

        The block may be in the mail where a reader does not see it (hidden
        markup around the insertion point); it may itself lack the items (the
        profile's display_block or fields: the config), as the policies that
        still complain find on the block alone; or it is seen and complete, and
        something else in the mail still fails the rules. The diagnosis never
        fails the mail: a policy that raises on the block alone leaves it open.
        """
        rules = ", ".join(sorted({f.rule for f in left}))
        hidden = unseen(fixed, parts, block)
        if hidden:
            where = "; ".join(f"{part}: {why}" for part, why in hidden)
            return (
                f"the footer fix was not applied: the display block was written into the mail,"
                f" but a reader would not see it ({where}), so the mail still lacks {rules}",
                f"表示ブロックを追記しましたが、読者には表示されません（{where}）。{rules} が"
                "満たされないため、追記しませんでした",
            )
        alone = parse(
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + block.encode("utf-8")
        )
        complaining = [p for p in self.policies if p.name in {f.policy for f in left}]
        try:
            on_block = await self._run(alone, context, complaining)
        except PolicyFailure:
            return (
                f"the footer fix was not applied: with the display block the mail still lacks"
                f" {rules}",
                f"表示ブロックを追記しても {rules} が満たされないため、追記しませんでした",
            )
        lacking = {f.rule for f in _display_gaps(on_block)} & {f.rule for f in left}
        if lacking:
            profile = context.profile.name
            return (
                f"the footer fix was not applied: the display block itself lacks"
                f" {', '.join(sorted(lacking))}, so the mail still lacks {rules} (does"
                f" senders.{profile}.display_block carry those items, and the profile their"
                " values?)",
                f"表示ブロック自体に {', '.join(sorted(lacking))} がないため、追記しても {rules} が"
                f"満たされず、追記しませんでした（senders.{profile}.display_block と送信者情報を"
                "確認してください）",
            )
        first = min(left, key=lambda f: f.rule)
        return (
            f"the footer fix was not applied: the display block is shown and complete, but the"
            f" mail around it still lacks {rules}: {first.message}",
            f"表示ブロックは表示され項目もそろっていますが、メールの他の部分のために {rules} が"
            f"満たされないため、追記しませんでした: {first.message_ja}",
        )

    async def _run(
        self,
        message: ParsedMessage,
        context: PolicyContext,
        policies: Sequence[Policy] | None = None,
    ) -> tuple[Finding, ...]:
        findings: list[Finding] = []
        for policy in self.policies if policies is None else policies:
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


def _fixed(gaps: Iterable[Finding], where: str) -> list[Finding]:
    """What the footer repaired: annotated, so the mail says it was changed and the log says why.

    One per rule, its evidence the rule's findings in every view and ``where``:
    every part the block was added to.
    """
    by_rule: dict[str, list[Finding]] = {}
    for gap in gaps:
        by_rule.setdefault(gap.rule, []).append(gap)
    return [
        Finding(
            rule=rule,
            code="display.fixed_by_footer",
            action=Action.ANNOTATE,
            message=f"{rule} was missing; the sender profile's display block was appended to"
            f" {where}",
            message_ja=f"{rule} の表示がなかったため、送信者の表示ブロックを {where} に"
            "追記しました",
            evidence="; ".join(dict.fromkeys(f.message for f in found))
            + f"; display block added to {where}",
            policy="footer",
        )
        for rule, found in by_rule.items()
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
