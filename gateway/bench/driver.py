"""The load: ``concurrency`` aiosmtplib connections, each sending message after message.

The messages are dealt from one shared counter, so the same message mix goes through
every contender in the same order. Each message is MAIL, RCPT per recipient, DATA; the
DATA bytes are prepared once (dot-stuffed, CRLF) and the latency is taken from the
moment the last byte is handed to the socket to the moment the reply is parsed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiosmtplib

from gateway.bench.mix import Mix

CLIENT_HOSTNAME = "bench-client.localhost"
NO_REPLY = 0  # the connection failed before the message was answered


@dataclass
class Outcome:
    """One run of the driver: per message (in run order) its reply code and latency."""

    codes: list[int] = field(default_factory=list)
    latency_ns: list[int] = field(default_factory=list)  # -1 when DATA was never reached
    seconds: float = 0.0
    reconnects: int = 0


async def _data(smtp: aiosmtplib.SMTP, payload: bytes, t: float) -> tuple[int, int]:
    """DATA with prepared bytes: (reply code, ns from end of data to the reply)."""
    reply = await smtp.execute_command(b"DATA", timeout=t)
    if reply.code != 354:
        return reply.code, -1
    protocol = smtp.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("connection lost")
    # aiosmtplib's own data() would re-stuff and re-scan the message on every send; the
    # protocol takes the prepared bytes (it ignores replies nobody waits for: say we do).
    protocol._response_pending = True
    started = time.perf_counter_ns()
    protocol.write(payload)
    done = await protocol.read_response(timeout=t)
    return done.code, time.perf_counter_ns() - started


async def _message(
    smtp: aiosmtplib.SMTP, mail_from: bytes, rcpts: Sequence[bytes], payload: bytes, t: float
) -> tuple[int, int]:
    reply = await smtp.execute_command(b"MAIL", mail_from, timeout=t)
    if reply.code != 250:
        await smtp.execute_command(b"RSET", timeout=t)
        return reply.code, -1
    accepted, refused = 0, 0
    for rcpt in rcpts:
        reply = await smtp.execute_command(b"RCPT", rcpt, timeout=t)
        if reply.code in (250, 251):
            accepted += 1
        else:
            refused = refused or reply.code
    if not accepted:
        await smtp.execute_command(b"RSET", timeout=t)
        return refused, -1
    return await _data(smtp, payload, t)


async def drive(
    host: str,
    port: int,
    mix: Mix,
    first: int,
    count: int,
    concurrency: int,
    reply_timeout: float = 120,
) -> Outcome:
    """Send messages ``first`` .. ``first + count - 1`` of ``mix`` over ``concurrency``
    connections; every message gets a code (``NO_REPLY`` when its connection failed)."""
    out = Outcome(codes=[NO_REPLY] * count, latency_ns=[-1] * count)
    envelopes = {
        id(m): (f"FROM:<{m.mail_from}>".encode(), [f"TO:<{r}>".encode() for r in m.rcpt_tos])
        for m in mix.deck
    }
    next_k = 0

    async def connect() -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            local_hostname=CLIENT_HOSTNAME,
            timeout=reply_timeout,
            start_tls=False,
        )
        await smtp.connect()
        await smtp.ehlo()
        return smtp

    async def worker() -> None:
        nonlocal next_k
        smtp: aiosmtplib.SMTP | None = None
        while next_k < count:
            k = next_k
            next_k += 1
            m = mix.mail(first + k)
            mail_from, rcpts = envelopes[id(m)]
            try:
                if smtp is None or not smtp.is_connected:
                    if smtp is not None:
                        out.reconnects += 1
                    smtp = await connect()
                out.codes[k], out.latency_ns[k] = await _message(
                    smtp, mail_from, rcpts, m.payload, reply_timeout
                )
            except (aiosmtplib.SMTPException, OSError):
                if smtp is not None:
                    smtp.close()
                smtp = None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, count)))))
    out.seconds = time.perf_counter() - started
    return out
