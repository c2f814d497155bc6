"""The zone-data conventions of the SPF suites, as `ZoneResolver` serves them."""

from __future__ import annotations

import pytest

from gateway.dns import DnsTempError, Record, ZoneResolver

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
