"""SPF: the RFC 7208 and RFC 4408 suites through our DNS layer, and the egress checker.

The suites (openspf.org, maintained in pyspf) are run unchanged: each scenario's
``zonedata`` becomes a `ZoneResolver`, each test one ``check_host()`` whose result must be
the suite's (or one of its acceptable results) and whose explanation, where the suite
gives one, must match.  ``DEFAULT`` there stands for the receiver's default explanation.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import spf as pyspf
import yaml

from gateway.dns import DnsResolver, DnsTempError, Record, ZoneResolver
from gateway.dnsserver import ZoneServer
from gateway.spf import EgressResult, SpfChecker, SpfVerdict, check_host
from tests.conftest import SHARED

SUITES = SHARED / "corpora" / "spf"


@dataclass(frozen=True)
class Vector:
    """One test of a suite, with the zone of its scenario."""

    zone: Mapping[str, Sequence[object]]
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_suite(path: Path) -> dict[str, Vector]:
    """test id ("suite/scenario/test") -> vector, for every test of every scenario."""
    vectors: dict[str, Vector] = {}
    suite = path.name.removesuffix("-tests.yml")
    with path.open("rb") as f:
        for scenario in yaml.safe_load_all(f):
            zone = scenario.get("zonedata") or {}
            for name, test in scenario["tests"].items():
                result = test["result"]
                vectors[f"{suite}/{_slug(scenario['description'])}/{name}"] = Vector(
                    zone=zone,
                    host=str(test["host"]),
                    mailfrom=str(test.get("mailfrom") or ""),
                    helo=str(test.get("helo") or ""),
                    results=tuple(result) if isinstance(result, list) else (result,),
                    explanation=test.get("explanation"),
                )
    return vectors


RFC7208 = load_suite(SUITES / "rfc7208-tests.yml")
RFC4408 = load_suite(SUITES / "rfc4408-tests.yml")


def test_the_suites_are_complete() -> None:
    # MANIFEST.md: 203 tests in RFC 7208's suite, 191 in RFC 4408's
    assert (len(RFC7208), len(RFC4408)) == (203, 191)


def identity(vector: Vector) -> tuple[str | None, str]:
    """check_host's <sender> and <domain> for a test (RFC 7208 §2.3, §2.4, §4.1).

    An empty MAIL FROM makes the HELO identity the one checked (``postmaster@helo``);
    a MAIL FROM without local-part or without "@" is read as pyspf reads it.
    """
    _local, domain = pyspf.split_email(vector.mailfrom, vector.helo)
    return (vector.mailfrom or None), domain


def expected_explanation(vector: Vector, result: str) -> str | None:
    if vector.explanation == "DEFAULT":
        return str(pyspf.EXPLANATIONS[result])
    return vector.explanation


async def run_vector(vector: Vector, resolver: object) -> tuple[str, str]:
    sender, domain = identity(vector)
    return await check_host(resolver, vector.host, domain, sender, vector.helo)  # type: ignore[arg-type]


def assert_vector(vector: Vector, result: str, explanation: str) -> None:
    assert result in vector.results
    if vector.explanation is not None:
        assert explanation == expected_explanation(vector, result)


@pytest.mark.parametrize("vector_id", list(RFC7208))
async def test_rfc7208_suite(vector_id: str) -> None:
    vector = RFC7208[vector_id]
    result, explanation = await run_vector(vector, ZoneResolver(vector.zone))
    assert_vector(vector, result, explanation)


@pytest.mark.parametrize("vector_id", list(RFC4408))
async def test_rfc4408_suite(vector_id: str) -> None:
    vector = RFC4408[vector_id]
    result, explanation = await run_vector(vector, ZoneResolver(vector.zone))
    assert_vector(vector, result, explanation)


# --- SpfChecker: our egress against a domain's record ----------------------------------

EGRESS = ("192.0.2.10", "192.0.2.11", "2001:db8::25")

ZONE = {
    "ogiya.example": [
        {"TXT": "v=spf1 ip4:192.0.2.10 ip6:2001:db8::/64 include:_spf.ogiya.example -all"},
        {"A": "192.0.2.80"},
    ],
    "_spf.ogiya.example": [{"TXT": "v=spf1 a:relay.ogiya.example ~all"}],
    "relay.ogiya.example": [{"A": "192.0.2.11"}],
    "hikari.example": [{"TXT": "v=spf1 ip4:192.0.2.10 ~all"}],
    "minato.example": [{"A": "192.0.2.90"}, {"TXT": "google-site-verification=abc"}],
    "slow.example": [{"TXT": "v=spf1 include:dns.slow.example -all"}],
    "dns.slow.example": ["TIMEOUT"],
    "two.example": [{"TXT": "v=spf1 -all"}, {"TXT": "v=spf1 +all"}],
}


class CountingResolver:
    """A `ZoneResolver` that counts its lookups and can be changed between checks."""

    def __init__(self, zone: Mapping[str, Sequence[object]], ttl: int = 3600) -> None:
        self.zone = dict(zone)
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []

    async def query(self, name: str, rdtype: str) -> list[Record]:
        self.queries.append((name, rdtype))
        return await ZoneResolver(self.zone, self.ttl).query(name, rdtype)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_each_egress_address_is_judged() -> None:
    checker = SpfChecker(ZoneResolver(ZONE))
    verdict = await checker.check("ogiya.example", EGRESS)
    assert [(r.ip, r.result) for r in verdict.results] == [
        ("192.0.2.10", "pass"),  # ip4:
        ("192.0.2.11", "pass"),  # include: -> a:relay
        ("2001:db8::25", "pass"),  # ip6:
    ]
    assert verdict.passes
    assert verdict.failing() == ()
    assert verdict.record == (
        "v=spf1 ip4:192.0.2.10 ip6:2001:db8::/64 include:_spf.ogiya.example -all"
    )


async def test_unlisted_egress_addresses_are_failing() -> None:
    verdict = await SpfChecker(ZoneResolver(ZONE)).check("Hikari.Example.", EGRESS)
    assert verdict.domain == "hikari.example"
    assert [(r.ip, r.result) for r in verdict.results] == [
        ("192.0.2.10", "pass"),
        ("192.0.2.11", "softfail"),  # ~all
        ("2001:db8::25", "softfail"),
    ]
    assert not verdict.passes
    assert [r.ip for r in verdict.failing()] == ["192.0.2.11", "2001:db8::25"]
    # the operator sees the result's text and what decided it
    assert "~all" in verdict.failing()[0].explanation


async def test_fail_names_the_mechanism() -> None:
    verdict = await SpfChecker(ZoneResolver(ZONE)).check("ogiya.example", ["198.51.100.7"])
    [result] = verdict.results
    assert (result.ip, result.result) == ("198.51.100.7", "fail")
    assert "-all" in result.explanation


async def test_a_domain_without_spf_is_none() -> None:
    verdict = await SpfChecker(ZoneResolver(ZONE)).check("minato.example", EGRESS[:1])
    assert verdict == SpfVerdict(
        "minato.example",
        (EgressResult("192.0.2.10", "none", verdict.results[0].explanation),),
        None,
    )
    assert verdict.results[0].explanation  # says why, for the operator
    assert not verdict.passes


async def test_two_records_are_a_permerror_and_both_shown() -> None:
    # RFC 7208 §4.5: more than one v=spf1 record is a permerror
    verdict = await SpfChecker(ZoneResolver(ZONE)).check("two.example", EGRESS[:1])
    assert [r.result for r in verdict.results] == ["permerror"]
    assert verdict.results[0].explanation.count("Two or more") == 1
    assert verdict.record is not None
    assert sorted(verdict.record.split("\n")) == ["v=spf1 +all", "v=spf1 -all"]


async def test_a_timeout_raises_and_is_not_cached() -> None:
    resolver = CountingResolver(ZONE)
    checker = SpfChecker(resolver)
    with pytest.raises(DnsTempError):
        await checker.check("slow.example", EGRESS[:1])
    asked = len(resolver.queries)
    assert ("dns.slow.example", "TXT") in resolver.queries
    # the zone answers now: the next check asks again and gets the real verdict
    resolver.zone["dns.slow.example"] = [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}]
    verdict = await checker.check("slow.example", EGRESS[:1])
    assert len(resolver.queries) > asked
    assert verdict.passes


async def test_verdicts_are_cached_for_the_ttl() -> None:
    resolver = CountingResolver(ZONE)
    clock = Clock()
    checker = SpfChecker(resolver, ttl=300.0, clock=clock)
    first = await checker.check("hikari.example", EGRESS)
    asked = len(resolver.queries)
    clock.now += 299
    resolver.zone["hikari.example"] = [{"TXT": "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"}]
    assert await checker.check("hikari.example", EGRESS) is first
    assert len(resolver.queries) == asked
    clock.now += 1
    fixed = await checker.check("hikari.example", EGRESS)
    assert fixed.passes
    assert len(resolver.queries) > asked


async def test_the_cache_is_keyed_by_the_egress_list() -> None:
    resolver = CountingResolver(ZONE)
    checker = SpfChecker(resolver, clock=Clock())
    await checker.check("hikari.example", EGRESS[:1])
    asked = len(resolver.queries)
    verdict = await checker.check("hikari.example", EGRESS[1:2])
    assert len(resolver.queries) > asked
    assert [r.result for r in verdict.results] == ["softfail"]


async def test_a_shorter_record_ttl_bounds_the_cache() -> None:
    resolver = CountingResolver(ZONE, ttl=60)
    clock = Clock()
    checker = SpfChecker(resolver, ttl=300.0, clock=clock)
    await checker.check("hikari.example", EGRESS[:1])
    asked = len(resolver.queries)
    clock.now += 59
    await checker.check("hikari.example", EGRESS[:1])
    assert len(resolver.queries) == asked
    clock.now += 1
    await checker.check("hikari.example", EGRESS[:1])
    assert len(resolver.queries) > asked


async def test_the_cache_is_bounded_lru() -> None:
    resolver = CountingResolver(ZONE)
    checker = SpfChecker(resolver, max_entries=2, clock=Clock())
    for domain in ("ogiya.example", "hikari.example", "ogiya.example", "minato.example"):
        await checker.check(domain, EGRESS[:1])
    asked = len(resolver.queries)
    await checker.check("ogiya.example", EGRESS[:1])  # recently used: kept
    assert len(resolver.queries) == asked
    await checker.check("hikari.example", EGRESS[:1])  # least recently used: dropped
    assert len(resolver.queries) > asked


# --- the RFC 7208 suite again, over the wire ---------------------------------------------

# The suite's zones served by a real DNS server on loopback (gateway/dnsserver.py) and read
# by `DnsResolver` (dnspython): a cross-check of our dnspython layer against the suite.
# A TIMEOUT entry is silence; the short lifetime keeps those vectors quick.
WIRE_TIMEOUT = 0.5


# Over the wire, a CNAME loop is what dnspython 2.9 reports as a failed server
# (NoNameservers wrapping ChainTooLong); DnsResolver reads it as no data, so the PTR
# vectors end neutral as the suite says (RFC 7208 §5.5: a DNS error skips the name).


@pytest.mark.parametrize("vector_id", list(RFC7208))
async def test_rfc7208_suite_over_the_wire(vector_id: str) -> None:
    vector = RFC7208[vector_id]
    with ZoneServer(vector.zone) as server:
        resolver = DnsResolver(
            ["127.0.0.1"], port=server.port, timeout=WIRE_TIMEOUT, lifetime=WIRE_TIMEOUT
        )
        result, explanation = await run_vector(vector, resolver)
    assert_vector(vector, result, explanation)


async def test_the_event_loop_runs_while_pyspf_waits_for_dns() -> None:
    """pyspf is synchronous; its lookups must not hold the loop (other sessions go on)."""
    asked = asyncio.Event()
    other_session_ran = asyncio.Event()
    lookups_on: set[str] = set()

    class GatedResolver:
        async def query(self, name: str, rdtype: str) -> list[Record]:
            lookups_on.add(threading.current_thread().name)
            asked.set()
            # answers only once another task has run on the loop meanwhile
            await other_session_ran.wait()
            return await ZoneResolver(ZONE).query(name, rdtype)

    check = asyncio.create_task(check_host(GatedResolver(), "192.0.2.10", "hikari.example"))
    await asyncio.wait_for(asked.wait(), timeout=10)  # pyspf is mid-evaluation
    other_session_ran.set()  # this task ran while pyspf waits
    assert await asyncio.wait_for(check, timeout=10) == ("pass", pyspf.EXPLANATIONS["pass"])
    # the lookups ran on the loop's thread (the resolver is not thread-safe), not pyspf's
    assert lookups_on == {threading.current_thread().name}
