"""DMARC: records, organisational domains and alignment, from RFC 7489 and upstream test vectors.

Upstream vectors are transcribed, not copied, with their source:
OpenDMARC ``libopendmarc/tests/test_alignment.c`` and ``test_dmarc_parse.c``
(trusteddomainproject/OpenDMARC), checkdmarc ``tests/test_dmarc.py``
(domainaware/checkdmarc), and the expected verdicts of authheaders'
``authheaders/test/test_authentication.py`` (ValiMail/authentication-headers) for
the messages in ``shared/corpora/dmarc/authheaders/``. Where their answer differs
from RFC 7489 the test says which one it follows and why.
"""

from __future__ import annotations

from email import message_from_bytes
from email.utils import getaddresses

import pytest

from gateway.dmarc import aligned, evaluate, organizational_domain, parse_record
from gateway.dns import DnsTempError, Record, ZoneResolver
from tests.conftest import SHARED

AUTHHEADERS = SHARED / "corpora" / "dmarc" / "authheaders"

# --- Organisational domain (RFC 7489 §3.2) -----------------------------------------------


@pytest.mark.parametrize(
    ("domain", "org"),
    [
        # §3.2: 'a subject domain of "a.b.c.d.example.com" would have an
        # Organizational Domain of "example.com"'.
        ("a.b.c.d.example.com", "example.com"),
        ("foo.example.com", "example.com"),
        ("example.com", "example.com"),
        # Japanese second-level suffixes are on the list: co.jp, ne.jp, and the
        # geographic ones (tokyo.jp); the org domain is one label below them.
        ("example.co.jp", "example.co.jp"),
        ("mail.news.example.co.jp", "example.co.jp"),
        ("shop.example.ne.jp", "example.ne.jp"),
        ("www.example.tokyo.jp", "example.tokyo.jp"),
        # A public suffix is its own answer: nothing below it to take.
        ("co.jp", "co.jp"),
        ("com", "com"),
        # Case, a final dot and U-labels do not make another domain.
        ("News.Example.CO.JP.", "example.co.jp"),
        ("メール.例え.jp", "xn--r8jz45g.jp"),
    ],
)
def test_organizational_domain(domain: str, org: str) -> None:
    assert organizational_domain(domain) == org


# --- Alignment (RFC 7489 §3.1) ------------------------------------------------------------

# OpenDMARC libopendmarc/tests/test_alignment.c, alignm_test[]: (subdomain, tld, mode,
# outcome) where outcome 0 means aligned and -1 not aligned. Passed to
# opendmarc_policy_check_alignment(subdomain, tld, mode).
OPENDMARC_ALIGNMENT = [
    ("a.b.c.bcx.com", "bcx.com", "r", True),  # 1
    ("a.b.c.edu.ar", "edr.au", "s", False),  # 2
    ("oooo.com", "ooo.com", "s", False),  # 3
    ("a.foo.com", "b.foo.com", "r", True),  # 4
    (".mac.com.", "mac.com", "s", True),  # 5: dots at either end are not part of the name
    ("....mac.com....", "mac.com", "s", True),  # 6
    ("mac...com", "..com", "s", False),  # 7
    ("a.b.com", "b.com", "r", True),  # 8
    ("b.com", "a.b.com", "r", True),  # 9
    ("a.b.de", "a.b.de", "s", True),  # 10
]


@pytest.mark.parametrize(("author", "identifier", "mode", "expected"), OPENDMARC_ALIGNMENT)
def test_opendmarc_alignment_vectors(
    author: str, identifier: str, mode: str, expected: bool
) -> None:
    assert aligned(author, identifier, "s" if mode == "s" else "r") is expected


