"""One ``tokuden bench`` run: start the sink, drive the mix through each contender, report.

Phases, in this order, each contender in fresh processes of its own:

1. saturating (closed loop): every contender named by ``--only``. Per contender:
   messages/s (for a contender that queues, until the sink has every message it
   accepted), p50/p99 latency from the end of DATA to the reply, CPU ms per message of
   the contender's own processes, peak memory, the replies by class and message kind,
   and what the driver and the machine spent meanwhile;
2. paced (open loop, ``--no-paced`` skips it): bare, tokuden and tokuden-workers at
   one offered rate, half of tokuden's measured maximum: the latency each adds there;
3. memory (``--no-memory`` skips it): bare and tokuden (one process) holding
   ``--idle-connections`` idle sessions, then taking one ``--large-mib`` message.

The targets of issue 6 are judged from the figures of this one run (``report.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.bench import memory, procstat, world
from gateway.bench.contenders import (
    BareRelay,
    Contender,
    ContenderError,
    Postfix,
    Sink,
    SinkContender,
    Tokuden,
)
from gateway.bench.driver import NO_REPLY, Drivers, Outcome
from gateway.bench.mix import KINDS, Mail, Mix, build, large_mail
from gateway.bench.report import render, targets
from gateway.commands.serve import raise_open_files
from gateway.dnsserver import ZoneServer

CONTENDERS = ("sink", "bare", "postfix", "tokuden", "tokuden-workers")
PACED = ("bare", "tokuden", "tokuden-workers")
MEMORY = ("bare", "tokuden")
DRAIN_TIMEOUT = 300.0  # seconds a queueing contender gets to hand the sink what it accepted
CLASSES = ("accepted", "rejected", "deferred", "failed")
MIB = 2**20
LATE_NS = 5_000_000  # a paced message started this much after it was due counts as late
DEFAULT_MAX_SIZE = 26_214_400  # tokuden's own default server.max_message_size


@dataclass(frozen=True)
class Settings:
    messages: int
    warmup: int
    concurrency: int
    only: tuple[str, ...]
    rows: int
    cache: Path
    shared: Path
    keep: bool = False
    workers: int = 2
    drivers: int = 1
    paced: bool = True
    memory: bool = True
    idle: int = 1000
    large_mib: int = 25


def reply_class(code: int) -> str:
    if code == NO_REPLY:
        return "failed"
    return {2: "accepted", 4: "deferred", 5: "rejected"}.get(code // 100, "failed")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(q * len(values) + 0.5) - 1))
    return values[k]


def _ms(ns: float | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 3)


@dataclass
class Spent:
    """What a measured run cost besides the replies: CPU, memory, the sink's count."""

    cpu_seconds: float
    drain_seconds: float
    memory: procstat.Memory
    sink_received: int
    machine_busy: float | None  # share of all CPUs busy (1.0: every core, all the time)


