"""The bounded-memory phase: many idle connections, then one large message, to one process.

Against a fresh contender process that has had the warm-up (so its baseline is a process
that has handled mail, not one that has only imported its code):

1. its RSS; then ``idle`` connections opened (greeting read, EHLO answered) and left idle:
   its RSS again, and its peak (VmHWM, over its whole life) while they are all open;
2. with them still open, the peak is set back to the current RSS (``clear_refs``) and
   one large message goes over a connection of its own: the new peak minus that idle
   baseline is what the message cost, also as a multiple of its size;
3. NOOP on every idle connection: how many the contender kept through all of it.

The idle connections are bare asyncio streams speaking just enough SMTP, opened a few
dozen at a time (a listen backlog is typically 100).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from gateway.bench import procstat
from gateway.bench.driver import NO_REPLY, send_one
from gateway.bench.mix import Mail

HOST = "127.0.0.1"
OPENING = 50  # connections being opened at once
TIMEOUT = 60.0  # seconds for one reply of an idle connection
MIB = 2**20


async def _reply(reader: asyncio.StreamReader) -> int:
    """The code of the next (possibly multi-line) reply; 0 when the connection ended."""
    while True:
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        if len(line) < 4 or not line[:3].isdigit():
            return 0
        if line[3:4] != b"-":
            return int(line[:3])


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _open(port: int, gate: asyncio.Semaphore) -> Stream | None:
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), TIMEOUT)
        except (OSError, TimeoutError):
            return None
        try:
            if await _reply(reader) == 220:
                writer.write(b"EHLO bench-idle.localhost\r\n")
                if await _reply(reader) == 250:
                    return reader, writer
        except (OSError, TimeoutError):
            pass
        writer.close()
        return None


async def _still_open(stream: Stream) -> bool:
    reader, writer = stream
    try:
        writer.write(b"NOOP\r\n")
        return await _reply(reader) == 250
    except (OSError, TimeoutError):
        return False


async def _close(stream: Stream) -> None:
    _reader, writer = stream
    with contextlib.suppress(OSError):
        writer.write(b"QUIT\r\n")
        writer.close()
        await writer.wait_closed()


def _mib(kib: int | float | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _kib(pid: int, name: str) -> int | None:
    return procstat.status_kib(pid, name).get(name)


async def measure(pid: int, port: int, idle: int, large: Mail | None) -> dict[str, Any]:
    """The phase against the process ``pid`` listening on ``port`` (see the module text)."""
    soft, hard = procstat.open_files_limit(pid)
    before = _kib(pid, "VmRSS")
    gate = asyncio.Semaphore(OPENING)
    opened = await asyncio.gather(*(_open(port, gate) for _ in range(idle)))
    streams = [s for s in opened if s is not None]
    after = _kib(pid, "VmRSS")
    peak_idle = _kib(pid, "VmHWM")
    grown = after - before if after is not None and before is not None else None
    out: dict[str, Any] = {
        "open_files_limit": {"soft": soft, "hard": hard},
        "idle": {
            "asked": idle,
            "opened": len(streams),
            "rss_before_mib": _mib(before),
            "rss_idle_mib": _mib(after),
            "peak_rss_mib": _mib(peak_idle),
            "per_connection_kib": round(grown / len(streams), 1)
            if grown is not None and streams
            else None,
        },
        "large": None,
    }
    try:
        if large is not None:
            out["large"] = await _large(pid, port, large)
        alive = await asyncio.gather(*(_still_open(s) for s in streams))
        out["idle"]["still_open"] = sum(alive)
    finally:
        await asyncio.gather(*(_close(s) for s in streams))
    return out


async def _large(pid: int, port: int, large: Mail) -> dict[str, Any]:
    baseline = _kib(pid, "VmRSS")
    reset = procstat.reset_hwm(pid)
    if reset:
        code, latency_ns = await send_one(HOST, port, large)
        peak = _kib(pid, "VmHWM")
    else:  # an old kernel, or no right to: sample RSS instead, a lower bound
        with procstat.MemorySampler(pid, interval=0.01, tree=False) as sampler:
            code, latency_ns = await send_one(HOST, port, large)
        peak = sampler.memory.peak_rss_sum
    growth = peak - baseline if peak is not None and baseline is not None else None
    return {
        "bytes": large.size,
        "code": code if code != NO_REPLY else None,
        "accepted": 200 <= code < 300,
        "latency_ms": round(latency_ns / 1e6, 1) if latency_ns >= 0 else None,
        "baseline_mib": _mib(baseline),
        "peak_rss_mib": _mib(peak),
        "growth_mib": _mib(growth),
        "multiple": round(growth * 1024 / large.size, 2) if growth is not None else None,
        "rss_after_mib": _mib(_kib(pid, "VmRSS")),
        "peak_from": "VmHWM, reset to the idle RSS just before the message"
        if reset
        else "RSS sampled every 10 ms (VmHWM could not be reset): a lower bound",
    }
