"""The floor any Python gateway pays: aiosmtpd in, a pool of aiosmtplib connections out.

No parsing, no checks, no log: each message's original bytes go to the next hop and the
next hop's reply goes back to the client (a failure on the way is a 451). Run as its own
process by ``tokuden bench``, so that its CPU and memory are measured apart:

    python -m gateway.bench.bare --listen 127.0.0.1:0 --next-hop 127.0.0.1:PORT [--pool 8]
    python -m gateway.bench.bare --listen 127.0.0.1:0 --sink   (a sink, where smtp-sink is not)

It prints ``bare-relay: listening on HOST:PORT`` once it accepts connections, and stops
on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP

HOSTNAME = "bare-relay.localhost"
READY = "bare-relay: listening on "
MAX_SIZE = 2**30  # aiosmtpd's default (32 MiB) would refuse the bench's large messages


class PooledNextHop:
    """Up to ``size`` persistent connections to the next hop, opened on demand."""

    def __init__(self, host: str, port: int, size: int, timeout: float = 60.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(size)

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes) -> str:
        async with self._slots:
            smtp = self._idle.pop() if self._idle else None
            try:
                if smtp is None or not smtp.is_connected:
                    smtp = aiosmtplib.SMTP(
                        hostname=self.host,
                        port=self.port,
                        local_hostname=HOSTNAME,
                        timeout=self.timeout,
                        start_tls=False,
                    )
                    await smtp.connect()
                _refused, reply = await smtp.sendmail(mail_from, list(rcpt_tos), data)
            except aiosmtplib.SMTPResponseException as exc:
                self._keep(smtp)
                return f"{exc.code} {exc.message}"
            except (aiosmtplib.SMTPException, OSError) as exc:
                if smtp is not None:
                    smtp.close()
                return f"451 4.4.1 next hop failed: {type(exc).__name__}"
            self._keep(smtp)
            return f"250 {reply}"

    def _keep(self, smtp: aiosmtplib.SMTP | None) -> None:
        if smtp is not None and smtp.is_connected:
            self._idle.append(smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


class PassThrough:
    """The aiosmtpd handler: relay DATA as received, answer with the next hop's reply."""

    def __init__(self, hop: PooledNextHop) -> None:
        self.hop = hop

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return await self.hop.send(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)


class Sink:
    """``--sink``: accept every message and print ``mesg=N`` (as ``smtp-sink -c`` does)."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        sys.stdout.write(f"mesg={self.messages}\r")
        sys.stdout.flush()
        return "250 2.0.0 Ok: queued"


async def serve(host: str, port: int, hop_host: str, hop_port: int, pool: int) -> int:
    hop = PooledNextHop(hop_host, hop_port, pool) if hop_port else None
    handler: PassThrough | Sink = PassThrough(hop) if hop else Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=HOSTNAME, decode_data=False, data_size_limit=MAX_SIZE),
        host,
        port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()
    print(f"{READY}{bound[0]}:{bound[1]}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        if hop is not None:
            await hop.close()
    return 0


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway.bench.bare", description=__doc__)
    p.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    p.add_argument("--next-hop", metavar="HOST:PORT")
    p.add_argument("--sink", action="store_true", help="no next hop: accept and count")
    p.add_argument("--pool", type=int, default=8, help="persistent next-hop connections")
    args = p.parse_args(argv)
    host, port = _host_port(args.listen)
    if not args.sink and not args.next_hop:
        p.error("--next-hop HOST:PORT or --sink")
    hop_host, hop_port = ("", 0) if args.sink else _host_port(args.next_hop)
    return asyncio.run(serve(host, port, hop_host, hop_port, args.pool))


if __name__ == "__main__":
    sys.exit(main())
