"""The independent DKIM verifiers the tests run, and the loopback DNS they read keys from.

Perl's Mail::DKIM (tests/maildkim_verify.pl; Debian 12's version knows no Ed25519) and
OpenDKIM's ``opendkim-testmsg`` (both algorithms), installed by tests/install-peers.sh.
Loaded as a pytest plugin by tests/conftest.py, so the fixtures are everywhere.
"""

from __future__ import annotations

import email
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.utils import formataddr
from pathlib import Path

import pytest

from gateway.dnsserver import ZoneServer
from tests.cases import tokuden

PERL_VERIFIER = Path(__file__).with_name("maildkim_verify.pl")


def keygen(out: Path, domain: str, selector: str, kind: str = "rsa") -> tuple[Path, str]:
    """A key made as an operator makes it (``tokuden dkim keygen``), and its record's TXT value."""
    done = tokuden(
        "dkim",
        "keygen",
        "--domain",
        domain,
        "--selector",
        selector,
        "--type",
        kind,
        "--out",
        str(out),
    )
    return out / f"{domain}.{selector}.{kind}.pem", "".join(re.findall(r'"([^"]*)"', done.stdout))


def _perl_has(module: str) -> bool:
    probe = subprocess.run(["perl", f"-M{module}", "-e", "1"], capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def mail_dkim_ed25519() -> bool:
    """Mail::DKIM is there; True if it knows Ed25519 (Debian 12's 1.20230212 does not)."""
    if shutil.which("perl") is None or not _perl_has("Mail::DKIM::Verifier"):
        pytest.fail("Perl's Mail::DKIM is missing: run tests/install-peers.sh")
    return _perl_has("Mail::DKIM::Algorithm::ed25519_sha256")


def key_zone(records: dict[str, str]) -> dict[str, list[object]]:
    """DKIM key records (name -> TXT value) as zone data for `ZoneServer`."""
    return {name: [{"TXT": value}] for name, value in records.items()}


@pytest.fixture
def loopback_dns() -> Iterator[Callable[..., ZoneServer]]:
    """Starts DNS servers on loopback serving key records; all closed after the test."""
    servers: list[ZoneServer] = []

    def start(records: dict[str, str], host: str = "127.0.0.1", port: int = 0) -> ZoneServer:
        server = ZoneServer(key_zone(records), host, port, ttl=300)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def maildkim(signed: bytes, port: int) -> list[list[str]]:
    done = subprocess.run(
        ["perl", str(PERL_VERIFIER), str(port)],
        input=signed,
        capture_output=True,
        timeout=30,
        check=True,
    )
    return [line.split(" ", 4) for line in done.stdout.decode().splitlines()]


def expected_maildkim(algorithm: str, knows_ed25519: bool) -> list[str]:
    if algorithm == "ed25519-sha256" and not knows_ed25519:
        return ["invalid", algorithm, "invalid (unsupported algorithm ed25519-sha256)"]
    return ["pass", algorithm, "pass"]


@pytest.fixture
def opendkim(tmp_path: Path, loopback_dns: Callable[..., ZoneServer]) -> OpenDkim:
    """OpenDKIM's verifier (opendkim-testmsg), its resolver pointed at a loopback DNS server.

    libopendkim reads /etc/resolv.conf and asks port 53, so the test runs it in a
    private mount namespace (unshare, root only) where /etc/resolv.conf names a
    server on a 127/8 address of its own.
    """
    if shutil.which("opendkim-testmsg", path="/usr/sbin:/usr/bin") is None:
        pytest.fail("opendkim-testmsg is missing: run tests/install-peers.sh")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("OpenDKIM's check needs root (a private /etc/resolv.conf via unshare -m)")
    for _ in range(20):
        host = f"127.83.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
        try:
            server = loopback_dns({}, host, 53)
            break
        except OSError:
            continue
    else:
        pytest.fail("no free 127.83.x.y:53 for the loopback DNS server")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {host}\noptions timeout:2 attempts:1\n")
    return OpenDkim(server, resolv)


@dataclass
class OpenDkim:
    server: ZoneServer
    resolv: Path

    def verify(self, signed: bytes) -> tuple[int, str]:
        script = f"mount --bind {self.resolv} /etc/resolv.conf && exec opendkim-testmsg"
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", script],
            input=signed,
            capture_output=True,
            timeout=30,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        return done.returncode, done.stderr.decode().strip()


def with_parseable_from(raw: bytes) -> bytes:
    """``raw`` with its From written as ``=?utf-8?b?NAME?= <ADDR>``.

    The example mails encode the whole From, address included, as one
    encoded-word (a common Japanese mailer habit); libopendkim cannot find
    the author address in that and answers "Syntax error" before it looks at
    any signature, so OpenDKIM gets the same mails with the From spelt out.
    """
    message = email.message_from_bytes(raw, policy=policy.default)
    decoded = str(message["From"]).strip().strip('"')
    match = re.fullmatch(r"\s*(.*?)\s*<([^<>]+)>\s*", decoded)
    assert match, decoded
    spelt = formataddr((match.group(1), match.group(2)), charset="utf-8")
    return re.sub(rb"(?m)^From:[^\r\n]*", b"From: " + spelt.encode(), raw, count=1)
