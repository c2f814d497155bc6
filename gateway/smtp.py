"""The SMTP server clients talk to: aiosmtpd, with tokuden's session, limits and replies.

Protocol work (EHLO, STARTTLS, AUTH PLAIN/LOGIN) stays aiosmtpd's; DATA is
read in chunks by ``gateway.datareader`` with aiosmtpd's rules (dot-unstuffing,
SMTP-smuggling protection, size and line limits). This module decides what
each command answers by asking the service (``gateway.service.Gateway``), and
answers only with named replies from ``gateway.replies``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, AnyStr, Protocol

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, syntax
from aiosmtpd.smtp import Session as AioSession

from gateway.config import Config
from gateway.datareader import ChunkedDataSMTP
from gateway.profile import SenderProfile
from gateway.replies import (
    S235_AUTH_OK,
    S250_RCPT_OK,
    S250_SENDER_OK,
    S421_SHUTTING_DOWN,
    S451_CHECK_FAILED,
    S452_TOO_MANY_RCPTS,
    S535_AUTH_FAILED,
    S552_TOO_BIG,
    Reply,
)
from gateway.service import Session

log = logging.getLogger(__name__)

REPLY_WAIT = 600.0
"""Seconds a client waits for our reply while we check and relay (RFC 5321 §4.5.3.2.6)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)

# aiosmtpd spells these replies itself; we answer with the named ones instead.
_AIOSMTPD_REPLIES = {
    "552 Error: Too much mail data": S552_TOO_BIG,
    "552 Error: message size exceeds fixed maximum message size": S552_TOO_BIG,
}


class Service(Protocol):
    """What the SMTP layer needs of ``gateway.service.Gateway``."""

    config: Config

    def authenticate(self, user: str, password: str) -> SenderProfile | None: ...

    async def check_recipient(
        self, session: Session, mail_from: str, address: str
    ) -> Reply | None: ...

    async def deliver(
        self, session: Session, mail_from: str, rcpt_tos: list[str], data: bytes
    ) -> Reply: ...

    def refused(self, session: Session, mail_from: str, rcpt_tos: list[str], reply: Reply) -> None:
        """A message refused by the protocol layer (too big): logged like any other."""
        ...


