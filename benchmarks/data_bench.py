"""Receiving DATA (issue 6, item 3): stock aiosmtpd against the chunked reader, in one run.

A server process takes messages over loopback with a handler that only
answers ``250``, so what is measured is aiosmtpd's session plus the DATA
reader: stock ``aiosmtpd.smtp.SMTP`` (one ``readuntil`` and one debug log call
per line) and ``gateway.datareader.ChunkedDataSMTP`` (the same rules on whole
reads). The client (this process) keeps ``--concurrency`` connections, each
sending message after message (MAIL, RCPT, DATA, the body, each reply awaited,
as a smarthost's MTA does without PIPELINING).

Per message size (5 KB and 50 KB, 76-character lines, a few of them
dot-stuffed) and server, alternating the two, ``--rounds`` times: messages/s
(wall clock of the client) and the server process's CPU per message (its own
``process_time``, read over a pipe), with the client's beside it: where the
client's CPU nears the server's, messages/s measures the client too; and the
server's peak RSS (the largest of its rounds). Printed:
the medians and the ratios chunked / stock. Timings drift on shared machines:
compare the ratios of one run, CPU per message before messages/s.

    .venv/bin/python benchmarks/data_bench.py [--messages 2000] [--concurrency 8]
        [--rounds 3] [--warmup 100] [--sizes 5000,50000] [--json]
    # one 25 MB message at a time:
    .venv/bin/python benchmarks/data_bench.py --sizes 25000000 --messages 4 \
        --concurrency 1 --warmup 1 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.datareader import ChunkedDataSMTP

SERVERS: dict[str, type[SMTP]] = {"aiosmtpd": SMTP, "chunked": ChunkedDataSMTP}


class Accept:
    """The cheapest handler: the content is read and dropped, as a sink does."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def serve(kind: str, pipe: Connection) -> None:
    """The server process: listen, send the port, answer each request with this process's CPU."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        cls = SERVERS[kind]
        server = await loop.create_server(
            lambda: cls(Accept(), hostname="bench.test", loop=loop), "127.0.0.1", 0
        )
        stop = loop.create_future()

        def request() -> None:
            if pipe.recv() == "stop":
                stop.set_result(None)
            else:
                pipe.send((time.process_time(), peak_rss_mb()))

        loop.add_reader(pipe.fileno(), request)
        pipe.send(server.sockets[0].getsockname()[1])
        await stop
        server.close()

    asyncio.run(main())


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM, Linux), 0 where /proc has none."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def message(size: int) -> bytes:
    """A mail of ``size`` bytes: headers, then 76-character lines, one in 40 dot-stuffed."""
    head = (
        b"From: news@shop.example\r\nTo: r@example.jp\r\nSubject: bench\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    lines = []
    total = len(head)
    i = 0
    while total < size:
        line = (b".." if i % 40 == 39 else b"") + (b"%04d " % i) + b"x" * 71 + b"\r\n"
        lines.append(line)
        total += len(line)
        i += 1
    return head + b"".join(lines)


async def expect(reader: asyncio.StreamReader, code: bytes) -> None:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            if not line.startswith(code):
                raise RuntimeError(f"expected {code!r}, got {line!r}")
            return


async def client(port: int, body: bytes, counter: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await expect(reader, b"220")
    writer.write(b"EHLO client.bench\r\n")
    await expect(reader, b"250")
    while counter[0] > 0:
        counter[0] -= 1
        writer.write(b"MAIL FROM:<news@shop.example>\r\n")
        await expect(reader, b"250")
        writer.write(b"RCPT TO:<r@example.jp>\r\n")
        await expect(reader, b"250")
        writer.write(b"DATA\r\n")
        await expect(reader, b"354")
        writer.write(body + b".\r\n")
        await expect(reader, b"250")
    writer.write(b"QUIT\r\n")
    await expect(reader, b"221")
    writer.close()
    await writer.wait_closed()


@dataclass
class Run:
    server: str
    size: int
    messages: int
    seconds: float
    server_cpu_s: float
    server_peak_rss_mb: float
    client_cpu_s: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu_s / self.messages * 1000

    @property
    def client_cpu_ms(self) -> float:
        return self.client_cpu_s / self.messages * 1000


def cpu_of(pipe: Connection) -> tuple[float, float]:
    """The server's CPU seconds so far and its peak RSS in MB."""
    pipe.send("cpu")
    cpu, rss = pipe.recv()
    return float(cpu), float(rss)