@pytest.mark.parametrize(
    ("author", "identifier", "mode", "expected"),
    [
        # §3.1.1: 'if a validated DKIM signature successfully verifies with a "d="
        # domain of "example.com", and the RFC5322.From address is
        # "alerts@news.example.com", the DKIM "d=" domain and the RFC5322.From domain
        # are considered to be "in alignment". In strict mode, this test would fail'.
        ("news.example.com", "example.com", "r", True),
        ("news.example.com", "example.com", "s", False),
        # §3.1.1: 'a DKIM signature bearing a value of "d=com" would never allow an
        # "in alignment" result, as "com" should appear on all public suffix lists'.
        ("example.com", "com", "r", False),
        ("example.com", "com", "s", False),
        # §3.1.2: 'if a message passes an SPF check with an RFC5321.MailFrom domain of
        # "cbg.bounces.example.com", and the address portion of the RFC5322.From field
        # contains "payments@example.com", [they] are considered to be "in alignment"
        # in relaxed mode, but not in strict mode.'
        ("example.com", "cbg.bounces.example.com", "r", True),
        ("example.com", "cbg.bounces.example.com", "s", False),
        # Strict is the same name, whatever the case or a final dot.
        ("Example.COM", "example.com.", "s", True),
        # Sibling subdomains share the org domain: relaxed only.
        ("news.example.co.jp", "mail.example.co.jp", "r", True),
        ("news.example.co.jp", "mail.example.co.jp", "s", False),
        # Two registrants under one public suffix are not one organisation (§3.2 is
        # why the list is needed: co.jp is not an org domain).
        ("ogiya.co.jp", "evil.co.jp", "r", False),
        ("example.co.jp", "co.jp", "r", False),
        # Look-alikes: a suffix match of text is not a subdomain.
        ("example.com", "example.com.evil.test", "r", False),
        ("example.com", "evilexample.com", "r", False),
        ("example.com", "", "r", False),
        ("", "example.com", "r", False),
    ],
)
def test_rfc7489_alignment(author: str, identifier: str, mode: str, expected: bool) -> None:
    assert aligned(author, identifier, "s" if mode == "s" else "r") is expected


# --- Record parsing (RFC 7489 §6.3, §6.4) ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "p", "invalid"),
    [
        # OpenDMARC libopendmarc/tests/test_dmarc_parse.c, dpp_test[] (status in brackets).
        (
            "v=DMARC1; p=none; rf=afrf; rua=mailto:dmarc-a@abuse.net; ruf=mailto:dmarc-f@abuse.net",
            "none",
            (),
        ),  # 1 [OKAY]
        ("v=DMARC1; p=none;", "none", ()),  # 2 [OKAY]
        ("v=DMARC1; p=reject;", "reject", ()),  # 3 [OKAY]
        ("v=DMARC1; p=quarantine;", "quarantine", ()),  # 4 [OKAY]
        # 5 [OKAY]: OpenDMARC goes by the first letter. The §6.4 ABNF allows only
        # "none" / "quarantine" / "reject": p=n is not a policy, and §6.6.3 step 6
        # then decides (p=none with a valid rua, else no DMARC at all).
        ("v=DMARC1; p=n;", None, ("p",)),
        ("v=DMARC1; p=bob;", None, ("p",)),  # 8 [BAD_VALUE]
        ("v=DMARC1; p=none; sp=bob;", "none", ("sp",)),  # 9 [BAD_VALUE]
        ("v=DMARC1; p=none; adkim=bob;", "none", ("adkim",)),  # 10 [BAD_VALUE]
        ("v=DMARC1; p=none; aspf=bob;", "none", ("aspf",)),  # 11 [BAD_VALUE]
        # 12, 13, 19 [BAD_VALUE]: rf= and ri= only shape reports, which tokuden neither
        # sends nor asks for; §6.3 ignores syntax errors outside v and p.
        ("v=DMARC1; p=none; rf=bob;", "none", ()),
        ("v=DMARC1; p=none; ri=bob;", "none", ()),
        ("v=DMARC1; p=none; rf=000000000000000000000000000000000", "none", ()),
        ("v=DMARC1; p=none; pct=500;", "none", ("pct",)),  # 14 [BAD_VALUE]
        ("v=DMARC1; pct=100;", None, ()),  # 15 [NO_REQUIRED_P]
        ("v=DMARC1; p=none; rua=ftp://abuse.com", "none", ()),  # 16 [OKAY]
        ("v=DMARC1; p=none; ruf=mailto://abuse.com", "none", ()),  # 17 [OKAY]
        ("v=DMARC1; p=none; ruf=mailto://abuse.com; foo=bar; buzz=happy;", "none", ()),  # 18
        # checkdmarc tests/test_dmarc.py testDMARCMixedFormatting: "DMARC records with
        # extra spaces and mixed case are still valid" (§6.4 allows *WSP around "=").
        ("v=DMARC1;p=ReJect", "reject", ()),
        ("v = DMARC1;p=reject;", "reject", ()),
        ("v = DMARC1\t;\tp=reject\t;", "reject", ()),
        ("v = DMARC1\t;\tp\t\t\t=\t\t\treject\t;", "reject", ()),
        ("V=DMARC1;p=reject;", "reject", ()),
        # checkdmarc testInvalidDMARCPolicyValue: p=foo is invalid.
        ("v=DMARC1; p=foo; rua=mailto:dmarc@example.com", None, ("p",)),
        # checkdmarc testDMARCBareVersionTagIsValid: a record of v alone. DMARCbis reads
        # it as p=none; RFC 7489 lacks the required p (same handling as case 15).
        ("v=DMARC1", None, ()),
        ("v=DMARC1;", None, ()),
        # checkdmarc testDMARCLongUnknownTagIgnored: unknown tags are ignored (§6.3).
        ("v=DMARC1; p=reject; foobar=baz", "reject", ()),
    ],
)
def test_record_parsing(text: str, p: str | None, invalid: tuple[str, ...]) -> None:
    record = parse_record(text)
    assert record is not None
    assert record.p == p
    assert record.invalid == invalid


