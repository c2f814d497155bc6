"""Per-rule precision and recall of policies.display over the labelled display corpus.

    .venv/bin/python scripts/display_report.py [--labels tests/data/display/labels.toml] [--json]

Each mail of labels.toml is parsed with ``gateway.message.parse`` and checked by
``DisplayPolicy({})`` under its sender's profile and its labelled category (so
the corpus measures the display rules, not the classifier). For every rule
D1-D6 it counts true positives (expected and found), false positives (found,
not expected) and false negatives (expected, not found), and lists every mail
whose found rule set differs from its label, with the findings' evidence.
Exit status: 0 when every mail matches its label, 1 when any does not, 2 on
bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.api import (
    Category,
    Classification,
    Envelope,
    Finding,
    PolicyContext,
    SenderProfile,
)
from gateway.message import parse
from policies.display import DisplayPolicy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = ROOT / "tests" / "data" / "display" / "labels.toml"
RULES = ("D1", "D2", "D3", "D4", "D5", "D6")


@dataclass(frozen=True)
class LabelledMail:
    """One [[mail]] of labels.toml: the file and what the law says it must yield."""

    file: str
    sender: str
    category: Category
    expected: frozenset[str]
    why: str
    path: Path


@dataclass(frozen=True)
class Corpus:
    """labels.toml read: the sender profiles and the labelled mails."""

    profiles: Mapping[str, SenderProfile]
    mails: tuple[LabelledMail, ...]


@dataclass(frozen=True)
class Result:
    """What the policy found for one mail, against its label."""

    mail: LabelledMail
    findings: tuple[Finding, ...]

    @property
    def found(self) -> frozenset[str]:
        return frozenset(f.rule for f in self.findings)

    @property
    def matches(self) -> bool:
        if not self.mail.expected:
            return not self.findings  # a compliant mail yields no finding at all
        return self.found == self.mail.expected

    @property
    def missed(self) -> frozenset[str]:
        return self.mail.expected - self.found

    @property
    def unexpected(self) -> frozenset[str]:
        return self.found - self.mail.expected


@dataclass(frozen=True)
class Score:
    """Counts for one rule over the corpus."""

    rule: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def profile(key: str, table: Mapping[str, Any]) -> SenderProfile:
    """A [senders.KEY] table as the gateway's SenderProfile."""
    return SenderProfile(
        name=key,
        consignor=key,
        names=tuple(table.get("names", ())),
        postal_addresses=tuple(table.get("postal_addresses", ())),
        optout_url=table.get("optout_url"),
        optout_address=table.get("optout_address"),
        contact=tuple(table.get("contact", ())),
        info_url=table.get("info_url"),
        from_domains=tuple(table.get("from_domains", ())),
    )


def load(labels: Path = DEFAULT_LABELS) -> Corpus:
    """Read labels.toml; mail files are relative to it. Raises ValueError on a bad label."""
    data = tomllib.loads(labels.read_text(encoding="utf-8"))
    profiles = {key: profile(key, table) for key, table in data.get("senders", {}).items()}
    mails = []
    for entry in data.get("mail", []):
        file = str(entry["file"])
        sender = str(entry["sender"])
        if sender not in profiles:
            raise ValueError(f"{file}: unknown sender {sender!r}")
        expected = frozenset(str(r) for r in entry["expected"])
        if not expected <= set(RULES):
            raise ValueError(f"{file}: expected rules outside {RULES}: {sorted(expected)}")
        mails.append(
            LabelledMail(
                file=file,
                sender=sender,
                category=Category(entry["category"]),
                expected=expected,
                why=str(entry.get("why", "")),
                path=labels.parent / file,
            )
        )
    return Corpus(profiles, tuple(mails))


def context(mail: LabelledMail, sender: SenderProfile) -> PolicyContext:
    """The PolicyContext the gateway would build, with the label's category."""
    domain = sender.from_domains[0] if sender.from_domains else "sender.invalid"
    return PolicyContext(
        profile=sender,
        envelope=Envelope(f"bounce@{domain}", ("recipient@example.jp",)),
        classification=Classification(mail.category, "label", "labelled in labels.toml"),
    )


def check(mail: LabelledMail, corpus: Corpus, policy: DisplayPolicy | None = None) -> Result:
    """Run the display policy on one labelled mail."""
    policy = policy or DisplayPolicy({})
    message = parse(mail.path.read_bytes())
    findings = policy.check(message, context(mail, corpus.profiles[mail.sender]))
    return Result(mail, tuple(findings))


def run(corpus: Corpus) -> list[Result]:
    policy = DisplayPolicy({})
    return [check(mail, corpus, policy) for mail in corpus.mails]


def score(results: Iterable[Result]) -> list[Score]:
    results = list(results)
    scores = []
    for rule in RULES:
        tp = sum(1 for r in results if rule in r.mail.expected and rule in r.found)
        fp = sum(1 for r in results if rule not in r.mail.expected and rule in r.found)
        fn = sum(1 for r in results if rule in r.mail.expected and rule not in r.found)
        scores.append(Score(rule, tp, fp, fn))
    return scores


def _ratio(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def report_text(results: Sequence[Result]) -> str:
    scores = score(results)
    bad = [r for r in results if not r.matches]
    compliant = [r for r in results if not r.mail.expected]
    flagged = [r for r in compliant if r.findings]
    lines = [
        f"{len(results)} mails, {len(compliant)} labelled compliant;"
        f" {len(results) - len(bad)} match their label, {len(bad)} do not;"
        f" {len(flagged)} compliant mail(s) with findings.",
        "",
        "rule   TP   FP   FN  precision  recall",
    ]
    for s in scores:
        lines.append(
            f"{s.rule:<4} {s.tp:>4} {s.fp:>4} {s.fn:>4}       {_ratio(s.precision)}    "
            f"{_ratio(s.recall)}"
        )
    if bad:
        lines += ["", "Mismatches:"]
    for r in bad:
        lines.append(
            f"- {r.mail.file} [{r.mail.sender}, {r.mail.category}] expected"
            f" {sorted(r.mail.expected)}, found {sorted(r.found)}"
            + (f"; missed {sorted(r.missed)}" if r.missed else "")
            + (f"; unexpected {sorted(r.unexpected)}" if r.unexpected else "")
        )
        lines.append(f"    label: {r.mail.why}")
        for f in r.findings:
            lines.append(f"    {f.rule} {f.code}: {f.evidence}")
    return "\n".join(lines)


def report_json(results: Sequence[Result]) -> dict[str, Any]:
    return {
        "mails": len(results),
        "mismatches": sum(1 for r in results if not r.matches),
        "rules": {
            s.rule: {
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
                "precision": s.precision,
                "recall": s.recall,
            }
            for s in score(results)
        },
        "mismatching": [
            {
                "file": r.mail.file,
                "sender": r.mail.sender,
                "category": str(r.mail.category),
                "expected": sorted(r.mail.expected),
                "found": sorted(r.found),
                "missed": sorted(r.missed),
                "unexpected": sorted(r.unexpected),
                "why": r.mail.why,
                "findings": [
                    {"rule": f.rule, "code": f.code, "message": f.message, "evidence": f.evidence}
                    for f in r.findings
                ],
            }
            for r in results
            if not r.matches
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="labels.toml")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        corpus = load(args.labels)
        results = run(corpus)
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"display_report: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_json(results), ensure_ascii=False, indent=2))
    else:
        print(report_text(results))
    return 0 if all(r.matches for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
