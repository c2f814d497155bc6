"""DMARC (RFC 7489) as a receiver will judge the mail tokuden relays, asked before it is sent.

Receivers look the From domain's policy up and pass the mail only if a DKIM ``d=``
or the SPF-authenticated envelope domain is aligned with the From domain. tokuden
signs every mail, so it can ask the same question ahead of time with its own
``d=`` domains and, when its egress passes the envelope domain's SPF, that domain:
a From domain whose DMARC would fail is a finding, not a surprise at the receiver.

Where RFC 7489 lets a receiver choose, this module predicts the stricter receiver:
a mail tokuden relays must pass at all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, TypeVar

from publicsuffixlist import PublicSuffixList

from gateway.dns import Resolver

Policy = Literal["none", "quarantine", "reject"]
Mode = Literal["r", "s"]
Result = Literal["pass", "fail", "none"]
_V = TypeVar("_V", bound=str)

_POLICIES: dict[str, Policy] = {"none": "none", "quarantine": "quarantine", "reject": "reject"}
_MODES: dict[str, Mode] = {"r": "r", "s": "s"}
# RFC 3986 scheme ":" rest, with RFC 7489 §6.2's optional "!size" suffix taken off first.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")


@dataclass(frozen=True)
class DmarcRecord:
    """A ``v=DMARC1`` record, read as leniently as RFC 7489 §6.3 asks.

    ``p`` is None when the tag is missing or its value is not a policy: §6.6.3
    then makes the record ``p=none`` if it has a valid ``rua``, or no record at all.
    ``invalid`` names the known tags whose values were ignored; ``problems`` says,
    for an operator, everything in the record a receiver may read otherwise.
    """

    text: str
    p: Policy | None
    sp: Policy | None = None
    np: Policy | None = None
    adkim: Mode = "r"
    aspf: Mode = "r"
    pct: int = 100
    rua: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def has_valid_rua(self) -> bool:
        """At least one syntactically valid reporting URI (RFC 7489 §6.6.3 step 6)."""
        return any(_URI.match(uri.rpartition("!")[0] or uri) for uri in self.rua)


def parse_record(text: str) -> DmarcRecord | None:
    """The DMARC record in one TXT record's text, or None when it is not one.

    Not one: the first tag is not ``v=DMARC1`` (RFC 7489 §6.6.3 step 2 discards
    such records, so a stray SPF record at ``_dmarc`` does not count). Anything
    else is a record: unknown tags are ignored and bad values fall back to their
    defaults (§6.3, "Syntax errors in the remainder of the record SHOULD be
    discarded in favor of default values (if any) or ignored outright").
    """
    parts = [part.strip() for part in text.split(";")]
    name, eq, version = (s.strip() for s in parts[0].partition("="))
    if not eq or name.lower() != "v" or version.upper() != "DMARC1":
        return None
    tags = _Tags()
    if version != "DMARC1":
        # Receivers differ here: the ABNF's %x codes are case-sensitive (§6.4).
        tags.problems.append(f"v={version}: the version is DMARC1 in capitals")
    for part in filter(None, parts[1:]):
        tags.add(part)
    if "p" not in tags.values:
        tags.problems.append("p= is missing (RFC 7489 requires it)")
    rua = tags.values.get("rua", "")
    return DmarcRecord(
        text=text,
        p=tags.pick("p", _POLICIES),
        sp=tags.pick("sp", _POLICIES),
        np=tags.pick("np", _POLICIES),
        adkim=tags.pick("adkim", _MODES) or "r",
        aspf=tags.pick("aspf", _MODES) or "r",
        pct=tags.percent(),
        rua=tuple(uri.strip() for uri in rua.split(",") if uri.strip()),
        invalid=tuple(tags.invalid),
        problems=tuple(tags.problems),
    )


class _Tags:
    """The tag=value pairs of a record and what was wrong with them, as parsing goes."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.invalid: list[str] = []
        self.problems: list[str] = []

    def add(self, part: str) -> None:
        tag, eq, value = part.partition("=")
        tag = tag.strip().lower()
        if not eq:
            self.problems.append(f"{part!r} is not a tag=value pair (ignored)")
        elif tag in self.values:
            self.problems.append(f"{tag}= appears twice (the first is used)")
        else:
            self.values[tag] = value.strip()

    def pick(self, tag: str, table: Mapping[str, _V]) -> _V | None:
        """The tag's value from ``table`` (case-insensitive), or None if absent or invalid."""
        if tag not in self.values:
            return None
        raw = self.values[tag]
        if raw.lower() in table:
            return table[raw.lower()]
        self.invalid.append(tag)
        self.problems.append(f"{tag}={raw} is not one of {'/'.join(table)} (ignored)")
        return None

    def percent(self) -> int:
        raw = self.values.get("pct", "100")
        if raw.isdigit() and int(raw) <= 100:
            return int(raw)
        self.invalid.append("pct")
        self.problems.append(f"pct={raw} is not 0-100 (100 is used)")
        return 100


@dataclass(frozen=True)
class DmarcVerdict:
    """What a receiver would conclude for mail from ``from_domain`` as tokuden sends it.

    ``result`` "none" means no record applies and the receiver does no DMARC (RFC
    7489 §6.6.3); ``policy`` is what the record asks for a failing mail ("none" then).
    ``aligned_dkim``/``aligned_spf`` say which of our identifiers align, with the
    record's modes or, without one, the default relaxed mode (what ``dns check``
    tells an operator about to publish a record).
    """

    from_domain: str
    result: Result
    policy: Policy
    record: DmarcRecord | None
    record_domain: str | None
    aligned_dkim: tuple[str, ...]
    aligned_spf: bool
    reason: str


async def evaluate(
    from_domain: str,
    dkim_domains: Sequence[str],
    spf_domain: str | None,
    resolver: Resolver,
) -> DmarcVerdict:
    """The DMARC verdict for one From domain (evaluate each, if From has several: §6.6.1).

    ``dkim_domains``: the ``d=`` domains tokuden signs this mail with (its signatures
    verify, so only alignment is in question). ``spf_domain``: the envelope sender's
    domain when its SPF passes for our egress, else None. `DnsTempError` propagates:
    a verdict on a lookup that failed would be a guess, and the gateway answers 451.
    """
    domain = _name(from_domain)
    if not domain:
        raise ValueError(f"no From domain in {from_domain!r}")
    found, where = await _discover(domain, resolver)
    record = found[0] if len(found) == 1 else None
    dkim = tuple(d for d in dkim_domains if aligned(domain, d, record.adkim if record else "r"))
    spf = spf_domain is not None and aligned(domain, spf_domain, record.aspf if record else "r")

    def verdict(result: Result, policy: Policy, reason: str) -> DmarcVerdict:
        return DmarcVerdict(domain, result, policy, record, where, dkim, spf, reason)

    if where is None:
        org = organizational_domain(domain)
        looked = f"_dmarc.{domain}" + (f" nor _dmarc.{org}" if org != domain else "")
        return verdict("none", "none", f"no DMARC record at {looked}")
    if record is None:  # §6.6.3 step 5
        return verdict("none", "none", f"{len(found)} DMARC records at _dmarc.{where}: none used")
    outcome: Result = "pass" if dkim or spf else "fail"
    if record.p is None or "sp" in record.invalid:  # §6.6.3 step 6
        if not record.has_valid_rua:
            return verdict("none", "none", f"_dmarc.{where} has no valid p= or sp=, nor rua=")
        return verdict(outcome, "none", f"_dmarc.{where} has no valid p= or sp=: read as p=none")
    if where == domain:
        return verdict(outcome, record.p, f"_dmarc.{where}: p={record.p}")
    if record.np is not None and not await _exists(domain, resolver):
        policy, tag = record.np, "np"  # RFC 9091: for a From domain that does not exist
    elif record.sp is not None:
        policy, tag = record.sp, "sp"
    else:
        policy, tag = record.p, "p"
    return verdict(outcome, policy, f"_dmarc.{where} (organisational domain): {tag}={policy}")


async def _discover(domain: str, resolver: Resolver) -> tuple[list[DmarcRecord], str | None]:
    """RFC 7489 §6.6.3 steps 1-4: the From domain's records, else its org domain's.

    The second value is the domain whose records were found, None when none were.
    """
    found = await _records(domain, resolver)
    if found:
        return found, domain
    org = organizational_domain(domain)
    if org != domain:
        found = await _records(org, resolver)
        if found:
            return found, org
    return [], None


async def _records(domain: str, resolver: Resolver) -> list[DmarcRecord]:
    """The DMARC records at ``_dmarc.domain``; other TXT records are discarded (step 2)."""
    answers = await resolver.query(f"_dmarc.{domain}", "TXT")
    return [r for r in map(parse_record, (a.text for a in answers)) if r is not None]


async def _exists(domain: str, resolver: Resolver) -> bool:
    """RFC 9091's test: a domain without A, AAAA and MX records (NXDOMAIN or NODATA) does not."""
    for rdtype in ("A", "AAAA", "MX"):
        if await resolver.query(domain, rdtype):
            return True
    return False


def organizational_domain(domain: str) -> str:
    """The registered domain under the longest public suffix (RFC 7489 §3.2).

    A name that is itself a public suffix (``co.jp``) has no label to add and is
    its own answer, so it is aligned only with itself, never with ``x.co.jp``.
    """
    name = _name(domain)
    return str(_psl().privatesuffix(name) or name)


def is_public_suffix(domain: str) -> bool:
    """``co.jp``, ``jp``: a name under which anyone registers, owned by none of them."""
    return bool(_psl().is_public(_name(domain)))


def aligned(author_domain: str, identifier_domain: str, mode: Mode) -> bool:
    """Identifier alignment (RFC 7489 §3.1): strict is one name, relaxed one org domain."""
    author, identifier = _name(author_domain), _name(identifier_domain)
    if not author or not identifier:
        return False
    if author == identifier:
        return True
    return mode == "r" and organizational_domain(author) == organizational_domain(identifier)


@cache
def _psl() -> PublicSuffixList:
    """One list per process, from the data the package ships (never fetched)."""
    return PublicSuffixList()


def _name(domain: str) -> str:
    """Lower-case A-labels, dots at either end dropped as OpenDMARC does (``mac.com.``)."""
    name = domain.strip().strip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name