@pytest.mark.parametrize(
    "text",
    [
        "",  # OpenDMARC test_dmarc_parse.c 6 [ERROR_EMPTY]
        "V=BOB",  # 7 [ERROR_BAD_VERSION]
        "v=spf1 -all",  # §6.6.3 step 2: discarded, so it is not a second record
        "p=reject; v=DMARC1",  # §6.3: v "MUST be present and MUST appear" first
        "v=DMARC2; p=reject",
        "v=DMARC1 p=reject",  # the version tag's value is "DMARC1 p=reject"
    ],
)
def test_not_a_dmarc_record(text: str) -> None:
    assert parse_record(text) is None


def test_tag_values_defaults_and_report_uris() -> None:
    record = parse_record(
        "v=DMARC1; p=Quarantine; sp=REJECT; np=reject; adkim=S; aspf=s; pct=20;"
        " rua=mailto:a@example.com!10m, mailto:b@example.com"
    )
    assert record is not None
    assert (record.p, record.sp, record.np) == ("quarantine", "reject", "reject")
    assert (record.adkim, record.aspf, record.pct) == ("s", "s", 20)
    assert record.rua == ("mailto:a@example.com!10m", "mailto:b@example.com")
    assert record.has_valid_rua and record.problems == ()
    bare = parse_record("v=DMARC1; p=none")
    assert bare is not None
    assert (bare.sp, bare.np, bare.adkim, bare.aspf, bare.pct) == (None, None, "r", "r", 100)
    assert not bare.has_valid_rua


def test_problems_are_said_for_the_operator() -> None:
    """Ignored parts are kept as text, for ``tokuden dns check`` to say what to fix."""
    # authheaders' _dmarc.bad.example.com record: a bare word is not a tag; §6.3 ignores it.
    record = parse_record("v=DMARC1; p=none; reject")
    assert record is not None and record.p == "none"
    assert record.problems == ("'reject' is not a tag=value pair (ignored)",)
    # checkdmarc testDMARCVersionValueCaseSensitive: "v=dmarc1" breaks the §6.4 ABNF (%x
    # codes are case-sensitive). Receivers differ, so it is read as a record (the stricter
    # prediction) and reported.
    lower = parse_record("v=dmarc1; p=reject")
    assert lower is not None and lower.p == "reject"
    assert lower.problems == ("v=dmarc1: the version is DMARC1 in capitals",)
    # checkdmarc testDMARCInvalidAlignmentModeFallsBack: bad adkim/aspf fall back to r.
    modes = parse_record("v=DMARC1; p=reject; adkim=x; aspf=q")
    assert modes is not None and (modes.adkim, modes.aspf) == ("r", "r")
    assert modes.invalid == ("adkim", "aspf")
    twice = parse_record("v=DMARC1; p=none; p=reject")
    assert twice is not None and twice.p == "none"
    assert twice.problems == ("p= appears twice (the first is used)",)


# --- Policy discovery through DNS (RFC 7489 §6.6.3) ------------------------------------


class LoggingZone(ZoneResolver):
    """A zone that remembers the names asked, to show which lookups a verdict took."""

    def __init__(self, zone_data: dict[str, list[object]]) -> None:
        super().__init__(zone_data)
        self.asked: list[str] = []

    async def query(self, name: str, rdtype: str) -> list[Record]:
        self.asked.append(f"{name}/{rdtype}")
        return await super().query(name, rdtype)


