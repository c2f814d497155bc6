"""The next hop: where a checked message goes, over SMTP (pooled) or into a Maildir.

The gateway answers 250 only after the next hop accepted, so every failure is
typed: :class:`TemporaryRelayError` (the client retries the whole message, and
nothing was delivered, so no duplicates) or :class:`PermanentRelayError` (the
hop's own 5xx, passed back).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiosmtplib
from aiosmtplib import protocol as aiosmtp_protocol

# A pooled connection idle longer than this is probed with NOOP before reuse.
STALE_AFTER = 10.0
POOL_SIZE = 8


class RelayError(Exception):
    """The next hop did not take the message; ``code`` is None when it never answered."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"{code} {message}" if code else message)
        self.code = code
        self.message = message


class TemporaryRelayError(RelayError):
    """Nothing was delivered; the client should retry the whole message."""


class PermanentRelayError(RelayError):
    """The hop refused the message (or every recipient) with a 5xx."""


@dataclass(frozen=True)
class RelayResult:
    """The hop's final reply, and the recipients it refused with 5xx while taking the rest."""

    code: int
    message: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class NextHop(Protocol):
    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> RelayResult: ...

    async def close(self) -> None: ...


DATA_CHUNK = 256 * 1024


async def _data(smtp: aiosmtplib.SMTP, message: bytes, wait: float) -> aiosmtplib.SMTPResponse:
    """aiosmtplib's ``SMTP.data``, the same bytes on the wire, without its copies of the mail.

    aiosmtplib rewrites every line ending (a copy, even when all are CRLF
    already), dot-stuffs (maybe another) and appends the final dot (another),
    then hands the whole to the transport, which copies what the socket does
    not take at once: four copies of a 25 MB mail, and a regex pass over each
    line of every mail. Here its own rewrites run only when they would change
    something, and the mail goes out in chunks as the socket takes them.
    """
    lines = message.count(b"\n")
    if (
        lines != message.count(b"\r\n")
        or message.count(b"\r") != lines
        or not message.endswith(b"\r\n")
    ):
        message = aiosmtp_protocol.normalize_message_line_endings(message)
    if message.startswith(b".") or b"\n." in message:
        message = aiosmtp_protocol.PERIOD_REGEX.sub(b"..", message)
    response = await smtp.execute_command(b"DATA", timeout=wait)
    if response.code != aiosmtplib.SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    protocol = smtp.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    protocol._response_pending = True  # as aiosmtplib marks it: the reply may come early
    for start in range(0, len(message), DATA_CHUNK):
        protocol.write(message[start : start + DATA_CHUNK])
        await protocol._drain_helper()  # the transport's flow control: wait while it is full
    protocol.write(b".\r\n")
    try:
        response = await protocol.read_response(timeout=wait)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        smtp.close()
        raise
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return response


def open_next_hop(url: str, *, local_hostname: str, timeout: float) -> NextHop:
    """Build the hop a ``RelayConfig.next_hop`` names: ``smtp://host:port`` or ``maildir:PATH``."""
    if url.startswith("maildir:"):
        return MaildirNextHop(Path(url[len("maildir:") :]), local_hostname=local_hostname)
    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname or parts.port is None:
        raise ValueError(f"{url!r}: use smtp://host:port or maildir:PATH")
    return SmtpNextHop(parts.hostname, parts.port, local_hostname=local_hostname, timeout=timeout)


@dataclass
class _Connection:
    smtp: aiosmtplib.SMTP
    idle_since: float = 0.0
    reused: bool = False