async def drive(port: int, body: bytes, messages: int, concurrency: int) -> float:
    counter = [messages]
    start = time.perf_counter()
    await asyncio.gather(*(client(port, body, counter) for _ in range(concurrency)))
    return time.perf_counter() - start


def run(kind: str, size: int, messages: int, concurrency: int, warmup: int) -> Run:
    """One server process for one measurement: ``warmup`` messages, then ``messages`` timed."""
    body = message(size)
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(kind, theirs))
    process.start()
    try:
        port: int = ours.recv()
        asyncio.run(drive(port, body, warmup, concurrency))
        (before, _), client_before = cpu_of(ours), time.process_time()
        seconds = asyncio.run(drive(port, body, messages, concurrency))
        client_cpu = time.process_time() - client_before
        after, rss = cpu_of(ours)
    finally:
        ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
    return Run(kind, size, messages, seconds, after - before, rss, client_cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100, help="messages before each timing")
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    runs: list[Run] = []
    for size in sizes:
        for round_ in range(args.rounds):
            order = list(SERVERS) if round_ % 2 == 0 else list(reversed(SERVERS))
            for kind in order:
                result = run(kind, size, args.messages, args.concurrency, args.warmup)
                runs.append(result)
                print(
                    f"  {size:>8} B  {kind:<9} round {round_ + 1}: "
                    f"{result.per_second:7.0f} msg/s  {result.cpu_ms:6.3f} ms CPU/msg",
                    file=sys.stderr,
                )

    summary: list[dict[str, Any]] = []
    for size in sizes:
        row: dict[str, Any] = {"size": size}
        for kind in SERVERS:
            mine = [r for r in runs if r.size == size and r.server == kind]
            row[kind] = {
                "msg_per_s": statistics.median(r.per_second for r in mine),
                "cpu_ms_per_msg": statistics.median(r.cpu_ms for r in mine),
                "client_cpu_ms_per_msg": statistics.median(r.client_cpu_ms for r in mine),
                "server_peak_rss_mb": max(r.server_peak_rss_mb for r in mine),
            }
        row["ratio_msg_per_s"] = row["chunked"]["msg_per_s"] / row["aiosmtpd"]["msg_per_s"]
        row["ratio_cpu_per_msg"] = (
            row["chunked"]["cpu_ms_per_msg"] / row["aiosmtpd"]["cpu_ms_per_msg"]
        )
        summary.append(row)

    if args.json:
        print(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "messages": args.messages,
                    "concurrency": args.concurrency,
                    "rounds": args.rounds,
                    "summary": summary,
                    "runs": [asdict(r) for r in runs],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"DATA reader, {args.messages} messages x {args.rounds} rounds, "
        f"{args.concurrency} connections, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (medians)"
    )
    print(
        f"{'size':>10}  {'server':<9} {'msg/s':>8} {'CPU ms/msg':>11} {'(client)':>9}"
        f" {'peak RSS MB':>12}"
    )
    for row in summary:
        for kind in SERVERS:
            figures = row[kind]
            print(
                f"{row['size']:>8} B  {kind:<9} {figures['msg_per_s']:>8.0f} "
                f"{figures['cpu_ms_per_msg']:>11.3f} {figures['client_cpu_ms_per_msg']:>9.3f}"
                f" {figures['server_peak_rss_mb']:>12.1f}"
            )
        print(
            f"{'':>10}  chunked/aiosmtpd: msg/s x{row['ratio_msg_per_s']:.2f}, "
            f"CPU per message x{row['ratio_cpu_per_msg']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
