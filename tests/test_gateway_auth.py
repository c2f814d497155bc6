"""Sender-domain authentication on the whole path: SMTP in, SPF/DMARC checked against a real
DNS server on loopback, DKIM-signed last, relayed, verified by independent verifiers.

The world is the shipped example config with the ``auth`` policy added, keys made by
``tokuden dkim keygen`` (RSA-2048 and Ed25519 for ogiya.example and minato.example) and a
zone publishing what an operator would publish after ``tokuden dns check``.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dkim
import dns.message
import dns.query
import pytest

from gateway.config import load
from gateway.dnsserver import ZoneServer
from tests.cases import EXAMPLES, example_config, import_consent
from tests.dkimpeers import OpenDkim, keygen, maildkim, with_parseable_from
from tests.smtpclient import maildir_messages, send
from tests.test_gateway import PASSWORDS, gateway

EGRESS = "192.0.2.25"
DOMAINS = ("ogiya.example", "minato.example")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Keys, the zone that publishes them, and the consent records of the examples."""
    tmp = tmp_path_factory.mktemp("auth-world")
    zone: dict[str, list[Any]] = {}
    dkim_lines: dict[str, str] = {}
    for domain in DOMAINS:
        rsa, rsa_txt = keygen(tmp, domain, "rsa1", "rsa")
        ed, ed_txt = keygen(tmp, domain, "ed1", "ed25519")
        zone[domain] = [{"TXT": f"v=spf1 ip4:{EGRESS} -all"}, {"A": "192.0.2.80"}]
        zone[f"_dmarc.{domain}"] = [{"TXT": "v=DMARC1; p=reject"}]
        zone[f"rsa1._domainkey.{domain}"] = [{"TXT": rsa_txt}]
        zone[f"ed1._domainkey.{domain}"] = [{"TXT": ed_txt}]
        dkim_lines[domain] = (
            f'dkim = [{{ domain = "{domain}", selector = "ed1", key = "{ed}" }}, '
            f'{{ domain = "{domain}", selector = "rsa1", key = "{rsa}" }}]'
        )
    zone["slow.example"] = [{"TXT": "TIMEOUT"}]
    db = tmp / "consent.db"
    import_consent(example_config(tmp, store=db))
    return {"zone": zone, "dkim": dkim_lines, "db": db}


@pytest.fixture
def dns_server(world: dict[str, Any]) -> Iterator[ZoneServer]:
    with ZoneServer(world["zone"]) as server:
        yield server


def auth_config(
    world: dict[str, Any], server: ZoneServer, egress: str = EGRESS, action: str = "annotate"
) -> dict[str, str]:
    """Edits of deploy/example.toml: the auth policy, our egress, DNS on loopback, the keys."""
    auth_line = 'auth = { ogiya = "ogiya-secret" }   # better: a hash from `tokuden passwd`'
    return {
        'on_partial_block = "dsn"': f'on_partial_block = "dsn"\negress = ["{egress}"]',
        "stdout = false": "stdout = false\n\n"
        f'[dns]\nnameservers = ["127.0.0.1"]\nport = {server.port}\ntimeout = 1\nlifetime = 1',
        auth_line: f'{auth_line}\n{world["dkim"]["ogiya.example"]}\nauth_action = "{action}"',
        'auth = { minato = "minato-secret" }': 'auth = { minato = "minato-secret" }\n'
        f'{world["dkim"]["minato.example"]}\nauth_action = "{action}"',
        'use = "display"': 'use = "display"\n\n[[policies]]\nuse = "auth"',
    }


def dkimpy_verdicts(signed: bytes, server: ZoneServer) -> list[bool]:
    """dkimpy's verdict per signature, its key lookups sent to the loopback server."""

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
        qname = name.decode() if isinstance(name, bytes) else name
        query = dns.message.make_query(qname, "TXT")
        response = dns.query.udp(query, "127.0.0.1", port=server.port, timeout=timeout)
        for rrset in response.answer:
            for rdata in rrset:
                return b"".join(rdata.strings)  # type: ignore[attr-defined,no-any-return]
        return None

    verifier = dkim.DKIM(signed)
    count = len(re.findall(rb"(?im)^DKIM-Signature:", signed))
    return [verifier.verify(idx=i, dnsfunc=dnsfunc) for i in range(count)]