def txt(*values: str) -> list[object]:
    return [{"TXT": value} for value in values]


async def test_the_from_domains_own_record() -> None:
    zone = LoggingZone({"_dmarc.example.com": txt("v=DMARC1; p=reject")})
    v = await evaluate("Example.COM", ["example.com"], None, zone)
    assert (v.result, v.policy, v.record_domain) == ("pass", "reject", "example.com")
    assert v.aligned_dkim == ("example.com",) and not v.aligned_spf
    assert v.reason == "_dmarc.example.com: p=reject"
    assert zone.asked == ["_dmarc.example.com/TXT"]


async def test_organisational_domain_fallback_uses_sp_for_a_subdomain() -> None:
    """§6.6.3 step 3, and §6.3 sp: "Requested Mail Receiver policy for all subdomains"."""
    zone = LoggingZone({"_dmarc.example.co.jp": txt("v=DMARC1; p=none; sp=reject")})
    v = await evaluate("mail.news.example.co.jp", ["tokuden.example.net"], None, zone)
    assert (v.result, v.policy, v.record_domain) == ("fail", "reject", "example.co.jp")
    assert v.reason == "_dmarc.example.co.jp (organisational domain): sp=reject"
    # The org domain from the list, never a guess: _dmarc.co.jp and _dmarc.news.… are not asked.
    assert zone.asked == ["_dmarc.mail.news.example.co.jp/TXT", "_dmarc.example.co.jp/TXT"]


async def test_without_sp_a_subdomain_gets_p() -> None:
    """§6.3 sp: "If absent, the policy specified by the "p" tag MUST be applied for subdomains"."""
    zone = ZoneResolver({"_dmarc.example.com": txt("v=DMARC1; p=quarantine")})
    v = await evaluate("foo.example.com", ["example.com"], None, zone)
    assert (v.result, v.policy) == ("pass", "quarantine")  # relaxed: same org domain
    assert v.reason == "_dmarc.example.com (organisational domain): p=quarantine"


async def test_a_subdomains_own_record_wins_over_the_org_domains_sp() -> None:
    zone = LoggingZone(
        {
            "_dmarc.news.example.com": txt("v=DMARC1; p=none"),
            "_dmarc.example.com": txt("v=DMARC1; p=reject; sp=reject"),
        }
    )
    v = await evaluate("news.example.com", [], None, zone)
    assert (v.result, v.policy, v.record_domain) == ("fail", "none", "news.example.com")
    assert zone.asked == ["_dmarc.news.example.com/TXT"]


async def test_no_record_is_no_dmarc_but_alignment_is_still_told() -> None:
    """§6.6.3 step 5: no record, "DMARC processing is not applied"."""
    zone = ZoneResolver({})
    v = await evaluate("news.example.com", ["example.com"], "other.test", zone)
    assert (v.result, v.policy, v.record, v.record_domain) == ("none", "none", None, None)
    assert v.reason == "no DMARC record at _dmarc.news.example.com nor _dmarc.example.com"
    assert v.aligned_dkim == ("example.com",) and not v.aligned_spf  # default relaxed
    org = await evaluate("example.com", [], None, zone)
    assert org.reason == "no DMARC record at _dmarc.example.com"


async def test_two_records_are_none_and_stop_the_search() -> None:
    """§6.6.3 step 5: "multiple records or no records" end discovery; step 3 needs an empty set."""
    zone = LoggingZone(
        {
            "_dmarc.news.example.com": txt("v=DMARC1; p=reject", "v=DMARC1; p=none"),
            "_dmarc.example.com": txt("v=DMARC1; p=reject"),
        }
    )
    v = await evaluate("news.example.com", [], None, zone)
    assert (v.result, v.policy, v.record, v.record_domain) == (
        "none",
        "none",
        None,
        "news.example.com",
    )
    assert v.reason == "2 DMARC records at _dmarc.news.example.com: none used"
    assert zone.asked == ["_dmarc.news.example.com/TXT"]


async def test_other_txt_records_at_dmarc_are_discarded() -> None:
    """§6.6.3 steps 2 and 4: records not starting with v=DMARC1 do not count."""
    one = ZoneResolver({"_dmarc.example.com": txt("v=spf1 -all", "v=DMARC1; p=reject", "")})
    v = await evaluate("example.com", [], None, one)
    assert (v.result, v.policy) == ("fail", "reject")
    # Only a stray record at the From domain: the set is empty, so the org domain is asked.
    fallback = ZoneResolver(
        {
            "_dmarc.news.example.com": txt("google-site-verification=abc"),
            "_dmarc.example.com": txt("v=DMARC1; p=quarantine"),
        }
    )
    v = await evaluate("news.example.com", [], None, fallback)
    assert (v.policy, v.record_domain) == ("quarantine", "example.com")


