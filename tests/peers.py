"""Real SMTP peers for tests: Postfix's smtp-sink, an in-process aiosmtpd sink, and swaks.

Import them from any test: ``from tests.peers import smtp_sink, RecordingSink, swaks``.
Everything listens on loopback only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, Envelope, Session

SMTP_SINK = "/usr/sbin/smtp-sink"
SWAKS = "/usr/bin/swaks"
LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel just handed out on ``host``, for peers that cannot take a bound socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    """True when some socket listens on ``port`` (read from /proc, so no test session is opened)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


@dataclass
class SinkProcess:
    """A running smtp-sink: where it listens and what it accepted (one dump file per message)."""

    host: str
    port: int
    dump_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def messages(self) -> list[bytes]:
        """Every message whose content smtp-sink read, oldest first (``-f .`` still dumps it).

        smtp-sink opens the file at MAIL, so a transaction that never reached
        DATA leaves an empty file; that is not a message.
        """
        files = sorted(self.dump_dir.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        return [data for data in (p.read_bytes() for p in files) if data]


@contextmanager
def smtp_sink(*flags: str, host: str = LOOPBACK, timeout: float = 10.0) -> Iterator[SinkProcess]:
    """Run ``smtp-sink FLAGS host:port`` until it listens; MANIFEST.md §5 lists the fault flags.

    ``-r CMD`` answers CMD with 4xx, ``-f CMD`` with 5xx, ``-Q CMD`` with 421 and a close.
    """
    dump_dir = Path(tempfile.mkdtemp(prefix="smtp-sink-"))
    dump_dir.chmod(0o777)  # smtp-sink writes as the unprivileged -u user
    port = free_port(host)
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cmd = [SMTP_SINK, *user, "-d", f"{dump_dir}/msg.", *flags, address, "100"]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not is_listening(port):
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"smtp-sink exited {process.returncode}: {err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"smtp-sink did not listen on {address}")
            time.sleep(0.005)  # polling the listen table, not synchronising on time
        yield SinkProcess(host, port, dump_dir, process)
    finally:
        process.terminate()
        process.wait()
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(dump_dir, ignore_errors=True)


@dataclass
class Received:
    """One transaction an aiosmtpd sink completed."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    helo: str
    tls: bool
    connection: int


@dataclass
class RecordingSink:
    """An aiosmtpd next hop that records envelopes and connections, with scripted refusals.

    A recipient whose local part starts with ``defer`` gets 450, with ``reject`` 550;
    ``data_reply`` (e.g. ``"554 5.6.0 no thanks"``) refuses the message after DATA.
    """

    received: list[Received] = field(default_factory=list)
    connections: int = 0
    data_reply: str | None = None
    _protocols: list[SMTP] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.partition("@")[0].lower()
        if local.startswith("defer"):
            return "450 4.2.1 Mailbox busy, try later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert isinstance(envelope.original_content, bytes)
        self.received.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                helo=session.host_name or "",
                tls=session.ssl is not None,
                connection=self._protocols.index(server) + 1,
            )
        )
        return f"250 2.0.0 Queued as sink-{len(self.received)}"

    def drop_connections(self) -> None:
        """Close every client connection from the server side, as a hop's idle timeout does."""
        for protocol in self._protocols:
            if protocol.transport is not None:
                protocol.transport.close()

    def _protocol(self, tls: ssl.SSLContext | None) -> SMTP:
        self.connections += 1
        protocol = SMTP(self, hostname="sink.test", tls_context=tls)
        self._protocols.append(protocol)
        return protocol


@asynccontextmanager
async def recording_sink(
    host: str = LOOPBACK, tls: ssl.SSLContext | None = None, **options: Any
) -> AsyncIterator[tuple[RecordingSink, str]]:
    """Serve a :class:`RecordingSink` in this event loop; yields it and its ``smtp://`` URL."""
    sink = RecordingSink(**options)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: sink._protocol(tls), host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield sink, f"smtp://{host}:{port}"
    finally:
        server.close()
        sink.drop_connections()
        await server.wait_closed()


@dataclass
class HeldSink:
    """A next hop that holds every message at the end of DATA until the test releases it:
    a message stays in flight as long as the test needs (a graceful stop, a reload)."""

    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.original_content, bytes)
        self.reached.set()
        await self.release.wait()
        self.received.append(envelope.original_content)
        return f"250 2.0.0 Queued as held-{len(self.received)}"


@asynccontextmanager
async def held_sink(host: str = LOOPBACK) -> AsyncIterator[tuple[HeldSink, str]]:
    """Serve a :class:`HeldSink` in this event loop; yields it and its ``smtp://`` URL."""
    sink = HeldSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="held.test"), host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield sink, f"smtp://{host}:{port}"
    finally:
        sink.release.set()
        server.close()
        await server.wait_closed()


@dataclass(frozen=True)
class SwaksResult:
    returncode: int
    output: str

    def server_lines(self) -> list[str]:
        """The server's replies as swaks shows them (``<-`` good, ``<**`` error), prefix removed."""
        return [
            line[4:]
            for line in self.output.splitlines()
            if line.startswith(("<-  ", "<** ", "<~  ", "<~* "))
        ]


async def swaks(*args: str) -> SwaksResult:
    """Run swaks without blocking the loop that serves the server under test."""
    process = await asyncio.create_subprocess_exec(
        SWAKS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return SwaksResult(process.returncode, out.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Certificate:
    """A trustme CA and a server certificate for 127.0.0.1/localhost, written to ``directory``."""

    cert_file: Path
    key_file: Path
    ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_certificate(directory: Path) -> Certificate:
    """Made at test time, none checked in (STYLE.md, after aiosmtpd)."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", LOOPBACK, "::1")
    paths = Certificate(directory / "server.pem", directory / "server.key", directory / "ca.pem")
    paths.cert_file.write_bytes(b"".join(pem.bytes() for pem in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(paths.key_file))
    ca.cert_pem.write_to_path(str(paths.ca_file))
    return paths
