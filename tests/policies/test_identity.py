"""A5: the From domain is one the sender profile owns; look-alikes are forgeries."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from gateway.api import (
    Action,
    Category,
    Classification,
    Envelope,
    Finding,
    PolicyContext,
    SenderProfile,
)
from gateway.message import parse
from policies.identity import IdentityPolicy
from tests.conftest import SHARED

EXAMPLES = SHARED / "examples"
WORLD: dict[str, Any] = tomllib.loads((EXAMPLES / "cases.toml").read_text("utf-8"))
POLICY = IdentityPolicy({})


def profile(sender: str) -> SenderProfile:
    """The sender profile of cases.toml's [senders.<sender>] (only what A5 looks at)."""
    return SenderProfile(
        name=sender,
        consignor=sender,
        from_domains=tuple(WORLD["senders"][sender]["from_domains"]),
    )


def context(sender: SenderProfile, category: Category = Category.ADVERTISING) -> PolicyContext:
    return PolicyContext(
        profile=sender,
        envelope=Envelope(mail_from="bounce@esp.example", rcpt_tos=("yoshida@example.jp",)),
        classification=Classification(category, "content"),
    )


def check_from(from_header: str | None, sender: SenderProfile | None = None) -> list[Finding]:
    head = f"From: {from_header}\r\n" if from_header is not None else ""
    raw = f"{head}Subject: test\r\nTo: yoshida@example.jp\r\n\r\nhello\r\n".encode()
    return POLICY.check(parse(raw), context(sender or profile("ogiya")))


def test_case_11_forged_from_is_a5() -> None:
    case = next(c for c in WORLD["case"] if c["file"] == "11_ad_forged_from.eml")
    message = parse((EXAMPLES / case["file"]).read_bytes())
    (finding,) = POLICY.check(message, context(profile(case["sender"])))
    assert (finding.rule, finding.action, finding.recipients) == ("A5", Action.BLOCK, None)
    assert "info@bank.example" in finding.evidence
    assert "ogiya.example" in finding.evidence


@pytest.mark.parametrize(
    "case",
    [c for c in WORLD["case"] if set(c["outcome"].values()) == {"pass"}],
    ids=lambda case: case["file"],
)
def test_examples_that_pass_are_sent_from_their_own_domain(case: dict[str, Any]) -> None:
    message = parse((EXAMPLES / case["file"]).read_bytes())
    assert POLICY.check(message, context(profile(case["sender"]))) == []


@pytest.mark.parametrize(
    "from_header",
    [
        "news@ogiya.example",
        "扇屋商店 <news@mail.ogiya.example>",
        "NEWS@OGIYA.EXAMPLE",
        "news@Mail.Ogiya.Example.",
    ],
)
def test_own_domain_and_its_subdomains_pass(from_header: str) -> None:
    assert check_from(from_header) == []


@pytest.mark.parametrize(
    "from_header",
    [
        "news@ogiya.example.evil.test",
        "news@evilogiya.example",
        "news@ogiya.examples",
        "news@example",
        '"news@ogiya.example" <news@evil.test>',
    ],
)
def test_look_alikes_are_a5(from_header: str) -> None:
    (finding,) = check_from(from_header)
    assert (finding.rule, finding.code) == ("A5", "identity.from_domain_not_authorised")


@pytest.mark.parametrize("category", list(Category))
def test_a_forged_sender_is_never_fine(category: Category) -> None:
    raw = b"From: info@bank.example\r\nSubject: x\r\n\r\nhello\r\n"
    (finding,) = POLICY.check(parse(raw), context(profile("ogiya"), category))
    assert finding.rule == "A5"


@pytest.mark.parametrize("from_header", [None, "undisclosed-sender:;", "news"])
def test_a_missing_from_or_domain_is_a5(from_header: str | None) -> None:
    (finding,) = check_from(from_header)
    assert (finding.rule, finding.code, finding.action) == (
        "A5",
        "identity.from_missing",
        Action.BLOCK,
    )


def test_a_profile_without_domains_is_a5() -> None:
    (finding,) = check_from("news@ogiya.example", SenderProfile(name="new", consignor="new"))
    assert (finding.rule, finding.code) == ("A5", "identity.no_from_domains")
    assert "new" in finding.message


def test_internationalised_domains_compare_as_a_labels() -> None:
    """RFC 5890: 扇屋.example and its A-label are one domain."""
    a_label = "扇屋.example".encode("idna").decode("ascii")
    unicode_profile = SenderProfile(name="u", consignor="u", from_domains=("扇屋.example",))
    a_label_profile = SenderProfile(name="a", consignor="a", from_domains=(a_label,))
    assert check_from(f"news@{a_label}", unicode_profile) == []
    assert check_from("news@mail.扇屋.example", a_label_profile) == []
    (finding,) = check_from("news@扇屋.example.evil.test", a_label_profile)
    assert finding.rule == "A5"
