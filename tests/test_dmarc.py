"""DMARC: records, organisational domains and alignment, from RFC 7489 and upstream test vectors.

Upstream vectors are transcribed, not copied, with their source:
OpenDMARC ``libopendmarc/tests/test_alignment.c`` and ``test_dmarc_parse.c``
(trusteddomainproject/OpenDMARC), checkdmarc ``tests/test_dmarc.py``
(domainaware/checkdmarc). Where their answer differs from RFC 7489 the test says
which one it follows and why.
"""

from __future__ import annotations

import pytest

from gateway.dmarc import aligned, organizational_domain, parse_record

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
