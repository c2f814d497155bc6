"""Where one message's time goes: ``Gateway.deliver`` over tokuden bench's mix, profiled.

    make profile                       # = .venv/bin/python benchmarks/profile_path.py
    .venv/bin/python benchmarks/profile_path.py --messages 2000 --stages

The gateway is built exactly as ``tokuden bench`` builds its ``tokuden``
contender (every built-in policy, the bench's consent store of ``--rows``
records in ``var/bench/``, DKIM RSA-2048 + Ed25519, the senders' SPF, DMARC
and key records served on loopback, the decision log, an SMTP sink as next
hop) and fed the bench's messages in the bench's order, in this process, so
that a profiler sees every step; the SMTP session in front (aiosmtpd) is not
in it. Prints CPU ms per message, then pyinstrument's call tree (``make
profile`` installs it; without it, cProfile's top functions), or with
``--stages`` the CPU of each step of the path.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway import pipeline, service  # noqa: E402
from gateway.bench import mix, world  # noqa: E402
from gateway.bench.contenders import Sink  # noqa: E402
from gateway.config import load  # noqa: E402
from gateway.dnsserver import ZoneServer  # noqa: E402
from gateway.service import Gateway, Session  # noqa: E402

STAGES: dict[str, float] = collections.defaultdict(float)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` counting its process CPU under ``name`` (concurrent steps overlap)."""
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def waited(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                STAGES[name] += time.process_time() - started

        return waited

    @functools.wraps(fn)
    def called(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES[name] += time.process_time() - started

    return called


def _stages(gateway: Gateway) -> None:
    # the names the service and the pipeline call, rebound in their modules
    setattr(service, "parse", _timed("parse", getattr(service, "parse")))  # noqa: B009, B010
    setattr(pipeline, "classify", _timed("classify", getattr(pipeline, "classify")))  # noqa: B009, B010
    for policy in gateway.pipeline.policies:
        policy.check = _timed(f"policy {policy.name}", policy.check)  # type: ignore[method-assign]
    steps: dict[str, tuple[object, str]] = {
        "consent lookup": (gateway.pipeline, "_consent"),
        "DKIM signing": (gateway.keys, "sign"),
        "next hop": (gateway.next_hop, "send"),
        "last-sent write": (gateway.store, "record_sent"),
        "DSN": (gateway, "_send_dsn"),
        "decision log": (gateway.log, "write"),
    }
    for name, (owner, attr) in steps.items():
        setattr(owner, attr, _timed(name, getattr(owner, attr)))


async def _run(args: argparse.Namespace, workdir: Path) -> None:
    shared = args.shared.resolve()
    examples = shared / "examples"
    keys = world.dkim_keys(args.cache)
    profiles = world.senders(examples, keys)
    dns = ZoneServer(world.zone(profiles, keys))
    sink = Sink(workdir)
    await sink.start()
    try:
        config_path = world.write_config(
            workdir / "tokuden.toml",
            listen_port=10025,  # never bound: the messages are handed to deliver()
            next_hop_port=sink.port,
            store=args.cache / f"consent-{args.rows}.db",
            log=workdir / "decisions.log",
            profiles=profiles,
            dns_port=dns.port,
            max_message_size=64 << 20,
        )
        world.consent_store(args.cache, args.rows, examples, config_path)
        deck = mix.build(shared, args.rows, args.messages, args.warmup)
        gateway = await Gateway.open(load(str(config_path)))
        try:
            await _deliver_all(args, deck, gateway)
        finally:
            await gateway.close()
    finally:
        await sink.stop()
        dns.close()


async def _deliver_all(args: argparse.Namespace, deck: mix.Mix, gateway: Gateway) -> None:
    session = Session(peer="127.0.0.1")
    mails = [deck.mail(k) for k in range(deck.warmup + deck.messages)]
    datas = [m.payload[: -len(b".\r\n")].replace(b"\r\n..", b"\r\n.") for m in mails]

    async def deliver(k: int) -> None:
        await gateway.deliver(session, mails[k].mail_from, list(mails[k].rcpt_tos), datas[k])

    for k in range(deck.warmup):
        await deliver(k)
    measured = range(deck.warmup, len(mails))
    if args.stages:
        _stages(gateway)
        cpu = await _cpu(measured, deliver)
        print(f"Gateway.deliver: {cpu:.3f} CPU ms per message over {deck.messages} messages")
        for name, seconds in sorted(STAGES.items(), key=lambda kv: -kv[1]):
            print(f"  {name:18} {1000 * seconds / deck.messages:7.3f} ms")
        return
    try:
        from pyinstrument import Profiler
    except ImportError:
        profile = cProfile.Profile()
        profile.enable()
        cpu = await _cpu(measured, deliver)
        profile.disable()
        print(f"Gateway.deliver: {cpu:.3f} CPU ms per message (under cProfile)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    cpu = await _cpu(measured, deliver)
    profiler.stop()
    print(f"Gateway.deliver: {cpu:.3f} CPU ms per message (under pyinstrument)")
    print(profiler.output_text(unicode=False, color=False))


async def _cpu(measured: range, deliver: Callable[[int], Awaitable[None]]) -> float:
    started = time.process_time()
    for k in measured:
        await deliver(k)
    return 1000 * (time.process_time() - started) / len(measured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1_000_000, help="consent records")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--stages", action="store_true", help="CPU per step, no profiler")
    args = parser.parse_args()
    args.cache = args.cache.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="profile_path-"))
    try:
        asyncio.run(_run(args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
