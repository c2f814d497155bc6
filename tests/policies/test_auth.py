"""SPF for our egress and DMARC alignment, judged as a receiver would (RFC 7208, RFC 7489).

The zone below is the world: what each domain publishes. The expected findings follow
from the RFCs: an egress address outside the SPF record gets "fail" (-all) or "softfail"
(~all); a From domain with p=reject whose mail carries no aligned d= and no aligned
SPF-passing envelope domain fails DMARC.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gateway.api import (
    Action,
    Category,
    Classification,
    DnsTempError,
    Envelope,
    Finding,
    PolicyContext,
    SenderProfile,
)
from gateway.dns import Record, ZoneResolver
from gateway.message import parse
from gateway.profile import DkimKey
from policies.auth import AuthPolicy

EGRESS = ("192.0.2.25",)
ZONE: dict[str, list[Any]] = {
    "ogiya.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
    "_dmarc.ogiya.example": [{"TXT": "v=DMARC1; p=reject"}],
    "mail.ogiya.example": [{"TXT": "v=spf1 ip4:192.0.2.25 -all"}],
    "strict.example": [{"TXT": "v=spf1 ip4:192.0.2.25 -all"}],
    "_dmarc.strict.example": [{"TXT": "v=DMARC1; p=quarantine; aspf=s; adkim=s"}],
    "bounce.strict.example": [{"TXT": "v=spf1 ip4:192.0.2.25 -all"}],
    "esp.example": [{"TXT": "v=spf1 ip4:192.0.2.25 -all"}],
    "soft.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"}],
    "nospf.example": [{"A": "192.0.2.80"}],
    "slow.example": [{"TXT": "TIMEOUT"}],
    "_dmarc.forged.example": ["TIMEOUT"],
}


class CountingZone(ZoneResolver):
    """The zone, remembering what was asked (to show a lookup was not made)."""

    def __init__(self) -> None:
        super().__init__(ZONE)
        self.asked: list[str] = []

    async def query(self, name: str, rdtype: str) -> list[Record]:
        self.asked.append(f"{name}/{rdtype}")
        return await super().query(name, rdtype)


def profile(domains: tuple[str, ...] = ("ogiya.example",), **kw: Any) -> SenderProfile:
    base = SenderProfile(
        name="ogiya",
        consignor="ogiya",
        from_domains=domains,
        dkim=(DkimKey("ogiya.example", "rsa1", "unused.pem"),),
    )
    return replace(base, **kw)


async def check(
    from_addr: str,
    mail_from: str,
    sender: SenderProfile | None = None,
    egress: tuple[str, ...] = EGRESS,
    resolver: ZoneResolver | None = None,
    options: dict[str, Any] | None = None,
) -> list[Finding]:
    raw = f"From: {from_addr}\r\nTo: a@example.jp\r\nSubject: s\r\n\r\nbody\r\n".encode()
    context = PolicyContext(
        profile=sender or profile(),
        envelope=Envelope(mail_from, ("a@example.jp",)),
        classification=Classification(Category.ADVERTISING, "content"),
        resolver=resolver or ZoneResolver(ZONE),
        egress=egress,
    )
    return await AuthPolicy(options or {}).check(parse(raw), context)


async def test_spf_pass_and_an_aligned_signature_find_nothing() -> None:
    assert await check("news@ogiya.example", "bounce@ogiya.example") == []


async def test_a_subdomain_from_is_aligned_with_the_parent_key() -> None:
    """RFC 7489 §3.1.1 relaxed: mail.ogiya.example and d=ogiya.example share the org domain."""
    assert await check("news@mail.ogiya.example", "bounce@mail.ogiya.example") == []


async def test_an_egress_outside_the_spf_record_is_a_finding_naming_the_address() -> None:
    (finding,) = await check("news@ogiya.example", "bounce@ogiya.example", egress=("203.0.113.9",))
    assert (finding.rule, finding.code, finding.action) == ("SPF", "auth.spf_fail", Action.ANNOTATE)
    assert "203.0.113.9: fail" in finding.message and "ogiya.example" in finding.message
    assert "v=spf1 ip4:192.0.2.0/24 -all" in finding.evidence


async def test_the_profiles_auth_action_decides_how_hard_it_bites() -> None:
    (finding,) = await check(
        "news@ogiya.example",
        "bounce@soft.example",
        sender=profile(auth_action="block"),
    )
    assert (finding.code, finding.action) == ("auth.spf_softfail", Action.BLOCK)


async def test_a_domain_without_spf_is_reported_as_none() -> None:
    (finding,) = await check("news@ogiya.example", "bounce@nospf.example")
    assert finding.code == "auth.spf_none"
    assert "(no SPF record)" in finding.evidence


async def test_dmarc_fails_without_an_aligned_identifier() -> None:
    """The envelope domain passes SPF but is not the From's org domain; no key for From."""
    sender = profile(dkim=())
    (finding,) = await check("news@ogiya.example", "bounce@esp.example", sender=sender)
    assert (finding.rule, finding.code) == ("DMARC", "auth.dmarc_fail")
    assert "policy reject" in finding.message
    assert "_dmarc.ogiya.example: p=reject" in finding.evidence