@pytest.mark.parametrize(
    ("mail", "user", "domain"),
    [
        ("01_ad_compliant_iso2022jp.eml", "ogiya", "ogiya.example"),
        ("09_ad_alternative_shift_jis.eml", "minato", "minato.example"),  # 8-bit Shift_JIS
    ],
)
async def test_relayed_mail_carries_rsa_and_ed25519_signatures_that_verify(
    mail: str,
    user: str,
    domain: str,
    world: dict[str, Any],
    dns_server: ZoneServer,
    mail_dkim_ed25519: bool,
    tmp_path: Path,
) -> None:
    raw = (EXAMPLES / mail).read_bytes()
    edits = auth_config(world, dns_server)
    async with gateway(tmp_path, world["db"], edits=edits) as gw:
        t = await send(
            gw.port, f"bounce@{domain}", ["yoshida@example.jp"], raw, user, PASSWORDS[user]
        )
        assert t.data is not None and t.data[0] == 250, t.data
        (delivered,) = maildir_messages(gw.maildir)
        (record,) = gw.log_lines()
        (path,) = (gw.maildir / "new").iterdir()
    signed = path.read_bytes()  # as the mailbox holds it: Return-Path and Delivered-To added
    assert [s.split(";")[1].strip() for s in delivered.get_all("DKIM-Signature")] == [
        "a=ed25519-sha256",
        "a=rsa-sha256",
    ]
    assert record["dkim"] == [f"{domain}/ed1", f"{domain}/rsa1"]
    assert record["findings"] == []  # SPF passes for our egress, DMARC aligned
    assert await asyncio.to_thread(dkimpy_verdicts, signed, dns_server) == [True, True]
    tampered = signed.replace(b"Subject:", b"Subject: Re:", 1)
    assert await asyncio.to_thread(dkimpy_verdicts, tampered, dns_server) == [False, False]
    ed = "pass" if mail_dkim_ed25519 else "invalid"  # Debian 12's Mail::DKIM has no Ed25519
    results = await asyncio.to_thread(maildkim, signed, dns_server.port)
    assert [tuple(r[:3]) for r in results] == [
        (ed, "ed25519-sha256", domain),
        ("pass", "rsa-sha256", domain),
    ]
    assert {f"ed1._domainkey.{domain}", f"rsa1._domainkey.{domain}"} <= set(dns_server.queries)