def summarise(
    contender: Contender, mix: Mix, outcome: Outcome, spent: Spent, rate: float | None = None
) -> dict[str, Any]:
    n = len(outcome.codes)
    wall = outcome.seconds + spent.drain_seconds
    latencies = sorted(ns for ns in outcome.latency_ns if ns >= 0)
    replies = Counter(reply_class(c) for c in outcome.codes)
    by_kind: dict[str, Counter[str]] = {}
    checked = matched = 0
    mismatches: list[str] = []
    for k, code in enumerate(outcome.codes):
        m = mix.mail(mix.warmup + k)
        cls = reply_class(code)
        by_kind.setdefault(m.kind, Counter())[cls] += 1
        # The pass-through contenders accept everything; tokuden answers what the law says.
        expect = m.expect if isinstance(contender, Tokuden) else "accept"
        if expect is None:
            continue
        checked += 1
        if (expect == "accept") == (cls == "accepted") and cls in ("accepted", "rejected"):
            matched += 1
        elif len(mismatches) < 8:
            mismatches.append(f"{m.label}: {code or 'no reply'} (expected {expect})")
    memory = spent.memory
    out: dict[str, Any] = {
        "name": contender.name,
        "title": contender.title,
        "available": True,
        "reason": None,
        "messages": n,
        "answered": sum(1 for c in outcome.codes if c != NO_REPLY),
        "seconds": round(wall, 3),
        "drain_seconds": round(spent.drain_seconds, 3),
        "messages_per_s": round(n / wall, 1) if wall else None,
        "latency_ms": {
            "p50": _ms(percentile(latencies, 0.50)),
            "p99": _ms(percentile(latencies, 0.99)),
            "max": _ms(latencies[-1] if latencies else None),
            "samples": len(latencies),
        },
        "cpu_seconds": round(spent.cpu_seconds, 3),
        "cpu_ms_per_message": round(1000 * spent.cpu_seconds / n, 3) if n else None,
        "peak_rss_mib": round(max(memory.peak_rss_sum, memory.peak_hwm) / 1024, 1),
        "peak_pss_mib": round(memory.peak_pss_sum / 1024, 1),
        "processes": memory.processes,
        "memory_note": contender.memory_note,
        "replies": {c: replies.get(c, 0) for c in CLASSES},
        "by_kind": {
            kind: {c: by_kind[kind].get(c, 0) for c in CLASSES}
            for kind in (*KINDS, "large")
            if kind in by_kind
        },
        "expected": {"checked": checked, "matched": matched, "mismatches": mismatches},
        "sink_received": spent.sink_received,
        "reconnects": outcome.reconnects,
        "driver_cpu_ms_per_message": round(1000 * outcome.driver_cpu / n, 3) if n else None,
        "driver": {
            "processes": outcome.drivers,
            "cpu_ms_per_message": round(1000 * outcome.driver_cpu / n, 3) if n else None,
            "busiest_core_share": round(outcome.driver_busiest, 3),
        },
        "machine_cpu_busy": None if spent.machine_busy is None else round(spent.machine_busy, 3),
    }
    if rate is not None:
        late = sorted(outcome.late_ns)
        out["paced"] = {
            "offered_per_s": round(rate, 1),
            "late_over_5ms": sum(1 for v in late if v > LATE_NS),
            "late_p99_ms": _ms(percentile(late, 0.99)),
            "late_max_ms": _ms(late[-1] if late else None),
        }
    return out


def unavailable(contender: Contender, reason: str) -> dict[str, Any]:
    return {"name": contender.name, "title": contender.title, "available": False, "reason": reason}