async def test_dmarc_passes_on_spf_alignment_alone_in_relaxed_mode() -> None:
    sender = profile(dkim=())
    assert await check("news@ogiya.example", "bounce@mail.ogiya.example", sender=sender) == []


async def test_strict_alignment_wants_the_same_domain() -> None:
    """aspf=s: bounce.strict.example passes SPF but is not strict.example (§3.1.2)."""
    sender = profile(("strict.example",), dkim=())
    (finding,) = await check("news@strict.example", "bounce@bounce.strict.example", sender=sender)
    assert (finding.rule, finding.code) == ("DMARC", "auth.dmarc_fail")
    assert await check("news@strict.example", "bounce@strict.example", sender=sender) == []


async def test_a_from_domain_outside_the_profile_is_left_to_a5_and_not_looked_up() -> None:
    zone = CountingZone()
    findings = await check("info@forged.example", "bounce@ogiya.example", resolver=zone)
    assert findings == []
    assert not [q for q in zone.asked if "forged" in q]


async def test_a_dns_timeout_is_a_temporary_error_not_a_verdict() -> None:
    with pytest.raises(DnsTempError):
        await check("news@ogiya.example", "bounce@slow.example")


async def test_without_egress_spf_is_logged_as_unchecked_and_dmarc_still_judged() -> None:
    sender = profile(dkim=())
    findings = await check("news@ogiya.example", "bounce@ogiya.example", sender, egress=())
    assert [(f.code, f.action) for f in findings] == [
        ("auth.spf_no_egress", Action.LOG),
        ("auth.dmarc_fail", Action.ANNOTATE),
    ]


async def test_checks_option_limits_what_is_reported() -> None:
    findings = await check(
        "news@ogiya.example",
        "bounce@esp.example",
        sender=profile(dkim=()),
        egress=("203.0.113.9",),
        options={"checks": ["dmarc"]},
    )
    assert [f.rule for f in findings] == ["DMARC"]


async def test_the_spf_verdict_is_cached_between_messages() -> None:
    zone = CountingZone()
    policy = AuthPolicy({"checks": ["spf"]})
    raw = b"From: news@ogiya.example\r\nSubject: s\r\n\r\nbody\r\n"
    context = PolicyContext(
        profile=profile(),
        envelope=Envelope("bounce@ogiya.example", ("a@example.jp",)),
        classification=Classification(Category.ADVERTISING, "content"),
        resolver=zone,
        egress=EGRESS,
    )
    assert await policy.check(parse(raw), context) == []
    asked = len(zone.asked)
    assert await policy.check(parse(raw), context) == []
    assert len(zone.asked) == asked


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"spf": True}, "unknown options: spf"),
        ({"checks": ["dkim"]}, "checks must be a non-empty list"),
        ({"checks": []}, "checks must be a non-empty list"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        AuthPolicy(options)


async def test_without_a_resolver_the_policy_refuses_to_guess() -> None:
    context = PolicyContext(
        profile=profile(),
        envelope=Envelope("bounce@ogiya.example", ("a@example.jp",)),
        classification=Classification(Category.ADVERTISING, "content"),
    )
    with pytest.raises(RuntimeError, match="needs DNS"):
        await AuthPolicy({}).check(parse(b"From: a@ogiya.example\r\n\r\nx\r\n"), context)