async def test_a_record_split_into_strings_is_read_whole() -> None:
    """RFC 7489 §6.6.3 (DNS TXT strings are joined before parsing, RFC 7208-style)."""
    zone = ZoneResolver({"_dmarc.example.com": [{"TXT": ["v=DMARC1; p=re", "ject; adkim=s"]}]})
    v = await evaluate("example.com", ["mail.example.com"], None, zone)
    assert (v.result, v.policy) == ("fail", "reject")  # strict: mail.example.com is not it


@pytest.mark.parametrize(
    ("record", "result", "policy", "reason"),
    [
        # §6.6.3 step 6.1: no valid p but a valid rua: "act as if a record containing a
        # valid "v" tag and "p=none" was retrieved, and continue processing".
        (
            "v=DMARC1; p=bob; rua=mailto:d@example.com",
            "fail",
            "none",
            "_dmarc.example.com has no valid p= or sp=: read as p=none",
        ),
        (
            "v=DMARC1; p=reject; sp=bob; rua=mailto:d@example.com",
            "fail",
            "none",
            "_dmarc.example.com has no valid p= or sp=: read as p=none",
        ),
        # Step 6.2: "otherwise, the Mail Receiver applies no DMARC processing".
        ("v=DMARC1; p=bob", "none", "none", "_dmarc.example.com has no valid p= or sp=, nor rua="),
        (
            "v=DMARC1; rua=d@example.com",
            "none",
            "none",
            "_dmarc.example.com has no valid p= or sp=, nor rua=",
        ),
    ],
)
async def test_invalid_policy_handling(record: str, result: str, policy: str, reason: str) -> None:
    v = await evaluate("example.com", [], None, ZoneResolver({"_dmarc.example.com": txt(record)}))
    assert (v.result, v.policy, v.reason) == (result, policy, reason)


async def test_adkim_and_aspf_modes_from_the_record() -> None:
    zone = ZoneResolver({"_dmarc.example.com": txt("v=DMARC1; p=reject; adkim=s; aspf=r")})
    # Strict DKIM: our d=example.com does not align with news.example.com ...
    dkim_only = await evaluate("news.example.com", ["example.com"], None, zone)
    assert (dkim_only.result, dkim_only.aligned_dkim) == ("fail", ())
    # ... but relaxed SPF on bounce.example.com does (§3.1.2), and one is enough (§4.2).
    both = await evaluate("news.example.com", ["example.com"], "bounce.example.com", zone)
    assert (both.result, both.aligned_spf, both.policy) == ("pass", True, "reject")
    strict_spf = ZoneResolver({"_dmarc.example.com": txt("v=DMARC1; p=reject; aspf=s")})
    v = await evaluate("example.com", [], "bounce.example.com", strict_spf)
    assert (v.result, v.aligned_spf) == ("fail", False)
    assert (await evaluate("example.com", [], "example.com", strict_spf)).result == "pass"


async def test_any_of_our_dkim_domains_aligning_is_enough() -> None:
    zone = ZoneResolver({"_dmarc.ogiya.co.jp": txt("v=DMARC1; p=reject")})
    v = await evaluate("ogiya.co.jp", ["esp.example.net", "mail.ogiya.co.jp"], None, zone)
    assert (v.result, v.aligned_dkim) == ("pass", ("mail.ogiya.co.jp",))
    look_alike = await evaluate("ogiya.co.jp", ["ogiya.co.jp.evil.test"], None, zone)
    assert look_alike.result == "fail"


async def test_pct_does_not_lower_the_predicted_policy() -> None:
    """pct= samples which failing mail gets the policy (§6.6.4); this one may be sampled."""
    zone = ZoneResolver({"_dmarc.example.com": txt("v=DMARC1; p=reject; pct=0")})
    v = await evaluate("example.com", [], None, zone)
    assert (v.policy, v.record is not None and v.record.pct) == ("reject", 0)