class SmtpNextHop:
    """SMTP client with a pool of persistent connections (see DESIGN.md "What is fast here")."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        local_hostname: str,
        timeout: float,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.host = host
        self.port = port
        self.local_hostname = local_hostname
        self.timeout = timeout
        self.pool_size = pool_size
        self._idle: list[_Connection] = []

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> RelayResult:
        conn = await self._checkout()
        try:
            try:
                result = await self._transaction(conn, mail_from, rcpt_tos, data)
            except _StaleConnection:
                conn.smtp.close()
                conn = await self._connect()
                result = await self._transaction(conn, mail_from, rcpt_tos, data)
        except RelayError:
            self._checkin(conn)
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            conn.smtp.close()
            raise _temporary(exc) from exc
        except BaseException:
            conn.smtp.close()
            raise
        self._checkin(conn)
        return result

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await conn.smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                conn.smtp.close()

    async def _transaction(
        self, conn: _Connection, mail_from: str, rcpt_tos: Sequence[str], data: bytes
    ) -> RelayResult:
        smtp = conn.smtp
        options = []
        if smtp.supports_extension("size"):
            options.append(f"SIZE={len(data)}")
        if not data.isascii() and smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            await smtp.mail(mail_from, options=options)
        except aiosmtplib.SMTPServerDisconnected as exc:
            if conn.reused:
                # The hop closed a pooled connection before answering MAIL:
                # nothing was sent, so a fresh connection may try again.
                raise _StaleConnection from exc
            raise
        except aiosmtplib.SMTPSenderRefused as exc:
            raise _refusal(exc.code, exc.message) from exc
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in rcpt_tos:
            try:
                await smtp.rcpt(rcpt)
            except aiosmtplib.SMTPRecipientRefused as exc:
                if exc.code < 500:
                    await _reset(smtp)
                    raise TemporaryRelayError(exc.code, f"<{rcpt}>: {exc.message}") from exc
                refused[rcpt] = (exc.code, exc.message)
        if len(refused) == len(rcpt_tos):
            await _reset(smtp)
            code, message = next(iter(refused.values()))
            raise PermanentRelayError(code, message)
        try:
            response = await _data(smtp, data, self.timeout)
        except aiosmtplib.SMTPDataError as exc:
            raise _refusal(exc.code, exc.message) from exc
        return RelayResult(response.code, response.message, refused)

    async def _checkout(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.smtp.is_connected:
                continue
            if time.monotonic() - conn.idle_since < STALE_AFTER:
                return conn
            try:
                await conn.smtp.noop()
            except (aiosmtplib.SMTPException, OSError):
                conn.smtp.close()
                continue
            return conn
        return await self._connect()

    async def _connect(self) -> _Connection:
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            local_hostname=self.local_hostname,
            timeout=self.timeout,
            start_tls=None,  # STARTTLS when the hop offers it
            validate_certs=False,
        )
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise _temporary(exc) from exc
        return _Connection(smtp)

    def _checkin(self, conn: _Connection) -> None:
        if conn.smtp.is_connected and len(self._idle) < self.pool_size:
            conn.idle_since = time.monotonic()
            conn.reused = True
            self._idle.append(conn)
        else:
            conn.smtp.close()


class _StaleConnection(Exception):
    """A pooled connection turned out dead before the transaction began."""


async def _reset(smtp: aiosmtplib.SMTP) -> None:
    """RSET after a refused transaction; a hop that cannot even do that is dropped."""
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _refusal(code: int, message: str) -> RelayError:
    kind = TemporaryRelayError if code < 500 else PermanentRelayError
    return kind(code, message)


def _temporary(exc: BaseException) -> TemporaryRelayError:
    code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
    message = exc.message if isinstance(exc, aiosmtplib.SMTPResponseException) else str(exc)
    return TemporaryRelayError(code, message or type(exc).__name__)


class MaildirNextHop:
    """The embedded default: one file per recipient in a Maildir (cr.yp.to/proto/maildir.html)."""

    def __init__(self, path: Path, *, local_hostname: str) -> None:
        self.path = path
        # The spec's escaping of "/" and ":" keeps a host name usable in a file name.
        self._host = local_hostname.replace("/", r"\057").replace(":", r"\072")
        self._counter = itertools.count(1)

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> RelayResult:
        try:
            names = await asyncio.to_thread(self._deliver, mail_from, rcpt_tos, data)
        except OSError as exc:
            raise TemporaryRelayError(None, f"maildir {self.path}: {exc}") from exc
        # The client sees this reply: no local path, and one line however many recipients.
        copies = f"{len(names)} cop{'y' if len(names) == 1 else 'ies'}"
        return RelayResult(250, f"2.0.0 delivered to maildir ({copies}), queued as {names[0]}")

    async def close(self) -> None:
        """Nothing is held open between messages."""

    def _deliver(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> list[str]:
        """Write every copy into tmp/ first, so a failure delivers none of them."""
        tmp, new = self.path / "tmp", self.path / "new"
        for sub in (tmp, new, self.path / "cur"):
            sub.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        try:
            for rcpt in rcpt_tos:
                name = self._unique_name()
                head = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
                fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                written.append(name)
                with os.fdopen(fd, "wb") as f:
                    f.write(head)
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError:
            for name in written:
                (tmp / name).unlink(missing_ok=True)
            raise
        for name in written:
            os.rename(tmp / name, new / name)
        _fsync_dir(new)
        return written

    def _unique_name(self) -> str:
        now = time.time()
        sec, usec = int(now), int(now % 1 * 1_000_000)
        return f"{sec}.M{usec}P{os.getpid()}Q{next(self._counter)}.{self._host}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
