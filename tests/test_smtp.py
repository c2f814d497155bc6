"""The SMTP server over real sockets, with real clients (smtplib, aiosmtplib, swaks).

``RelayingService`` stands in for ``gateway.service.Gateway`` (the service, not
the SMTP layer under test): it authenticates against a profile, denies relay
to unauthenticated untrusted peers, and relays through a real next hop.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import smtplib
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from gateway.config import Config, Listener, ServerConfig
from gateway.passwords import hash_password, verify_password
from gateway.profile import SenderProfile
from gateway.relay import NextHop, PermanentRelayError, TemporaryRelayError, open_next_hop
from gateway.replies import (
    S451_NEXT_HOP_DOWN,
    S550_RELAY_DENIED,
    S552_TOO_BIG,
    Reply,
)
from gateway.service import Session
from gateway.smtp import LOOPBACK, Network, Server, plaintext_auth_allowed, start_server
from tests.peers import Certificate, free_port, make_certificate, smtp_sink, swaks

USER, PASSWORD = "acme", "correct horse"
PROFILE = SenderProfile(name="acme", consignor="ACME", auth_users={USER: hash_password(PASSWORD)})
MESSAGE = b"From: news@acme.example.jp\r\nTo: r@example.com\r\nSubject: hi\r\n\r\nbody\r\n"


class RelayingService:
    """The service interface over a real next hop, recording what the SMTP layer handed it."""

    def __init__(self, config: Config, next_hop: NextHop) -> None:
        self.config = config
        self.next_hop = next_hop
        self.delivered: list[tuple[Session, str, list[str], bytes]] = []
        self.refusals: list[tuple[str, list[str], Reply]] = []
        self.fail_in_rcpt = False
        self.fail_in_data = False
        self.entered_data = asyncio.Event()
        self.release_data = asyncio.Event()
        self.release_data.set()

    def authenticate(self, user: str, password: str) -> SenderProfile | None:
        stored = PROFILE.auth_users.get(user)
        return PROFILE if stored and verify_password(stored, password) else None

    async def check_recipient(self, session: Session, mail_from: str, address: str) -> Reply | None:
        if self.fail_in_rcpt:
            raise RuntimeError("consent store is down: secret detail")
        trusted = any(
            ipaddress.ip_address(session.peer) in net for net in self.config.server.trusted_networks
        )
        return None if session.auth_user or trusted else S550_RELAY_DENIED

    async def deliver(
        self, session: Session, mail_from: str, rcpt_tos: list[str], data: bytes
    ) -> Reply:
        self.entered_data.set()
        await self.release_data.wait()
        if self.fail_in_data:
            raise RuntimeError("policy crashed: secret detail")
        self.delivered.append((session, mail_from, rcpt_tos, data))
        try:
            result = await self.next_hop.send(mail_from, rcpt_tos, data)
        except TemporaryRelayError:
            return S451_NEXT_HOP_DOWN
        except PermanentRelayError as exc:
            enhanced, _, text = exc.message.partition(" ")
            return Reply(exc.code or 554, enhanced, text)
        enhanced, _, text = result.message.partition(" ")
        return Reply(result.code, enhanced, text)

    def refused(self, session: Session, mail_from: str, rcpt_tos: list[str], reply: Reply) -> None:
        self.refusals.append((mail_from, rcpt_tos, reply))


def make_config(**server: Any) -> Config:
    server.setdefault("listen", (Listener("127.0.0.1", 0),))
    server.setdefault("hostname", "gw.example.jp")
    server.setdefault("trusted_networks", ())
    return replace(Config(source="test"), server=replace(ServerConfig(), **server))


@asynccontextmanager
async def gateway_server(
    hop_url: str, *, plaintext_auth_networks: Sequence[Network] = LOOPBACK, **server: Any
) -> AsyncIterator[tuple[Server, RelayingService]]:
    config = make_config(**server)
    next_hop = open_next_hop(hop_url, local_hostname="gw.example.jp", timeout=5)
    service = RelayingService(config, next_hop)
    smtp = await start_server(config, service, plaintext_auth_networks=plaintext_auth_networks)
    try:
        yield smtp, service
    finally:
        await smtp.close()
        await next_hop.close()


async def in_thread(fn: Callable[[], Any]) -> Any:
    """smtplib blocks; the server under test runs in this loop."""
    return await asyncio.to_thread(fn)


@pytest.fixture
def cert(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path)


@pytest.fixture
def maildir(tmp_path: Path) -> str:
    return f"maildir:{tmp_path / 'Maildir'}"


# --- EHLO and limits ---------------------------------------------------------


async def test_ehlo_names_the_configured_host_and_advertises_size(maildir: str) -> None:
    async with gateway_server(maildir, max_message_size=4096) as (server, _):
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=server.ports[0], local_hostname="client.test"
        )
        await client.connect()
        response = await client.ehlo()
        await client.quit()
    lines = response.message.splitlines()
    assert lines[0] == "gw.example.jp"
    assert "SIZE 4096" in lines


async def test_message_over_the_size_limit_gets_552_from_swaks(maildir: str) -> None:
    async with gateway_server(maildir, max_message_size=2000) as (server, service):
        port = str(server.ports[0])
        result = await swaks(
            "--server", f"127.0.0.1:{port}", "--from", "s@acme.example.jp",
            "--to", "r@example.com", "--auth", "PLAIN",
            "--auth-user", USER, "--auth-password", PASSWORD, "--body", ("x" * 70 + "\\n") * 50,
        )  # fmt: skip
    assert "552 5.3.4 Message size exceeds fixed maximum message size" in result.server_lines()
    assert service.delivered == []
    assert [(m, r, str(reply)) for m, r, reply in service.refusals] == [
        ("s@acme.example.jp", ["r@example.com"], str(S552_TOO_BIG))
    ]


async def test_declared_size_over_the_limit_is_refused_at_mail(maildir: str) -> None:
    async with gateway_server(maildir, max_message_size=2000) as (server, service):

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.login(USER, PASSWORD)
                client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE + b"x" * 3000)

        with pytest.raises(smtplib.SMTPSenderRefused) as err:
            await in_thread(send)
    assert (err.value.smtp_code, err.value.smtp_error) == (
        552,
        b"5.3.4 Message size exceeds fixed maximum message size",
    )
    assert service.delivered == []


async def test_recipients_beyond_the_limit_get_452_and_the_rest_are_delivered(
    maildir: str,
) -> None:
    rcpts = [f"r{i}@example.com" for i in range(5)]
    async with gateway_server(maildir, max_recipients=3) as (server, service):

        def send() -> dict[str, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.login(USER, PASSWORD)
                return client.sendmail("s@acme.example.jp", rcpts, MESSAGE)

        refused = await in_thread(send)
    assert refused == {r: (452, b"4.5.3 Too many recipients") for r in rcpts[3:]}
    assert [d[2] for d in service.delivered] == [rcpts[:3]]


async def test_idle_client_is_disconnected_after_the_timeout(maildir: str) -> None:
    async with gateway_server(maildir, timeout=0.3) as (server, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ports[0])
        greeting = await reader.readline()
        assert greeting.startswith(b"220 gw.example.jp ")
        rest = await asyncio.wait_for(reader.read(), timeout=10)  # EOF when the server hangs up
        writer.close()
    assert rest == b""


# --- AUTH --------------------------------------------------------------------


async def test_auth_plain_on_loopback_without_tls_sets_the_session_profile(
    maildir: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with gateway_server(maildir) as (server, service):

        def send() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.user, client.password = USER, PASSWORD
                client.ehlo("client.test")
                reply = client.auth("PLAIN", client.auth_plain)
                client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
                return reply

        reply = await in_thread(send)
    assert reply == (235, b"2.7.0 Authentication successful")
    [(session, mail_from, rcpts, data)] = service.delivered
    assert (session.auth_user, session.profile, session.tls) == (USER, PROFILE, False)
    assert (session.peer, session.helo) == ("127.0.0.1", "client.test")
    assert (mail_from, rcpts, data) == ("s@acme.example.jp", ["r@example.com"], MESSAGE)
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()]  # aiosmtpd's noise


async def test_auth_login_with_challenges(maildir: str) -> None:
    async with gateway_server(maildir) as (server, _):

        def login() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.user, client.password = USER, PASSWORD
                client.ehlo()
                return client.auth("LOGIN", client.auth_login, initial_response_ok=False)

        assert await in_thread(login) == (235, b"2.7.0 Authentication successful")


async def test_wrong_password_gets_535_and_no_relay(maildir: str) -> None:
    async with gateway_server(maildir) as (server, service):

        def attempt() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                try:
                    client.login(USER, "wrong")
                finally:
                    client.mail("s@acme.example.jp")
                    rcpt = client.rcpt("r@example.com")
            return rcpt

        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            await in_thread(attempt)
        assert await in_thread(unauthenticated_rcpt(server.ports[0])) == (
            550,
            b"5.7.1 Relay access denied",
        )
    assert (err.value.smtp_code, err.value.smtp_error) == (
        535,
        b"5.7.8 Authentication credentials invalid",
    )
    assert service.delivered == []


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_swaks_authenticates_and_relays_through_smtp_sink(mechanism: str) -> None:
    with smtp_sink() as sink:
        async with gateway_server(sink.url) as (server, _):
            good = await swaks(
                "--server", f"127.0.0.1:{server.ports[0]}", "--from", "s@acme.example.jp",
                "--to", "r@example.com", "--auth", mechanism,
                "--auth-user", USER, "--auth-password", PASSWORD,
            )  # fmt: skip
            bad = await swaks(
                "--server", f"127.0.0.1:{server.ports[0]}", "--from", "s@acme.example.jp",
                "--to", "r@example.com", "--auth", mechanism,
                "--auth-user", USER, "--auth-password", "nope",
            )  # fmt: skip
        delivered = sink.messages()
    assert good.returncode == 0, good.output
    assert "235 2.7.0 Authentication successful" in good.server_lines()
    assert "535 5.7.8 Authentication credentials invalid" in bad.server_lines()
    assert bad.returncode != 0
    assert len(delivered) == 1


def unauthenticated_rcpt(port: int) -> Callable[[], tuple[int, bytes]]:
    def rcpt() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("s@acme.example.jp")
            reply: tuple[int, bytes] = client.rcpt("r@example.com")
            return reply

    return rcpt


async def test_unauthenticated_untrusted_client_is_denied_relay(maildir: str) -> None:
    async with gateway_server(maildir) as (server, service):
        assert await in_thread(unauthenticated_rcpt(server.ports[0])) == (
            550,
            b"5.7.1 Relay access denied",
        )
    assert service.delivered == []


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.45.6.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # a dual-stack socket's view of an IPv4 loopback client
        ("10.0.0.1", False),
        ("192.0.2.10", False),
        ("::ffff:192.0.2.10", False),
        ("2001:db8::1", False),
        ("fe80::1%eth0", False),
        ("", False),
        ("not-an-ip", False),
    ],
)
def test_plaintext_auth_only_from_loopback(peer: str, allowed: bool) -> None:
    assert plaintext_auth_allowed(peer) is allowed


async def test_auth_over_plaintext_from_outside_the_exception_is_refused_538(
    maildir: str,
) -> None:
    """The peer is 127.0.0.1 but the exception list is empty, as for any non-loopback peer.

    Only loopback addresses exist in this test environment, so the socket path
    is exercised by emptying the exception list; which peers fall into the
    default list is covered by test_plaintext_auth_only_from_loopback.
    """
    async with gateway_server(maildir, plaintext_auth_networks=()) as (server, _):

        def attempt() -> tuple[bool, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.ehlo()
                advertised = client.has_extn("auth")
                plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
                return advertised, client.docmd("AUTH", f"PLAIN {plain}")

        advertised, reply = await in_thread(attempt)
    assert not advertised
    assert reply == (538, b"5.7.11 Encryption required for requested authentication mechanism")


async def test_starttls_then_auth(maildir: str, cert: Certificate) -> None:
    async with gateway_server(
        maildir, plaintext_auth_networks=(), tls_cert=cert.cert_file, tls_key=cert.key_file
    ) as (server, service):

        def send() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", server.ports[0]) as client:
                client.ehlo()
                assert client.has_extn("starttls")
                client.starttls(context=cert.client_context())
                client.ehlo()
                reply = client.login(USER, PASSWORD)
                client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
                return reply

        assert await in_thread(send) == (235, b"2.7.0 Authentication successful")
    [(session, *_)] = service.delivered
    assert (session.tls, session.auth_user) == (True, USER)


async def test_auth_over_ipv6_loopback_is_allowed_without_tls(maildir: str) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        free_port("::1")
    except OSError:
        pytest.skip("::1 not configured")
    async with gateway_server(maildir, listen=(Listener("::1", 0),)) as (server, _):

        def login() -> tuple[int, bytes]:
            with smtplib.SMTP("::1", server.ports[0]) as client:
                return client.login(USER, PASSWORD)

        assert await in_thread(login) == (235, b"2.7.0 Authentication successful")


# --- RCPT and DATA through the service ---------------------------------------


async def test_250_only_after_the_next_hop_accepted() -> None:
    with smtp_sink() as sink:
        async with gateway_server(sink.url) as (server, _):
            client = aiosmtplib.SMTP(
                hostname="127.0.0.1", port=server.ports[0], local_hostname="c.test"
            )
            await client.connect()
            await client.login(USER, PASSWORD)
            errors, reply = await client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
            await client.quit()
        dumped = sink.messages()
    assert errors == {}
    assert reply == "2.0.0 Ok"  # smtp-sink's own words, passed back
    assert len(dumped) == 1


async def test_next_hop_refusal_after_data_is_passed_back() -> None:
    with smtp_sink("-f", ".") as sink:
        async with gateway_server(sink.url) as (server, _):
            client = aiosmtplib.SMTP(
                hostname="127.0.0.1", port=server.ports[0], local_hostname="c.test"
            )
            await client.connect()
            await client.login(USER, PASSWORD)
            with pytest.raises(aiosmtplib.SMTPDataError) as err:
                await client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
            await client.quit()
    assert err.value.code >= 500
    assert "5.3.0" in err.value.message


async def test_next_hop_down_is_451_so_the_client_keeps_the_message() -> None:
    async with gateway_server(f"smtp://127.0.0.1:{free_port()}") as (server, _):
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=server.ports[0], local_hostname="c.test"
        )
        await client.connect()
        await client.login(USER, PASSWORD)
        with pytest.raises(aiosmtplib.SMTPDataError) as err:
            await client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
        await client.quit()
    assert (err.value.code, err.value.message) == (
        451,
        f"{S451_NEXT_HOP_DOWN.enhanced} {S451_NEXT_HOP_DOWN.text}",
    )


@pytest.mark.parametrize("where", ["rcpt", "data"])
async def test_service_crash_is_451_without_the_exception_text(maildir: str, where: str) -> None:
    async with gateway_server(maildir) as (server, service):
        setattr(service, f"fail_in_{where}", True)
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=server.ports[0], local_hostname="c.test"
        )
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.mail("s@acme.example.jp")
        with pytest.raises(aiosmtplib.SMTPResponseException) as err:
            await client.rcpt("r@example.com")
            await client.data(MESSAGE)
        setattr(service, f"fail_in_{where}", False)
        await client.rset()
        _, reply = await client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
        await client.quit()
    assert (err.value.code, err.value.message) == (
        451,
        "4.3.0 Temporary failure while checking the message, try again later",
    )
    assert "secret" not in err.value.message
    assert reply.startswith("2.0.0 delivered to maildir")  # the session goes on


async def test_smtp_smuggling_bare_lf_dot_does_not_end_data(maildir: str) -> None:
    """A bare-LF ``<LF>.<LF>`` must not end DATA and start a smuggled transaction."""
    smuggled = (
        b"Subject: first\r\n\r\nhello\n.\nMAIL FROM:<evil@example.net>\r\n"
        b"RCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"
    )
    async with gateway_server(maildir) as (server, service):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.ports[0])
        await reader.readline()
        plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
        commands = [b"EHLO c.test", b"AUTH PLAIN " + plain, b"MAIL FROM:<s@acme.example.jp>",
                    b"RCPT TO:<r@example.com>", b"DATA"]  # fmt: skip
        for command in commands:
            writer.write(command + b"\r\n")
            while (await reader.readline())[3:4] == b"-":
                pass  # read to the last line of a multi-line reply
        writer.write(smuggled + b".\r\n")
        final = await reader.readline()
        writer.write(b"QUIT\r\n")
        await reader.readline()
        writer.close()
    assert final.startswith(b"250 ")
    [(_, mail_from, rcpts, data)] = service.delivered
    assert (mail_from, rcpts) == ("s@acme.example.jp", ["r@example.com"])
    assert b"evil@example.net" in data  # carried as text of the one message


# --- server lifecycle ----------------------------------------------------------


async def test_listens_on_every_configured_address(maildir: str) -> None:
    listen = (Listener("127.0.0.1", 0), Listener("127.0.0.2", 0))
    async with gateway_server(maildir, listen=listen) as (server, _):
        hosts = sorted(sock.getsockname()[0] for sock in server.sockets)
        for sock in server.sockets:
            host, port = sock.getsockname()[:2]
            client = aiosmtplib.SMTP(hostname=host, port=port, local_hostname="c.test")
            await client.connect()
            await client.quit()
        shown, ports = server.addresses, set(server.ports)  # what `tokuden serve` prints
    assert hosts == ["127.0.0.1", "127.0.0.2"]
    assert sorted(a.rsplit(":", 1)[0] for a in shown) == hosts
    assert {int(a.rsplit(":", 1)[1]) for a in shown} == ports


async def test_close_waits_for_the_message_in_flight(maildir: str) -> None:
    config = make_config()
    next_hop = open_next_hop(maildir, local_hostname="gw.example.jp", timeout=5)
    service = RelayingService(config, next_hop)
    service.release_data.clear()
    server = await start_server(config, service)
    port = server.ports[0]
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="c.test")
    await client.connect()
    await client.login(USER, PASSWORD)
    sending = asyncio.create_task(client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE))
    await service.entered_data.wait()
    closing = asyncio.create_task(server.close())
    await asyncio.sleep(0)  # one loop step: close() runs up to its wait for the message
    assert not any(s.is_serving() for s in server.servers)
    with pytest.raises(OSError):  # no longer accepting
        await asyncio.open_connection("127.0.0.1", port)
    assert not closing.done()
    service.release_data.set()
    errors, reply = await sending
    await closing
    await next_hop.close()
    assert errors == {}
    assert reply.startswith("2.0.0 delivered to maildir")


async def test_a_message_that_takes_longer_than_the_idle_timeout_still_gets_its_reply(
    maildir: str,
) -> None:
    # The idle timeout is for a silent client; a client waiting for our reply to DATA is not
    # idle (RFC 5321 §4.5.3.2.6 has it wait 10 minutes). Here checking and relaying take
    # three times server.timeout.
    async with gateway_server(maildir, timeout=0.3, trusted_networks=LOOPBACK) as (server, svc):
        svc.release_data.clear()
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=server.ports[0], local_hostname="c.test"
        )
        await client.connect()
        sending = asyncio.create_task(
            client.sendmail("s@acme.example.jp", ["r@example.com"], MESSAGE)
        )
        await svc.entered_data.wait()
        await asyncio.sleep(0.9)  # the slow check itself: time passing is what is tested
        svc.release_data.set()
        errors, reply = await sending
        await client.quit()
    assert errors == {}
    assert reply.startswith("2.0.0 delivered to maildir")