async def test_idn_from_domain_is_looked_up_as_a_labels() -> None:
    zone = LoggingZone({"_dmarc.xn--r8jz45g.jp": txt("v=DMARC1; p=reject")})
    v = await evaluate("メール.例え.jp", ["xn--r8jz45g.jp"], None, zone)
    assert (v.from_domain, v.result, v.policy) == ("xn--4dkua4c.xn--r8jz45g.jp", "pass", "reject")
    assert zone.asked == ["_dmarc.xn--4dkua4c.xn--r8jz45g.jp/TXT", "_dmarc.xn--r8jz45g.jp/TXT"]


async def test_an_empty_from_domain_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="no From domain"):
        await evaluate("", ["example.com"], None, ZoneResolver({}))


@pytest.mark.parametrize(
    "zone_data",
    [
        {"_dmarc.news.example.com": ["TIMEOUT"]},
        {"_dmarc.news.example.com": [{"TXT": "TIMEOUT"}]},
        {"_dmarc.example.com": ["TIMEOUT"]},  # the org domain's lookup
        {"_dmarc.example.com": txt("v=DMARC1; p=none; np=reject"), "news.example.com": ["TIMEOUT"]},
    ],
)
async def test_a_lookup_that_failed_is_a_temporary_error(
    zone_data: dict[str, list[object]],
) -> None:
    """No verdict on a guess: the gateway answers 451 and the sender retries."""
    with pytest.raises(DnsTempError):
        await evaluate("news.example.com", ["example.com"], None, ZoneResolver(zone_data))


async def test_np_applies_to_a_from_domain_that_does_not_exist() -> None:
    """RFC 9091 np=: for a subdomain without A, AAAA and MX records (NXDOMAIN or NODATA)."""
    data: dict[str, list[object]] = {
        "_dmarc.example.biz": txt("v=DMARC1; p=none; sp=quarantine; np=reject"),
        "mx.example.biz": [{"MX": [10, "in.example.biz"]}],
        "v6.example.biz": [{"AAAA": "2001:db8::1"}],
        "empty.example.biz": [{"TXT": "not an address"}],
    }
    zone = LoggingZone(data)
    gone = await evaluate("gone.example.biz", [], None, zone)
    assert (gone.policy, gone.reason) == (
        "reject",
        "_dmarc.example.biz (organisational domain): np=reject",
    )
    assert zone.asked[-3:] == ["gone.example.biz/A", "gone.example.biz/AAAA", "gone.example.biz/MX"]
    assert (await evaluate("mx.example.biz", [], None, zone)).policy == "quarantine"
    assert (await evaluate("v6.example.biz", [], None, zone)).policy == "quarantine"
    assert (await evaluate("empty.example.biz", [], None, zone)).policy == "reject"  # NODATA
    # The From domain's own record: p, and no existence lookups.
    assert (await evaluate("example.biz", [], None, zone)).policy == "none"


# --- The authheaders corpus ---------------------------------------------------------------

# authheaders/test/test_authentication.py, TestAuthenticateMessage.dnsfunc: its _dmarc
# answers as TXT data. Upstream writes them zone-file escaped ("v=DMARC1\; p=reject\;");
# the record a resolver returns has plain semicolons. "sub.example.biz": None (no such
# name) and "sub2.example.biz": "host.example.biz" (the name exists) feed np= (RFC 9091);
# the existing name is given an MX record here.
AUTHHEADERS_ZONE: dict[str, list[object]] = {
    "_dmarc.example.com": txt(
        "v=DMARC1; p=reject;"
        " rua=mailto:dmarc.reports@valimail.com,mailto:dmarc_agg@vali.email;"
        " ruf=mailto:dmarc.reports@valimail.com,mailto:dmarc_c0cb7153_afrf@vali.email"
    ),
    "_dmarc.example.org": txt("v=DMARC1; p=none"),
    "_dmarc.example.net": txt("v=DMARC1; p=none; sp=reject"),
    "_dmarc.sub.example.net": txt(""),
    "_dmarc.example.biz": txt("v=DMARC1; p=none; sp=quarantine; np=reject"),
    "_dmarc.nop.example.org": txt("v=DMARC1; sp=quarantine; np=reject"),
    "_dmarc.sub.example.biz": txt(""),
    "_dmarc.sub2.example.biz": txt(""),
    "sub2.example.biz": [{"MX": [10, "host.example.biz"]}],
    "_dmarc.bad.example.com": txt("v=DMARC1; p=none; reject"),
}


