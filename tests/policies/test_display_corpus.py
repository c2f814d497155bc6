"""policies.display over the labelled display corpora (LAW.md D1–D6).

tests/data/display is the main set; tests/data/display_holdout was written
afterwards by another engineer from LAW.md, the slides and the README only,
without reading the policy or the main set (it matched 24/24 on its first run).

Each mail's label is decided from LAW.md and the ministry's slides; the found
display rule set must equal it exactly, and a mail labelled compliant must
yield no finding at all. scripts/display_report.py prints the same comparison
as per-rule precision and recall.
"""

from __future__ import annotations

import pytest

from scripts.display_report import DEFAULT_LABELS, RULES, Corpus, LabelledMail, check, load

CORPUS = load(DEFAULT_LABELS)
HOLDOUT = load(DEFAULT_LABELS.parent.parent / "display_holdout" / "labels.toml")


def _id(mail: LabelledMail) -> str:
    return mail.file.removesuffix(".eml")


def test_corpus_is_large_and_balanced() -> None:
    """At least 60 mails, about half compliant, every rule exercised."""
    mails = CORPUS.mails
    compliant = [m for m in mails if not m.expected]
    assert len(mails) >= 60
    assert 0.4 <= len(compliant) / len(mails) <= 0.6
    assert {rule for m in mails for rule in m.expected} == set(RULES)
    assert all(m.path.is_file() for m in mails)


@pytest.mark.parametrize(
    ("corpus", "mail"),
    [(c, m) for c in (CORPUS, HOLDOUT) for m in c.mails],
    ids=[_id(m) for c in (CORPUS, HOLDOUT) for m in c.mails],
)
def test_display_rules_match_label(corpus: Corpus, mail: LabelledMail) -> None:
    result = check(mail, corpus)
    evidence = "\n".join(f"{f.rule} {f.code}: {f.evidence}" for f in result.findings)
    if not mail.expected:
        assert not result.findings, f"compliant mail got findings ({mail.why}):\n{evidence}"
    assert result.found == mail.expected, (
        f"expected {sorted(mail.expected)}, found {sorted(result.found)} ({mail.why}):\n{evidence}"
    )
