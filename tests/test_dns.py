"""The zone-data conventions of the SPF suites, as `ZoneResolver` serves them, and the
same zone over the wire: `DnsResolver` against the loopback server of gateway/dnsserver.py
must give what `ZoneResolver` gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import dns.message
import dns.query
import pytest

from gateway.dns import DnsResolver, DnsTempError, Record, ZoneResolver
from gateway.dnsserver import ZoneServer

ZONE = {
    "example.com": [
        {"SPF": "v=spf1 mx -all"},
        {"MX": [10, "mx.example.com."]},
        {"A": "192.0.2.1"},
    ],
    "mx.example.com": [{"A": "192.0.2.10"}, {"AAAA": "2001:DB8:0:0::10"}],
    "both.example.com": [{"SPF": "v=spf1 -all"}, {"TXT": "v=spf1 +all"}],
    "nodata.example.com": [{"SPF": "v=spf1 -all"}, {"TXT": "NONE"}],
    "multi.example.com": [{"TXT": ["v=spf1 ", "ip4:192.0.2.0/24 ", "-all"]}],
    "slow.example.com": [{"A": "192.0.2.2"}, "TIMEOUT"],
    "slowtxt.example.com": [{"TXT": "TIMEOUT"}, {"A": "192.0.2.3"}],
    "alias.example.com": [{"CNAME": "Mx.Example.com."}],
    "loop.example.com": [{"CNAME": "loop2.example.com"}],
    "loop2.example.com": [{"CNAME": "loop.example.com"}],
    "nullmx.example.com": [{"MX": [0, ""]}],
}


@pytest.fixture
def zone() -> ZoneResolver:
    return ZoneResolver(ZONE, ttl=300)


async def test_spf_records_are_served_as_txt_too(zone: ZoneResolver) -> None:
    assert [r.text for r in await zone.query("example.com", "TXT")] == ["v=spf1 mx -all"]
    assert [r.text for r in await zone.query("EXAMPLE.com.", "SPF")] == ["v=spf1 mx -all"]


async def test_a_txt_entry_stops_the_duplication(zone: ZoneResolver) -> None:
    assert [r.text for r in await zone.query("both.example.com", "TXT")] == ["v=spf1 +all"]
    assert await zone.query("nodata.example.com", "TXT") == []


async def test_multi_string_txt_is_joined(zone: ZoneResolver) -> None:
    [record] = await zone.query("multi.example.com", "TXT")
    assert record == Record(
        "TXT",
        "v=spf1 ip4:192.0.2.0/24 -all",
        300,
        data=b"v=spf1 ip4:192.0.2.0/24 -all",
    )


async def test_mx_aaaa_and_null_mx(zone: ZoneResolver) -> None:
    assert await zone.query("example.com", "MX") == [
        Record("MX", "mx.example.com", 300, preference=10)
    ]
    assert [r.text for r in await zone.query("mx.example.com", "AAAA")] == ["2001:db8::10"]
    assert [r.text for r in await zone.query("nullmx.example.com", "MX")] == [""]


async def test_missing_name_and_missing_type_are_empty(zone: ZoneResolver) -> None:
    assert await zone.query("nowhere.example.com", "A") == []
    assert await zone.query("mx.example.com", "TXT") == []


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        ("slow.example.com", "TXT"),  # bare TIMEOUT after the A record
        ("slowtxt.example.com", "TXT"),  # TIMEOUT as the TXT value
        ("error.example.com", "A"),  # unknown name under error.
    ],
)
async def test_timeouts_raise(zone: ZoneResolver, name: str, rdtype: str) -> None:
    with pytest.raises(DnsTempError):
        await zone.query(name, rdtype)


async def test_types_listed_before_a_timeout_still_answer(zone: ZoneResolver) -> None:
    assert [r.text for r in await zone.query("slow.example.com", "A")] == ["192.0.2.2"]
    assert [r.text for r in await zone.query("slowtxt.example.com", "A")] == ["192.0.2.3"]


async def test_cname_is_followed_and_a_loop_is_empty(zone: ZoneResolver) -> None:
    assert [r.text for r in await zone.query("alias.example.com", "A")] == ["192.0.2.10"]
    assert [r.text for r in await zone.query("alias.example.com", "CNAME")] == ["Mx.Example.com"]
    assert await zone.query("loop.example.com", "A") == []


# --- the same zone over the wire: DnsResolver (dnspython) against gateway/dnsserver.py ----

TYPES = ("A", "AAAA", "MX", "TXT", "SPF", "CNAME", "PTR")
# the names whose every type answers (no TIMEOUT, no CNAME loop)
ANSWERING = [n for n in ZONE if not n.startswith(("slow", "loop"))] + ["nowhere.example.com"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[ZoneServer]:
    with ZoneServer(ZONE, ttl=300) as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wire(server: ZoneServer, clock: Clock) -> DnsResolver:
    # a short lifetime: TIMEOUT entries are answered by silence
    return DnsResolver(["127.0.0.1"], port=server.port, timeout=0.5, lifetime=0.5, clock=clock)


def comparable(records: list[Record]) -> list[Record]:
    """Host names lowercased: name compression on the wire carries the case of the first
    occurrence of a suffix (``Mx.Example.com`` after ``alias.example.com`` comes back as
    ``Mx.example.com``), and DNS names are compared without case anyway (RFC 4343)."""
    names = ("CNAME", "MX", "PTR")
    return [
        dataclasses.replace(r, text=r.text.lower()) if r.rdtype in names else r for r in records
    ]


@pytest.mark.parametrize("rdtype", TYPES)
@pytest.mark.parametrize("name", ANSWERING)
async def test_the_wire_gives_what_the_zone_gives(
    wire: DnsResolver, zone: ZoneResolver, name: str, rdtype: str
) -> None:
    assert comparable(await wire.query(name, rdtype)) == comparable(await zone.query(name, rdtype))


@pytest.mark.parametrize("rdtype", TYPES)
async def test_the_wire_follows_a_cname_chain(wire: DnsResolver, rdtype: str) -> None:
    zone = ZoneResolver(ZONE, ttl=300)
    via_alias = await wire.query("alias.example.com", rdtype)
    assert comparable(via_alias) == comparable(await zone.query("alias.example.com", rdtype))


async def test_a_cname_loop_on_the_wire_is_empty(wire: DnsResolver) -> None:
    assert await wire.query("loop.example.com", "A") == []


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        ("slow.example.com", "TXT"),  # bare TIMEOUT: the server stays silent
        ("slowtxt.example.com", "TXT"),  # TIMEOUT as the TXT value
        ("error.example.com", "A"),  # SERVFAIL
    ],
)
async def test_timeouts_and_servfail_raise_over_the_wire(
    wire: DnsResolver, name: str, rdtype: str
) -> None:
    with pytest.raises(DnsTempError):
        await wire.query(name, rdtype)


async def test_types_before_a_timeout_answer_over_the_wire(wire: DnsResolver) -> None:
    assert [r.text for r in await wire.query("slow.example.com", "A")] == ["192.0.2.2"]


async def test_answers_are_cached_for_their_ttl(
    wire: DnsResolver, server: ZoneServer, clock: Clock
) -> None:
    assert [r.text for r in await wire.query("example.com", "TXT")] == ["v=spf1 mx -all"]
    server.update({"example.com": [{"TXT": "v=spf1 -all"}]})
    clock.now += 299
    [cached] = await wire.query("example.com", "TXT")
    assert (cached.text, cached.ttl) == ("v=spf1 mx -all", 1)  # the TTL left is passed on
    assert server.queries.count("example.com") == 1
    clock.now += 1
    assert [r.text for r in await wire.query("example.com", "TXT")] == ["v=spf1 -all"]
    assert server.queries.count("example.com") == 2


async def test_nxdomain_is_cached_for_the_soa_minimum(
    wire: DnsResolver, server: ZoneServer, clock: Clock
) -> None:
    # RFC 2308 §5: min(SOA TTL, SOA MINIMUM), here the zone's 300 s
    assert await wire.query("late.example.com", "A") == []
    server.update({"late.example.com": [{"A": "192.0.2.44"}]})
    clock.now += 299
    assert await wire.query("late.example.com", "A") == []
    clock.now += 1
    assert [r.text for r in await wire.query("late.example.com", "A")] == ["192.0.2.44"]
    assert server.queries.count("late.example.com") == 2


async def test_errors_are_not_cached(wire: DnsResolver, server: ZoneServer) -> None:
    with pytest.raises(DnsTempError):
        await wire.query("slowtxt.example.com", "TXT")
    server.update({"slowtxt.example.com": [{"TXT": "v=spf1 -all"}]})
    assert [r.text for r in await wire.query("slowtxt.example.com", "TXT")] == ["v=spf1 -all"]


LONG_KEY = "v=DKIM1; k=rsa; p=" + "A" * 3000


def test_long_txt_is_sent_as_strings_of_255_octets(server: ZoneServer) -> None:
    # RFC 1035 §3.3.14: a <character-string> is at most 255 octets; one record holds many
    server.update({"big._domainkey.example.com": [{"TXT": LONG_KEY}]})
    query = dns.message.make_query("big._domainkey.example.com", "TXT")
    response = dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5)
    [rdata] = response.answer[0]
    assert [len(s) for s in rdata.strings] == [255] * 11 + [len(LONG_KEY) - 255 * 11]
    assert b"".join(rdata.strings) == LONG_KEY.encode()


async def test_a_truncated_answer_is_asked_again_over_tcp(
    wire: DnsResolver, server: ZoneServer
) -> None:
    server.update({"big._domainkey.example.com": [{"TXT": LONG_KEY}]})
    [record] = await wire.query("big._domainkey.example.com", "TXT")
    assert record.data == LONG_KEY.encode()
    assert server.questions == [
        ("big._domainkey.example.com", "TXT", "udp"),  # answered with TC: too big
        ("big._domainkey.example.com", "TXT", "tcp"),
    ]