def from_domains(name: str) -> list[str]:
    """Every From mailbox's domain in a corpus message (DMARC judges each, §6.6.1)."""
    message = message_from_bytes((AUTHHEADERS / name).read_bytes())
    return [a.rpartition("@")[2] for _, a in getaddresses(message.get_all("From", []))]


@pytest.mark.parametrize(
    ("test", "message", "dkim_pass", "result", "policy", "org_record"),
    [
        # Upstream expectation after each row, Authentication-Results trimmed to DMARC.
        # test_authenticate_dmarc: "dmarc=pass (Used From Domain Record)
        # header.from=example.com policy.dmarc=reject" (dkim=pass header.d=example.com).
        ("dmarc", "test.message_signed", ["example.com"], "pass", "reject", False),
        # test_authenticate_dmarc_comma: the same for From: "Test, User" <test@example.com>.
        ("dmarc_comma", "testcomma.message", ["example.com"], "pass", "reject", False),
        # test_authenticate_dmarc_sub, prev "dkim=fail header.d=sub.example.net": "dmarc=fail
        # (Used Org Domain Record) header.from=sub.example.net policy.dmarc=reject" — the
        # empty TXT at _dmarc.sub.example.net is no record; example.net's sp=reject applies.
        ("dmarc_sub", "test.message_sub", [], "fail", "reject", True),
        # test_authenticate_dmarc_np1 (sub.example.biz does not exist): "dmarc=fail (Used Org
        # Domain Record) header.from=sub.example.biz policy.dmarc=reject" — np=reject.
        ("dmarc_np1", "test.message_np1", [], "fail", "reject", True),
        # test_authenticate_dmarc_np2 (sub2.example.biz exists): "... policy.dmarc=quarantine"
        # — sp=quarantine.
        ("dmarc_np2", "test.message_np2", [], "fail", "quarantine", True),
        # test_authenticate_dmarc_no_p (From: test@nop.eXample.org): "dmarc=none" — no p=
        # and no rua=, so §6.6.3 step 6.2 applies no DMARC.
        ("dmarc_no_p", "test_nop.message", [], "none", "none", False),
        # test_authenticate_dmarc_bad: 'dmarc=permerror (missing tag or value: "v=DMARC1\\;
        # p=none\\; reject") header.from=bad.example.com policy.dmarc=none'. RFC 7489 §6.3
        # ignores the bare word ("Syntax errors in the remainder of the record SHOULD be
        # discarded"), so the record is p=none: the same policy, judged not as an error but
        # as a fail with nothing aligned (the record's problem is kept for the report).
        ("dmarc_bad", "test.bad.message", [], "fail", "none", False),
    ],
)
async def test_authheaders_corpus(
    test: str,
    message: str,
    dkim_pass: list[str],
    result: str,
    policy: str,
    org_record: bool,
) -> None:
    (domain,) = from_domains(message)
    v = await evaluate(domain, dkim_pass, None, ZoneResolver(AUTHHEADERS_ZONE))
    assert (v.result, v.policy) == (result, policy), test
    if v.record is not None:
        assert (v.record_domain != v.from_domain) is org_record, test


async def test_authheaders_multiple_from() -> None:
    """test_authenticate_dmarc_mult_from and _mult_from2: From names example.org and example.com.

    Upstream, with prev "dkim=fail header.d=example.com; dkim=pass header.d=example.org",
    both orders give "dmarc=fail (Used From Domain Record) header.from=example.com
    policy.dmarc=reject": a signature aligned with one author does not cover the other.
    Each From domain is evaluated (§6.6.1); the worst verdict is the receiver's.
    """
    zone = ZoneResolver(AUTHHEADERS_ZONE)
    for message in ("test.message_multi", "test.message_multi2"):
        verdicts = {
            d: await evaluate(d, ["example.org"], None, zone) for d in from_domains(message)
        }
        assert sorted(verdicts) == ["example.com", "example.org"]
        com, org = verdicts["example.com"], verdicts["example.org"]
        assert (com.result, com.policy, com.record_domain) == ("fail", "reject", "example.com")
        assert (org.result, org.policy) == ("pass", "none")


def test_authheaders_bad_record_problem_is_reported() -> None:
    (text,) = [str(v["TXT"]) for v in AUTHHEADERS_ZONE["_dmarc.bad.example.com"]]  # type: ignore[index]
    record = parse_record(text)
    assert record is not None and record.problems == ("'reject' is not a tag=value pair (ignored)",)
