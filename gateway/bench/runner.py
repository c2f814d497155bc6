"""One ``tokuden bench`` run: start the sink, drive the mix through each contender, report.

Per contender: messages/s (for a contender that queues, until the sink has every message
it accepted), p50/p99 latency from the end of DATA to the reply, CPU ms per message of
the contender's own processes, peak memory, and the replies by class and message kind.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
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

from gateway.bench import procstat, world
from gateway.bench.contenders import (
    BareRelay,
    Contender,
    ContenderError,
    Postfix,
    Sink,
    SinkContender,
    Tokuden,
)
from gateway.bench.driver import NO_REPLY, Outcome, drive
from gateway.bench.mix import KINDS, Mix, build

CONTENDERS = ("sink", "bare", "postfix", "tokuden")
DRAIN_TIMEOUT = 300.0  # seconds a queueing contender gets to hand the sink what it accepted
CLASSES = ("accepted", "rejected", "deferred", "failed")


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


def summarise(
    contender: Contender,
    mix: Mix,
    outcome: Outcome,
    cpu_seconds: float,
    drain_seconds: float,
    memory: procstat.Memory,
    sink_received: int,
    driver_cpu: float,
) -> dict[str, Any]:
    n = len(outcome.codes)
    wall = outcome.seconds + drain_seconds
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
    return {
        "name": contender.name,
        "title": contender.title,
        "available": True,
        "reason": None,
        "messages": n,
        "answered": sum(1 for c in outcome.codes if c != NO_REPLY),
        "seconds": round(wall, 3),
        "drain_seconds": round(drain_seconds, 3),
        "messages_per_s": round(n / wall, 1) if wall else None,
        "latency_ms": {
            "p50": _ms(percentile(latencies, 0.50)),
            "p99": _ms(percentile(latencies, 0.99)),
            "max": _ms(latencies[-1] if latencies else None),
            "samples": len(latencies),
        },
        "cpu_seconds": round(cpu_seconds, 3),
        "cpu_ms_per_message": round(1000 * cpu_seconds / n, 3) if n else None,
        "peak_rss_mib": round(max(memory.peak_rss_sum, memory.peak_hwm) / 1024, 1),
        "peak_pss_mib": round(memory.peak_pss_sum / 1024, 1),
        "processes": memory.processes,
        "memory_note": contender.memory_note,
        "replies": {c: replies.get(c, 0) for c in CLASSES},
        "by_kind": {
            kind: {c: by_kind[kind].get(c, 0) for c in CLASSES} for kind in KINDS if kind in by_kind
        },
        "expected": {"checked": checked, "matched": matched, "mismatches": mismatches},
        "sink_received": sink_received,
        "reconnects": outcome.reconnects,
        "driver_cpu_ms_per_message": round(1000 * driver_cpu / n, 3) if n else None,
    }


def unavailable(contender: Contender, reason: str) -> dict[str, Any]:
    return {"name": contender.name, "title": contender.title, "available": False, "reason": reason}


async def measure(contender: Contender, sink: Sink, mix: Mix, concurrency: int) -> dict[str, Any]:
    try:
        port = await contender.start()
    except ContenderError as exc:
        await contender.stop()
        return unavailable(contender, str(exc))
    try:
        with procstat.MemorySampler(contender.pid) as sampler:
            received_before = sink.received
            warm = await drive("127.0.0.1", port, mix, 0, mix.warmup, concurrency)
            accepted_warm = sum(1 for c in warm.codes if reply_class(c) == "accepted")
            if contender.queues:
                await sink.wait_received(received_before + accepted_warm, DRAIN_TIMEOUT)
            received_mid = sink.received
            cpu_before = procstat.tree_cpu_seconds(contender.pid)
            driver_before = time.process_time()
            outcome = await drive("127.0.0.1", port, mix, mix.warmup, mix.messages, concurrency)
            drain = 0.0
            if contender.queues:
                accepted = sum(1 for c in outcome.codes if reply_class(c) == "accepted")
                drain_started = time.perf_counter()
                await sink.wait_received(received_mid + accepted, DRAIN_TIMEOUT)
                drain = time.perf_counter() - drain_started
            driver_cpu = time.process_time() - driver_before
            cpu = procstat.tree_cpu_seconds(contender.pid) - cpu_before
            received = sink.received - received_mid
        return summarise(contender, mix, outcome, cpu, drain, sampler.memory, received, driver_cpu)
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


async def run(settings: Settings, workdir: Path) -> dict[str, Any]:
    mix = build(settings.shared, settings.rows, settings.messages, settings.warmup)
    sink = Sink(workdir)
    results: list[dict[str, Any]] = []
    try:
        await sink.start()
        for name in CONTENDERS:
            if name not in settings.only:
                continue
            contender = await _contender(name, settings, workdir, sink)
            reason = contender.unavailable()
            if reason:
                results.append(unavailable(contender, reason))
                continue
            print(f"bench: {contender.name} ...", file=sys.stderr, flush=True)
            results.append(await measure(contender, sink, mix, settings.concurrency))
    finally:
        await sink.stop()
    named = {r["name"]: r for r in results}
    ratios = {}
    for other, label in (("bare", "tokuden/bare"), ("postfix", "tokuden/postfix")):
        if "tokuden" in named and other in named:
            ratios[label] = ratio(named["tokuden"], named[other])
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "sink": {"kind": sink.kind, "command": " ".join(sink.command)},
        "concurrency": settings.concurrency,
        "store_rows": settings.rows,
        "mix": mix.summary(),
        "contenders": results,
        "ratios": ratios,
    }


async def _contender(name: str, settings: Settings, workdir: Path, sink: Sink) -> Contender:
    c = settings.concurrency
    if name == "sink":
        return SinkContender(workdir, sink, c)
    if name == "bare":
        return BareRelay(workdir, sink, c)
    if name == "postfix":
        return Postfix(workdir, sink, c)
    return await asyncio.to_thread(_tokuden, settings, workdir, sink)


def _tokuden(settings: Settings, workdir: Path, sink: Sink) -> Tokuden:
    examples = settings.shared / "examples"
    keys = world.dkim_keys(settings.cache)
    profiles = world.senders(examples, keys)
    store = settings.cache / f"consent-{settings.rows}.db"
    config = world.write_config(
        workdir / "tokuden.toml",
        listen_port=procstat.free_port(),
        next_hop_port=sink.port,
        store=store,
        log=workdir / "decisions.log",
        profiles=profiles,
    )
    world.consent_store(settings.cache, settings.rows, examples, config)
    return Tokuden(workdir, sink, settings.concurrency, config, settings.rows)


# --------------------------------------------------------------------------- the report


def _fmt(value: Any, spec: str = "") -> str:
    return "n/a" if value is None else format(value, spec)


def _ratio_text(r: dict[str, Any] | None) -> str:
    if r is None:
        return "n/a (a contender did not run)"
    return (
        f"{_fmt(r['messages_per_s'], '.2f')}x messages/s, "
        f"{_fmt(r['cpu_ms_per_message'], '.2f')}x CPU per message, "
        f"p50 {_fmt(r['p50_added_ms'], '+.2f')} ms, p99 {_fmt(r['p99_added_ms'], '+.2f')} ms, "
        f"{_fmt(r['peak_rss'], '.2f')}x peak memory"
    )


def render(report: dict[str, Any]) -> str:
    m, mix = report["machine"], report["mix"]
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(mix["kinds"].items()))
    out = [
        f"tokuden bench, {report['date']}: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}",
        f"mix: {mix['messages']:,} messages (after {mix['warmup']:,} warm-up), "
        f"{mix['distinct']} distinct, same order for every contender: {kinds}",
        f"     {mix['recipients']:,} recipients, {mix['bytes_total'] / 2**20:,.1f} MiB, "
        f"median {mix['bytes_median'] / 1024:.1f} KiB, largest {mix['bytes_max'] / 1024:.1f} KiB",
        f"load: {report['concurrency']} aiosmtplib connections, many messages each; "
        f"tokuden's consent store: {report['store_rows']:,} rows (SQLite)",
        f"sink: {report['sink']['kind']}: {report['sink']['command']}",
        "",
    ]
    head = (
        "contender",
        "msg/s",
        "p50 ms",
        "p99 ms",
        "CPU ms/msg",
        "peak MiB",
        "accepted",
        "rejected",
        "deferred",
        "failed",
    )
    rows = [head]
    for r in report["contenders"]:
        if not r["available"]:
            rows.append((r["name"], "unavailable", "", "", "", "", "", "", "", ""))
            continue
        lat, rep = r["latency_ms"], r["replies"]
        rows.append((
            r["name"], _fmt(r["messages_per_s"], ",.1f"), _fmt(lat["p50"], ".2f"),
            _fmt(lat["p99"], ".2f"), _fmt(r["cpu_ms_per_message"], ".2f"),
            _fmt(r["peak_rss_mib"], ",.1f"), *(f"{rep[c]:,}" for c in CLASSES),
        ))  # fmt: skip
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    for row in rows:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in
                 enumerate(zip(row, widths, strict=True))]  # fmt: skip
        out.append("  ".join(cells).rstrip())
    out.append("")
    for label, r in report["ratios"].items():
        out.append(f"{label.replace('/', ' / ')}: {_ratio_text(r)}")
    if report["ratios"]:
        out.append("")
    for r in report["contenders"]:
        if not r["available"]:
            out.append(f"{r['name']}: UNAVAILABLE: {r['reason']}")
            continue
        exp = r["expected"]
        answered = "every message answered" if r["answered"] == r["messages"] else (
            f"{r['messages'] - r['answered']} messages NOT answered")  # fmt: skip
        out.append(f"{r['name']}: {r['title']}")
        out.append(
            f"  {answered}; {exp['matched']:,}/{exp['checked']:,} replies as expected; "
            f"{r['seconds']:.2f} s; sink received {r['sink_received']:,}; "
            f"{r['cpu_seconds']:.2f} CPU s; driver {_fmt(r['driver_cpu_ms_per_message'], '.2f')}"
            f" CPU ms/msg"
        )
        if r["drain_seconds"]:
            out.append(
                f"  queues: msg/s counts until the sink had every accepted message "
                f"({r['drain_seconds']:.2f} s after the last reply)"
            )
        out.append(
            f"  memory: {r['memory_note']}: RSS {r['peak_rss_mib']:,.1f} MiB, "
            f"PSS {r['peak_pss_mib']:,.1f} MiB, {r['processes']} process(es)"
        )
        kinds_line = "; ".join(
            f"{kind} {v['accepted']}/{v['rejected']}/{v['deferred']}/{v['failed']}"
            for kind, v in r["by_kind"].items()
        )
        out.append(f"  by kind (accepted/rejected/deferred/failed): {kinds_line}")
        for miss in exp["mismatches"]:
            out.append(f"  unexpected: {miss}")
    return "\n".join(out)


def main(settings: Settings, as_json: bool) -> int:
    if not procstat.available():
        print("tokuden bench: needs Linux's /proc to measure CPU and memory", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="tokuden-bench-"))
    workdir.chmod(0o755)  # Postfix's daemons (user postfix) work below it
    try:
        report = asyncio.run(run(settings, workdir))
    finally:
        if settings.keep:
            print(f"bench: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else render(report))
    return 0
