"""``tokuden dns check``: the operator's report on a test zone served by a real DNS server.

Expected verdicts come from the RFCs: 192.0.2.25 is inside ``ip4:192.0.2.25`` (pass) and
outside ``ip4:198.51.100.0/24 -all`` (fail, RFC 7208 §5); with no record at
``_dmarc.<domain>`` nor at the organisational domain there is no DMARC policy (RFC 7489
§6.6.3); a published ``p=`` that is not our public key cannot verify our signatures.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.dnsserver import ZoneServer
from tests.cases import example_config
from tests.test_gateway_auth import EGRESS, auth_config, world  # noqa: F401 (a fixture)


@pytest.fixture
def zone(world: dict[str, Any]) -> Iterator[ZoneServer]:  # noqa: F811 (the imported fixture)
    data = dict(world["zone"])
    other = world["zone"]["rsa1._domainkey.minato.example"]
    data.update(
        {
            # minato.example, broken three ways: SPF without our egress, no DMARC record,
            # and the RSA selector publishing another key than the one we sign with
            "minato.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}],
            "_dmarc.minato.example": [{"A": "192.0.2.1"}],
            "rsa1._domainkey.minato.example": world["zone"]["rsa1._domainkey.ogiya.example"],
            "bare.example": [{"A": "192.0.2.80"}],
            "k1._domainkey.bare.example": other,
        }
    )
    with ZoneServer(data) as server:
        yield server


def dns_check(
    world: dict[str, Any],  # noqa: F811
    server: ZoneServer,
    tmp: Path,
    *args: str,
) -> subprocess.CompletedProcess[str]:
    config = example_config(tmp, edits=auth_config(world, server))
    return subprocess.run(
        [sys.executable, "-m", "gateway", "dns", "check", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_domain_published_right_needs_nothing(
    world: dict[str, Any],  # noqa: F811
    zone: ZoneServer,
    tmp_path: Path,
) -> None:
    done = dns_check(world, zone, tmp_path, "ogiya.example")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"  record: v=spf1 ip4:{EGRESS} -all" in out
    assert f"  {EGRESS}: pass" in out
    assert "  ed1._domainkey.ogiya.example: k=ed25519, matches our signing key" in out
    assert "  rsa1._domainkey.ogiya.example: k=rsa, matches our signing key" in out
    assert "  record: v=DMARC1; p=reject (_dmarc.ogiya.example: p=reject)" in out
    assert "  aligned DKIM: d=ogiya.example; aligned SPF: yes" in out
    assert "  result: pass (policy for failing mail: reject)" in out
    assert out.rstrip().endswith("Nothing to fix.")


def test_a_broken_domain_gets_each_fix(
    world: dict[str, Any],  # noqa: F811
    zone: ZoneServer,
    tmp_path: Path,
) -> None:
    done = dns_check(world, zone, tmp_path, "minato.example")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert f"  {EGRESS}: fail" in out
    assert (
        "  rsa1._domainkey.minato.example: k=rsa, published key is NOT the one we sign with" in out
    )
    assert "  ed1._domainkey.minato.example: k=ed25519, matches our signing key" in out
    assert "  record: (none) (no DMARC record at _dmarc.minato.example)" in out
    # still aligned through the Ed25519 signature: DMARC would pass once a record exists
    assert "  aligned DKIM: d=minato.example; aligned SPF: no" in out
    fixes = out.split("To fix (3):\n", 1)[1].splitlines()
    assert fixes[0] == f"  1. add ip4:{EGRESS} to the SPF record of minato.example (before its all)"
    assert fixes[1].startswith("  2. publish rsa1._domainkey.minato.example. IN TXT ")
    ours = world["zone"]["rsa1._domainkey.minato.example"][0]["TXT"]
    assert "".join(fixes[1].split('"')[1::2]) == ours
    assert fixes[2].startswith(
        '  3. publish a DMARC record: _dmarc.minato.example. IN TXT "v=DMARC1;'
    )


def test_a_domain_with_nothing_published(
    world: dict[str, Any],  # noqa: F811
    zone: ZoneServer,
    tmp_path: Path,
) -> None:
    """No SPF, no key for our selector, no DMARC; --egress and --selector override the config."""
    done = dns_check(
        world, zone, tmp_path, "bare.example", "--egress", "203.0.113.7", "--selector", "k1"
    )
    assert done.returncode == 1
    out = done.stdout
    assert "  record: (none)" in out and "  203.0.113.7: none" in out
    assert "  k1._domainkey.bare.example: k=rsa, key published (no key file here to compare)" in out
    assert 'publish an SPF record: bare.example. IN TXT "v=spf1 ip4:203.0.113.7 -all"' in out
    assert "  result: none" in out


def test_dns_that_does_not_answer_is_an_error_not_a_report(
    world: dict[str, Any],  # noqa: F811
    zone: ZoneServer,
    tmp_path: Path,
) -> None:
    done = dns_check(world, zone, tmp_path, "slow.example")
    assert done.returncode == 2
    assert done.stderr.startswith("tokuden: DNS did not answer, try again: ")
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["bad_label.example"], "tokuden: bad DOMAIN 'bad_label.example'"),
        (["localhost"], "tokuden: bad DOMAIN 'localhost': not a fully qualified domain"),
        (["a.example", "--egress", "300.1.1.1"], "'300.1.1.1' does not appear to be an IPv"),
        (["a.example", "--nameserver", "ns.example"], "bad --nameserver 'ns.example': not an IP"),
        (["a.example", "--nameserver", "127.0.0.1:99999"], "the port is not 1-65535"),
    ],
)
def test_bad_input_is_named(
    args: list[str],
    error: str,
    world: dict[str, Any],  # noqa: F811
    zone: ZoneServer,
    tmp_path: Path,
) -> None:
    done = dns_check(world, zone, tmp_path, *args)
    assert done.returncode == 2
    assert error in done.stderr
    assert "Traceback" not in done.stderr
