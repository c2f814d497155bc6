"""The load: ``concurrency`` aiosmtplib connections, spread over one or more driver processes.

Two ways to send the messages of a run (each message is MAIL, RCPT per recipient, DATA;
the DATA bytes are prepared once, dot-stuffed with CRLF, and the latency is taken from
the moment the last byte is handed to the socket to the moment the reply is parsed):

- closed loop (the saturating runs): each connection sends message after message, as
  fast as the contender answers;
- open loop (the paced phase): message ``k`` is due at ``t0 + k / rate`` whatever the
  replies; the first free connection takes it. A message that finds no connection free
  starts late, and the lateness is kept beside the latency, so a rate that was not
  really offered shows.

The driver runs in processes of its own (``python -m gateway.bench.driver MIXFILE``,
jobs and results pickled over its stdin and stdout), never in the bench's: so its CPU
is its own (not the bench's memory sampler, output readers and DNS server), and with
``--drivers K`` the load can come from several cores when one asyncio process would
itself be the bottleneck. The messages are dealt to the processes in proportion to
their connections, so every contender still gets the same messages in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiosmtplib

from gateway.bench.mix import Mail, Mix

CLIENT_HOSTNAME = "bench-client.localhost"
NO_REPLY = 0  # the connection failed before the message was answered
LEAD = 0.5  # seconds between handing out a paced job and its first message being due


@dataclass(frozen=True)
class Job:
    """What one driver process sends: ``ks`` (run positions, ascending) of the run whose
    position 0 is mix message ``first``, over ``connections`` connections."""

    port: int
    first: int
    ks: tuple[int, ...]
    connections: int
    due: tuple[float, ...] | None = None  # perf_counter time each k is due; None: closed loop
    reply_timeout: float = 120.0


@dataclass
class Part:
    """One driver process's share of a run, aligned with its job's ``ks``."""

    ks: tuple[int, ...]
    codes: list[int]
    latency_ns: list[int]
    late_ns: list[int]
    started: float = 0.0  # perf_counter (CLOCK_MONOTONIC: the same clock in every process)
    ended: float = 0.0
    cpu_seconds: float = 0.0
    reconnects: int = 0


@dataclass
class Outcome:
    """One run of the driver: per message (in run order) its reply code and latency."""

    codes: list[int] = field(default_factory=list)
    latency_ns: list[int] = field(default_factory=list)  # -1 when DATA was never reached
    late_ns: list[int] = field(default_factory=list)  # open loop: start minus due time
    seconds: float = 0.0
    reconnects: int = 0
    driver_cpu: float = 0.0  # CPU seconds of every driver process during the run
    driver_busiest: float = 0.0  # the busiest driver process's CPU / wall (1.0: one core)
    drivers: int = 1


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


def envelope(m: Mail) -> tuple[bytes, list[bytes]]:
    return f"FROM:<{m.mail_from}>".encode(), [f"TO:<{r}>".encode() for r in m.rcpt_tos]


async def connect(host: str, port: int, reply_timeout: float) -> aiosmtplib.SMTP:
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


async def send_one(host: str, port: int, m: Mail, reply_timeout: float = 300.0) -> tuple[int, int]:
    """One message over a connection of its own: (reply code, latency ns)."""
    mail_from, rcpts = envelope(m)
    try:
        smtp = await connect(host, port, reply_timeout)
    except (aiosmtplib.SMTPException, OSError):
        return NO_REPLY, -1
    try:
        return await _message(smtp, mail_from, rcpts, m.payload, reply_timeout)
    except (aiosmtplib.SMTPException, OSError):
        return NO_REPLY, -1
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
        smtp.close()


async def run_job(job: Job, mix: Mix, host: str = "127.0.0.1") -> Part:
    """Send the job's messages; every one gets a code (``NO_REPLY`` when its connection
    failed). The connections are opened first: the run's clock starts once they are."""
    n = len(job.ks)
    part = Part(job.ks, [NO_REPLY] * n, [-1] * n, [0] * n)
    envelopes = {id(m): envelope(m) for m in mix.deck}
    todo: asyncio.Queue[int | None] = asyncio.Queue()
    t = job.reply_timeout

    async def opened() -> aiosmtplib.SMTP | None:
        try:
            return await connect(host, job.port, t)
        except (aiosmtplib.SMTPException, OSError):
            return None

    async def worker(smtp: aiosmtplib.SMTP | None) -> None:
        while (pos := await todo.get()) is not None:
            if job.due is not None:
                part.late_ns[pos] = max(0, round((time.perf_counter() - job.due[pos]) * 1e9))
            m = mix.mail(job.first + job.ks[pos])
            mail_from, rcpts = envelopes[id(m)]
            try:
                if smtp is None or not smtp.is_connected:
                    if smtp is not None:
                        part.reconnects += 1
                    smtp = await connect(host, job.port, t)
                part.codes[pos], part.latency_ns[pos] = await _message(
                    smtp, mail_from, rcpts, m.payload, t
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

    count = max(1, min(job.connections, n))
    connections = await asyncio.gather(*(opened() for _ in range(count)))
    workers = [asyncio.ensure_future(worker(smtp)) for smtp in connections]
    if job.due is None:
        part.started = time.perf_counter()
        for pos in range(n):
            todo.put_nowait(pos)
    else:
        part.started = job.due[0] if n else time.perf_counter()
        for pos, due in enumerate(job.due):
            # Pacing: the arrivals are the load itself, not a wait for something to happen.
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            todo.put_nowait(pos)
    for _ in workers:
        todo.put_nowait(None)
    await asyncio.gather(*workers)
    part.ended = time.perf_counter()
    return part


# --------------------------------------------------------------------------- the processes


def _write(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    """The next object, or None when the other side closed the pipe."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    return pickle.loads(stream.read(int.from_bytes(head, "big")))


class DriverError(Exception):
    """A driver process failed; the text carries its traceback."""


class Drivers:
    """``count`` driver processes, started once per bench run and given job after job."""

    def __init__(self, count: int, mix: Mix, workdir: Path) -> None:
        self.count = count
        self.mix = mix
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    async def start(self) -> None:
        path = self.workdir / "mix.pickle"
        with path.open("wb") as f:
            pickle.dump(self.mix, f, protocol=pickle.HIGHEST_PROTOCOL)
        self.processes = [self._spawn(j, path) for j in range(self.count)]
        ready = await asyncio.gather(*(asyncio.to_thread(self._receive, p) for p in self.processes))
        if any(r != "ready" for r in ready):
            raise DriverError(f"a driver process did not start: {ready}")

    def _spawn(self, j: int, mix: Path) -> subprocess.Popen[bytes]:
        with (self.workdir / f"driver-{j}.stderr").open("wb") as err:
            return subprocess.Popen(
                [sys.executable, "-m", "gateway.bench.driver", str(mix)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )

    def _receive(self, process: subprocess.Popen[bytes]) -> Any:
        assert process.stdout is not None
        got = _read(process.stdout)
        if got is None:
            err = self.workdir / f"driver-{self.processes.index(process)}.stderr"
            raise DriverError(f"a driver process exited: {err.read_text('utf-8', 'replace')}")
        if isinstance(got, dict) and "error" in got:
            raise DriverError(str(got["error"]))
        return got

    def _exchange(self, process: subprocess.Popen[bytes], job: Job) -> Part:
        assert process.stdin is not None
        _write(process.stdin, job)
        part = self._receive(process)
        assert isinstance(part, Part)
        return part

    def shares(self, concurrency: int) -> list[int]:
        """Connections per driver process: ``concurrency`` split as evenly as it goes."""
        k = min(self.count, concurrency)
        return [concurrency // k + (j < concurrency % k) for j in range(k)]

    async def run(
        self,
        port: int,
        first: int,
        count: int,
        concurrency: int,
        rate: float | None = None,
        reply_timeout: float = 120.0,
    ) -> Outcome:
        """Messages ``first`` .. ``first + count - 1`` of the mix; closed loop, or open
        loop at ``rate`` messages/s."""
        shares = self.shares(concurrency)
        owner = [j for j, c in enumerate(shares) for _ in range(c)]  # connection slot -> driver
        ks: list[list[int]] = [[] for _ in shares]
        for k in range(count):
            ks[owner[k % len(owner)]].append(k)
        t0 = time.perf_counter() + LEAD
        jobs = [
            Job(
                port,
                first,
                tuple(mine),
                shares[j],
                None if rate is None else tuple(t0 + k / rate for k in mine),
                reply_timeout,
            )
            for j, mine in enumerate(ks)
            if mine
        ]
        parts = await asyncio.gather(
            *(
                asyncio.to_thread(self._exchange, p, job)
                for p, job in zip(self.processes, jobs, strict=False)
            )
        )
        out = Outcome(
            codes=[NO_REPLY] * count,
            latency_ns=[-1] * count,
            late_ns=[0] * count,
            drivers=len(jobs),
        )
        for part in parts:
            for pos, k in enumerate(part.ks):
                out.codes[k] = part.codes[pos]
                out.latency_ns[k] = part.latency_ns[pos]
                out.late_ns[k] = part.late_ns[pos]
            out.reconnects += part.reconnects
            out.driver_cpu += part.cpu_seconds
        if parts:
            out.seconds = max(p.ended for p in parts) - min(p.started for p in parts)
            out.driver_busiest = max(
                p.cpu_seconds / (p.ended - p.started) if p.ended > p.started else 0.0 for p in parts
            )
        return out

    async def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
            if process.stdout is not None:
                process.stdout.close()
        self.processes = []


def main(argv: Sequence[str] | None = None) -> int:
    """A driver process: load the mix, then run each job read on stdin until it closes."""
    args = list(sys.argv[1:] if argv is None else argv)
    with open(args[0], "rb") as f:
        mix: Mix = pickle.load(f)
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    _write(out, "ready")
    while (job := _read(inp)) is not None:
        try:
            cpu = time.process_time()
            part = asyncio.run(run_job(job, mix))
            part.cpu_seconds = time.process_time() - cpu
        except Exception:
            _write(out, {"error": traceback.format_exc()})
            continue
        _write(out, part)
    return 0


if __name__ == "__main__":
    # Run as the module's own main, not __main__'s copy: the Parts it pickles must name
    # gateway.bench.driver.Part, which the bench can unpickle.
    from gateway.bench.driver import main as driver_main

    sys.exit(driver_main())