async def test_a_look_alike_from_domain_is_blocked_as_a5_without_asking_its_dmarc(
    world: dict[str, Any], dns_server: ZoneServer, tmp_path: Path
) -> None:
    raw = (EXAMPLES / "01_ad_compliant_iso2022jp.eml").read_bytes()
    raw = raw.replace(b"From: ", b"From: news@ogiya.example.evil.test\r\nX-Old-From: ", 1)
    async with gateway(tmp_path, world["db"], edits=auth_config(world, dns_server)) as gw:
        t = await send(
            gw.port, "bounce@ogiya.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
        assert maildir_messages(gw.maildir) == []
    assert t.data is not None and t.data[0] == 550
    assert "[A5]" in t.data[1]
    assert not [q for q in dns_server.queries if "evil" in q]


async def test_an_spf_record_that_excludes_our_egress_is_reported(
    world: dict[str, Any], dns_server: ZoneServer, tmp_path: Path
) -> None:
    raw = (EXAMPLES / "01_ad_compliant_iso2022jp.eml").read_bytes()
    edits = auth_config(world, dns_server, egress="203.0.113.9")
    async with gateway(tmp_path, world["db"], edits=edits) as gw:
        t = await send(
            gw.port, "bounce@ogiya.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
        (delivered,) = maildir_messages(gw.maildir)
        (record,) = gw.log_lines()
    assert t.data is not None and t.data[0] == 250  # annotate: relayed, and said
    assert "rules=SPF" in delivered["X-Tokuden-Decision"]
    (finding,) = record["findings"]
    assert (finding["rule"], finding["code"]) == ("SPF", "auth.spf_fail")
    assert "203.0.113.9: fail" in finding["message"]


async def test_with_auth_action_block_the_spf_failure_refuses_the_mail(
    world: dict[str, Any], dns_server: ZoneServer, tmp_path: Path
) -> None:
    raw = (EXAMPLES / "01_ad_compliant_iso2022jp.eml").read_bytes()
    edits = auth_config(world, dns_server, egress="203.0.113.9", action="block")
    async with gateway(tmp_path, world["db"], edits=edits) as gw:
        t = await send(
            gw.port, "bounce@ogiya.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
        assert maildir_messages(gw.maildir) == []
    assert t.data is not None and t.data[0] == 550
    assert "[SPF]" in t.data[1]


async def test_dns_that_does_not_answer_defers_the_mail(
    world: dict[str, Any], dns_server: ZoneServer, tmp_path: Path
) -> None:
    raw = (EXAMPLES / "01_ad_compliant_iso2022jp.eml").read_bytes()
    async with gateway(tmp_path, world["db"], edits=auth_config(world, dns_server)) as gw:
        t = await send(
            gw.port, "bounce@slow.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
        assert maildir_messages(gw.maildir) == []
        (record,) = gw.log_lines()
    assert t.data is not None and t.data[0] == 451
    assert "slow.example" in record["error"]


def test_a_bad_key_file_stops_the_gateway_naming_the_file(
    world: dict[str, Any], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    auth_line = 'auth = { ogiya = "ogiya-secret" }   # better: a hash from `tokuden passwd`'
    edits = {
        auth_line: f'{auth_line}\ndkim = [{{ domain = "ogiya.example", selector = "s", '
        f'key = "{bad}" }}]'
    }
    config = example_config(tmp_path, store=world["db"], edits=edits)
    assert load(config).senders["ogiya"].dkim[0].key_file == str(bad)
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"cannot start: DKIM key {bad}: not a usable PEM private key" in done.stderr
    assert "Traceback" not in done.stderr


async def test_opendkim_accepts_the_relayed_mail_with_both_signatures(
    world: dict[str, Any],
    dns_server: ZoneServer,
    opendkim: OpenDkim,
    tmp_path: Path,
) -> None:
    """OpenDKIM knows Ed25519 (Debian 12's Mail::DKIM does not): each signature on its own."""
    raw = with_parseable_from((EXAMPLES / "01_ad_compliant_iso2022jp.eml").read_bytes())
    async with gateway(tmp_path, world["db"], edits=auth_config(world, dns_server)) as gw:
        t = await send(
            gw.port, "bounce@ogiya.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
        assert t.data is not None and t.data[0] == 250, t.data
        (path,) = (gw.maildir / "new").iterdir()
    relayed = path.read_bytes()
    opendkim.server.update({k: v for k, v in world["zone"].items() if "_domainkey" in k})
    fields = re.findall(rb"(?ms)^DKIM-Signature:.*?(?=^\S)", relayed)
    assert [re.search(rb"a=([\w-]+)", f).group(1) for f in fields] == [  # type: ignore[union-attr]
        b"ed25519-sha256",
        b"rsa-sha256",
    ]
    for field in fields:
        alone = relayed
        for other in fields:
            if other is not field:
                alone = alone.replace(other, b"", 1)
        assert await asyncio.to_thread(opendkim.verify, alone) == (0, ""), field[:60]
        code, error = await asyncio.to_thread(opendkim.verify, alone + b"P.S. 90% off\r\n")
        assert code != 0 and "Bad signature" in error