def _busy(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else None


async def _warm(contender: Contender, sink: Sink, port: int, mix: Mix, c: int, d: Drivers) -> None:
    """The unmeasured warm-up; a queueing contender must have delivered it before we go on."""
    received_before = sink.received
    warm = await d.run(port, 0, mix.warmup, c)
    if contender.queues:
        accepted = sum(1 for code in warm.codes if reply_class(code) == "accepted")
        await sink.wait_received(received_before + accepted, DRAIN_TIMEOUT)


async def measure(
    contender: Contender,
    sink: Sink,
    mix: Mix,
    concurrency: int,
    drivers: Drivers,
    rate: float | None = None,
) -> dict[str, Any]:
    """Start ``contender``, warm it up, drive the measured messages (closed loop, or open
    loop at ``rate`` messages/s), stop it."""
    try:
        port = await contender.start()
    except ContenderError as exc:
        await contender.stop()
        return unavailable(contender, str(exc))
    try:
        with procstat.MemorySampler(contender.pid) as sampler:
            await _warm(contender, sink, port, mix, concurrency, drivers)
            received_mid = sink.received
            cpu_before = procstat.tree_cpu_seconds(contender.pid)
            machine_before = procstat.machine_cpu()
            outcome = await drivers.run(port, mix.warmup, mix.messages, concurrency, rate)
            drain = 0.0
            if contender.queues:
                accepted = sum(1 for c in outcome.codes if reply_class(c) == "accepted")
                drain_started = time.perf_counter()
                await sink.wait_received(received_mid + accepted, DRAIN_TIMEOUT)
                drain = time.perf_counter() - drain_started
            cpu = procstat.tree_cpu_seconds(contender.pid) - cpu_before
            busy = _busy(machine_before, procstat.machine_cpu())
            received = sink.received - received_mid
        spent = Spent(cpu, drain, sampler.memory, received, busy)
        return summarise(contender, mix, outcome, spent, rate)
    finally:
        await contender.stop()


def ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    if not (a.get("available") and b.get("available")):
        return None

    def div(x: float | None, y: float | None) -> float | None:
        return round(x / y, 3) if x is not None and y else None

    def sub(x: float | None, y: float | None) -> float | None:
        return round(x - y, 3) if x is not None and y is not None else None

    la, lb = a["latency_ms"], b["latency_ms"]
    return {
        "messages_per_s": div(a["messages_per_s"], b["messages_per_s"]),
        "cpu_ms_per_message": div(a["cpu_ms_per_message"], b["cpu_ms_per_message"]),
        "p50_added_ms": sub(la["p50"], lb["p50"]),
        "p99_added_ms": sub(la["p99"], lb["p99"]),
        "peak_rss": div(a["peak_rss_mib"], b["peak_rss_mib"]),
    }


RATIOS = (
    ("tokuden", "bare"),
    ("tokuden", "postfix"),
    ("tokuden-workers", "postfix"),
    ("tokuden-workers", "tokuden"),
)


@dataclass
class TokudenWorld:
    """What both tokuden contenders run on: a config each (own port), one DNS server."""

    configs: dict[str, Path]
    dns: ZoneServer
    names: int


class Run:
    """The contenders of one run, made afresh for each phase they take part in."""

    def __init__(self, settings: Settings, workdir: Path, mix: Mix) -> None:
        self.settings = settings
        self.workdir = workdir
        self.mix = mix
        self.sink = Sink(workdir)
        self.drivers = Drivers(settings.drivers, mix, workdir)
        self.tokuden: TokudenWorld | None = None

    async def contender(self, name: str) -> Contender:
        s, c = self.settings, self.settings.concurrency
        if name == "sink":
            return SinkContender(self.workdir, self.sink, c)
        if name == "bare":
            return BareRelay(self.workdir, self.sink, c)
        if name == "postfix":
            return Postfix(self.workdir, self.sink, c)
        if self.tokuden is None:
            self.tokuden = await asyncio.to_thread(self._tokuden_world)
        workers = s.workers if name == "tokuden-workers" else 1
        return Tokuden(self.workdir, self.sink, c, self.tokuden.configs[name], s.rows, workers)

    def _tokuden_world(self) -> TokudenWorld:
        s = self.settings
        examples = s.shared / "examples"
        keys = world.dkim_keys(s.cache)
        profiles = world.senders(examples, keys)
        zone = world.zone(profiles, keys)
        dns = ZoneServer(zone)
        store = s.cache / f"consent-{s.rows}.db"
        configs = {}
        for name in ("tokuden", "tokuden-workers"):
            configs[name] = world.write_config(
                self.workdir / f"{name}.toml",
                listen_port=procstat.free_port(),
                next_hop_port=self.sink.port,
                store=store,
                log=self.workdir / f"{name}.decisions.log",
                profiles=profiles,
                dns_port=dns.port,
                max_message_size=max(DEFAULT_MAX_SIZE, 2 * s.large_mib * MIB),
            )
        world.consent_store(s.cache, s.rows, examples, configs["tokuden"])
        return TokudenWorld(configs, dns, len(zone))

    async def saturating(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for name in CONTENDERS:
            if name not in self.settings.only:
                continue
            contender = await self.contender(name)
            reason = contender.unavailable()
            if reason:
                results.append(unavailable(contender, reason))
                continue
            print(f"bench: {contender.name} ...", file=sys.stderr, flush=True)
            results.append(
                await measure(
                    contender, self.sink, self.mix, self.settings.concurrency, self.drivers
                )
            )
        return results

    async def paced(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        """Phase 2: the same offered rate for each, half of tokuden's measured maximum."""
        if not self.settings.paced:
            return {"skipped": "--no-paced"}
        ran = {r["name"]: r for r in results if r.get("available")}
        top = ran.get("tokuden", {}).get("messages_per_s")
        if not top:
            return {"skipped": "tokuden did not run: the rate is half of its maximum"}
        rate = top / 2
        out: list[dict[str, Any]] = []
        for name in PACED:
            if name not in ran:
                continue
            contender = await self.contender(name)
            print(f"bench: {name} paced at {rate:.1f} msg/s ...", file=sys.stderr, flush=True)
            out.append(
                await measure(
                    contender, self.sink, self.mix, self.settings.concurrency, self.drivers, rate
                )
            )
        named = {r["name"]: r for r in out}
        added = {
            name: ratio(named[name], named["bare"])
            for name in ("tokuden", "tokuden-workers")
            if name in named and "bare" in named
        }
        return {
            "rate_per_s": round(rate, 1),
            "of": "tokuden",
            "max_per_s": top,
            "messages": self.mix.messages,
            "connections": self.settings.concurrency,
            "contenders": out,
            "added_over_bare": added,
        }

    async def memory(self) -> dict[str, Any]:
        """Phase 3: idle connections, then one large message, to bare and tokuden."""
        s = self.settings
        if not s.memory:
            return {"skipped": "--no-memory"}
        names = [name for name in MEMORY if name in s.only]
        if not names:
            return {"skipped": "neither bare nor tokuden is in --only"}
        large = await asyncio.to_thread(large_mail, s.rows, s.large_mib * MIB)
        out: list[dict[str, Any]] = []
        for name in names:
            contender = await self.contender(name)
            print(
                f"bench: {name}: {s.idle:,} idle connections, a {s.large_mib} MiB message ...",
                file=sys.stderr,
                flush=True,
            )
            out.append(await self._memory_of(contender, large))
        return {
            "idle_connections": s.idle,
            "large": {"bytes": large.size, "kind": "text/plain + base64 application/pdf"},
            "contenders": out,
        }

    async def _memory_of(self, contender: Contender, large: Mail) -> dict[str, Any]:
        try:
            port = await contender.start()
        except ContenderError as exc:
            await contender.stop()
            return unavailable(contender, str(exc))
        try:
            await _warm(
                contender, self.sink, port, self.mix, self.settings.concurrency, self.drivers
            )
            received = self.sink.received
            found = await memory.measure(contender.pid, port, self.settings.idle, large)
            if found["large"] is not None:
                # tokuden answers 250 once the sink has it; the bare relay too
                found["large"]["sink_received"] = self.sink.received - received
        finally:
            await contender.stop()
        return {"name": contender.name, "title": contender.title, "available": True, **found}


async def run(settings: Settings, workdir: Path, open_files: dict[str, Any]) -> dict[str, Any]:
    mix = build(settings.shared, settings.rows, settings.messages, settings.warmup)
    bench = Run(settings, workdir, mix)
    try:
        await bench.sink.start()
        await bench.drivers.start()
        results = await bench.saturating()
        paced = await bench.paced(results)
        memory_phase = await bench.memory()
    finally:
        await bench.drivers.stop()
        await bench.sink.stop()
        dns = None
        if bench.tokuden is not None:
            dns = {
                "server": f"127.0.0.1:{bench.tokuden.dns.port} (UDP and TCP)",
                "names": bench.tokuden.names,
                "queries": len(bench.tokuden.dns.queries),
            }
            bench.tokuden.dns.close()
    named = {r["name"]: r for r in results}
    ratios = {f"{a}/{b}": ratio(named[a], named[b]) for a, b in RATIOS if a in named and b in named}
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "sink": {"kind": bench.sink.kind, "command": " ".join(bench.sink.command)},
        "concurrency": settings.concurrency,
        "drivers": {
            "processes": len(bench.drivers.shares(settings.concurrency)),
            "connections_each": bench.drivers.shares(settings.concurrency),
        },
        "workers": settings.workers,
        "open_files": open_files,
        "store_rows": settings.rows,
        "dns": dns,
        "mix": mix.summary(),
        "contenders": results,
        "ratios": ratios,
        "paced": paced,
        "memory": memory_phase,
    }
    report["targets"] = targets(report)
    return report


def main(settings: Settings, as_json: bool) -> int:
    if not procstat.available():
        print("tokuden bench: needs Linux's /proc to measure CPU and memory", file=sys.stderr)
        return 2
    before = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    soft, hard = raise_open_files()  # before any child starts: they inherit it
    open_files = {"soft_before": before, "soft": soft, "hard": hard}
    if settings.memory and soft != resource.RLIM_INFINITY and soft < settings.idle + 200:
        print(
            f"tokuden bench: {settings.idle:,} idle connections need more open files than"
            f" the hard limit here ({hard:,}); raise it (ulimit -Hn) or pass a smaller"
            " --idle-connections",
            file=sys.stderr,
        )
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="tokuden-bench-"))
    workdir.chmod(0o755)  # Postfix's daemons (user postfix) work below it
    try:
        report = asyncio.run(run(settings, workdir, open_files))
    finally:
        if settings.keep:
            print(f"bench: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else render(report))
    return 0
