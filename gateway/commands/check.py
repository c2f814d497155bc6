"""``tokuden check``: the gateway's pipeline run offline on one mail, for QA before a campaign.

It judges as enforce mode would, whatever the profile's mode, so that a
marketer sees what would be blocked once the profile is enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from gateway.address import AddressError, normalize
from gateway.api import Envelope
from gateway.commands import add_config_argument
from gateway.config import Config, load
from gateway.decision import Decision, Outcome, decide
from gateway.dns import DnsResolver
from gateway.log import decision_record
from gateway.message import ParsedMessage, parse
from gateway.pipeline import Evaluation, Pipeline, PolicyFailure, load_policies
from gateway.profile import Mode
from gateway.store import StoreError, open_store


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="run the policies on a mail file and say what would be blocked"
    )
    p.add_argument("mail", metavar="MAIL.eml", help="the message, as sent over SMTP")
    add_config_argument(p)
    p.add_argument("--sender", required=True, metavar="NAME", help="sender profile (senders.NAME)")
    p.add_argument(
        "--rcpt",
        action="append",
        default=[],
        metavar="ADDR",
        help="envelope recipient (repeatable; default: the To and Cc addresses)",
    )
    p.add_argument("--mail-from", default="", metavar="ADDR", help="envelope sender")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--fixed-out",
        metavar="FILE",
        help="when the profile's footer fix changed the mail, write the changed mail here",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load(args.config)
    profile = config.senders.get(args.sender)
    if profile is None:
        known = ", ".join(sorted(config.senders)) or "none"
        return _usage(f"no sender profile {args.sender!r} in {config.source} (known: {known})")
    try:
        raw = Path(args.mail).read_bytes()
    except OSError as exc:
        return _usage(f"cannot read {args.mail}: {exc.strerror}")
    message = parse(raw)
    given = args.rcpt or [
        a
        for _, a in getaddresses([v for k, v in message.headers if k.lower() in ("to", "cc")])
        if a
    ]
    if not given:
        return _usage(f"{args.mail} has no To or Cc address: give --rcpt ADDR")
    try:
        rcpts = [normalize(a) for a in given]
    except AddressError as exc:
        return _usage(str(exc))
    try:
        evaluation = asyncio.run(_evaluate(config, args.sender, message, args.mail_from, rcpts))
    except (StoreError, PolicyFailure) as exc:
        return _usage(str(exc))
    decision = decide(evaluation.findings, rcpts, Mode.ENFORCE, evaluation.context.classification)
    if args.fixed_out and evaluation.fixes:
        try:
            Path(args.fixed_out).write_bytes(evaluation.message.raw)
        except OSError as exc:
            return _usage(f"cannot write {args.fixed_out}: {exc.strerror}")
    elif args.fixed_out:
        print(f"tokuden: the mail was not fixed; {args.fixed_out} not written", file=sys.stderr)
    if args.json:
        print(json.dumps(_json(decision, evaluation.fixes), ensure_ascii=False, indent=2))
    else:
        _print(decision, evaluation.fixes)
    return 1 if any(r.outcome is Outcome.BLOCK for r in decision.recipients.values()) else 0


async def _evaluate(
    config: Config, sender: str, message: ParsedMessage, mail_from: str, rcpts: list[str]
) -> Evaluation:
    profile = replace(config.senders[sender], mode=Mode.ENFORCE)  # judged as enforce would
    store = await open_store(config.store.url)
    try:
        policies = load_policies(config.policies, config.source)
        resolver = DnsResolver.from_config(config.dns)
        pipeline = Pipeline(policies, store, resolver, config.relay.egress)
        evaluation = await pipeline.evaluate(message, profile, Envelope(mail_from, tuple(rcpts)))
    finally:
        await store.close()
    return evaluation


def _json(decision: Decision, fixes: tuple[str, ...]) -> dict[str, Any]:
    record = decision_record(decision)
    return {
        "category": record["category"],
        "fixes": list(fixes),
        "classified_by": record["classified_by"],
        "classification_reason": record["classification_reason"],
        "findings": [
            {
                k: f[k]
                for k in (
                    "rule",
                    "code",
                    "action",
                    "recipients",
                    "message",
                    "message_ja",
                    "evidence",
                    "policy",
                )
            }
            for f in record["findings"]
        ],
        "recipients": {
            a: {"outcome": r["outcome"], "rules": r["rules"]}
            for a, r in record["recipients"].items()
        },
    }


def _print(decision: Decision, fixes: tuple[str, ...]) -> None:
    c = decision.classification
    print(f"category: {c.category.value} (decided by {c.decided_by}: {c.reason})")
    if fixes:
        print(f"fixed by: {', '.join(fixes)} (the findings are those of the fixed mail)")
    width = max((len(f.rule) for f in decision.findings), default=0)
    for f in decision.findings:
        who = "all recipients" if f.recipients is None else ", ".join(f.recipients)
        print(f"{f.rule:<{width}}  {f.action.value:<8} {f.code}: {f.message} [{who}]")
        if f.message_ja:
            print(f"{'':<{width}}  {'':<8} {f.message_ja}")
    for address, r in decision.recipients.items():
        rules = f" ({', '.join(r.rules)})" if r.rules else ""
        print(f"{address}: {r.outcome.value}{rules}")


def _usage(reason: str) -> int:
    print(f"tokuden: {reason}", file=sys.stderr)
    return 2