def plaintext_auth_allowed(peer: str, networks: Iterable[Network] = LOOPBACK) -> bool:
    """AUTH without TLS only from ``networks``: on loopback nobody can listen in.

    An IPv4-mapped IPv6 peer (``::ffff:127.0.0.1``, what a dual-stack socket
    reports) is judged by its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(peer.partition("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


class Server:
    """The listening sockets; :meth:`close` lets messages in flight finish first."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.closing = False
        self._connections: set[_Connection] = set()
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def sockets(self) -> list[socket.socket]:
        return [sock for server in self.servers for sock in server.sockets]

    @property
    def ports(self) -> list[int]:
        return [int(sock.getsockname()[1]) for sock in self.sockets]

    @property
    def addresses(self) -> list[str]:
        """host:port (``[host]:port`` for IPv6) of every listening socket, as bound."""
        names = []
        for sock in self.sockets:
            host, port = sock.getsockname()[:2]
            names.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        return list(dict.fromkeys(names))

    async def close(self) -> None:
        """Stop accepting, wait for DATA in progress to be answered, then say 421 and hang up."""
        self.closing = True
        for server in self.servers:
            server.close()
        await self._drained.wait()
        for connection in list(self._connections):
            connection.hang_up()
        for server in self.servers:
            await server.wait_closed()

    def _begin_message(self) -> None:
        self._in_flight += 1
        self._drained.clear()

    def _end_message(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._drained.set()


async def start_server(
    config: Config,
    gateway: Service,
    *,
    plaintext_auth_networks: Sequence[Network] = LOOPBACK,
    reuse_port: bool = False,
) -> Server:
    """Listen on every ``config.server.listen`` address.

    ``plaintext_auth_networks`` are the peers that may AUTH without STARTTLS
    (loopback by default: an MTA on the same host). ``reuse_port`` sets
    SO_REUSEPORT, so that the workers of ``tokuden serve --workers N`` each bind
    the same addresses and the kernel spreads the connections among them.
    """
    server = Server()
    handler = _Handler(gateway, server)
    tls = _tls_context(config)
    loop = asyncio.get_running_loop()

    def connection() -> _Connection:
        return _Connection(
            handler,
            server,
            plaintext_auth_networks,
            data_size_limit=config.server.max_message_size,
            hostname=config.server.hostname,
            ident="ESMTP tokuden",
            tls_context=tls,
            timeout=config.server.timeout,
            authenticator=handler.authenticate,
        )

    try:
        for listener in config.server.listen:
            server.servers.append(
                await loop.create_server(
                    connection, listener.host, listener.port, reuse_port=reuse_port
                )
            )
    except BaseException:
        await server.close()
        raise
    return server


def _tls_context(config: Config) -> ssl.SSLContext | None:
    cert, key = config.server.tls_cert, config.server.tls_key
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class _Connection(ChunkedDataSMTP):
    """One client connection: aiosmtpd's protocol plus tokuden's :class:`Session`."""

    def __init__(
        self,
        handler: _Handler,
        server: Server,
        plaintext_auth_networks: Sequence[Network],
        **options: Any,
    ) -> None:
        super().__init__(handler, **options)
        self.handler = handler
        self.server = server
        self.plaintext_auth_networks = plaintext_auth_networks
        self.tk_session = Session(peer="")

    def _create_session(self) -> AioSession:
        return _QuietSession(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called again after STARTTLS: a fresh Session, as RFC 3207 §4.2 forgets AUTH."""
        super().connection_made(transport)
        assert self.session is not None
        peer = self.session.peer
        host = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        self.tk_session = Session(peer=host, tls=self.session.ssl is not None)
        # aiosmtpd decides per server; we decide per peer, before EHLO advertises AUTH.
        self._auth_require_tls = not plaintext_auth_allowed(host, self.plaintext_auth_networks)
        self.server._connections.add(self)

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """While the gateway works on a command, the client is waiting for our reply.

        aiosmtpd's idle timeout runs from the start of each command; a message
        whose checks and relay take longer than ``server.timeout`` would lose
        its connection with no reply. RFC 5321 §4.5.3.2.6 has a client wait 10
        minutes for the reply to DATA: that is our bound while we work.
        """
        self._reset_timeout(REPLY_WAIT)
        try:
            yield
        finally:
            if self.transport is not None and not self.transport.is_closing():
                self._reset_timeout()

    def connection_lost(self, error: Exception | None) -> None:
        self.server._connections.discard(self)
        super().connection_lost(error)

    async def push(self, status: AnyStr) -> None:
        named = _AIOSMTPD_REPLIES.get(status) if isinstance(status, str) else None
        if named is not None:
            envelope = self.envelope
            mail_from = envelope.mail_from or "" if envelope else ""
            rcpts = list(envelope.rcpt_tos) if envelope else []
            self.handler.gateway.refused(self.tk_session, mail_from, rcpts, named)
        await super().push(str(named) if named else status)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """Counted as in flight from DATA until its reply is written, for a graceful close."""
        self.server._begin_message()
        try:
            await super().smtp_DATA(arg)
        finally:
            self.server._end_message()

    def hang_up(self) -> None:
        if isinstance(self.transport, asyncio.WriteTransport) and not self.transport.is_closing():
            self.transport.write(f"{S421_SHUTTING_DOWN}\r\n".encode())
            self.transport.close()


class _QuietSession(AioSession):
    """aiosmtpd 1.4's own AUTH sets the deprecated ``login_data`` and logs a warning about
    it for every login; we read ``auth_data`` (the user), so the legacy copy is dropped."""

    @property
    def login_data(self) -> Any:
        return None

    @login_data.setter
    def login_data(self, value: Any) -> None:
        pass


class _Handler:
    """aiosmtpd hooks: each asks the service and answers with a named reply."""

    def __init__(self, gateway: Service, server: Server) -> None:
        self.gateway = gateway
        self.server = server
        self.max_recipients = gateway.config.server.max_recipients

    def authenticate(
        self,
        connection: _Connection,
        session: AioSession,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        failed = AuthResult(success=False, handled=False, message=str(S535_AUTH_FAILED))
        if not isinstance(auth_data, LoginPassword):
            return failed
        try:
            user, password = auth_data.login.decode(), auth_data.password.decode()
        except UnicodeDecodeError:
            return failed
        profile = self.gateway.authenticate(user, password)
        if profile is None:
            log.info("%s AUTH %s failed for %r", connection.tk_session.peer, mechanism, user)
            return failed
        connection.tk_session.auth_user = user
        connection.tk_session.profile = profile
        return AuthResult(success=True, auth_data=user, message=str(S235_AUTH_OK))

    async def handle_MAIL(
        self,
        connection: _Connection,
        session: AioSession,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if self.server.closing:
            return str(S421_SHUTTING_DOWN)
        connection.tk_session.helo = session.host_name or ""
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return str(S250_SENDER_OK)

    async def handle_RCPT(
        self,
        connection: _Connection,
        session: AioSession,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return str(S452_TOO_MANY_RCPTS)
        assert envelope.mail_from is not None  # aiosmtpd answers 503 to RCPT before MAIL
        try:
            with connection.answering():
                reply = await self.gateway.check_recipient(
                    connection.tk_session, envelope.mail_from, address
                )
        except Exception:
            log.exception("%s RCPT check failed", connection.tk_session.peer)
            return str(S451_CHECK_FAILED)
        if reply is not None:
            return str(reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return str(S250_RCPT_OK)

    async def handle_DATA(
        self, connection: _Connection, session: AioSession, envelope: Envelope
    ) -> str:
        assert envelope.mail_from is not None
        assert isinstance(envelope.original_content, bytes)
        try:
            with connection.answering():
                reply = await self.gateway.deliver(
                    connection.tk_session,
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                )
        except Exception:
            log.exception("%s delivery failed", connection.tk_session.peer)
            return str(S451_CHECK_FAILED)
        return str(reply)

    async def handle_exception(self, error: Exception) -> str:
        """Anything else that breaks mid-command: 451, never a 500 quoting the exception."""
        log.error("SMTP session error", exc_info=error)
        return str(S451_CHECK_FAILED)
