"""``tokuden serve``: run the gateway until SIGTERM or SIGINT; SIGHUP re-reads the DKIM keys."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from gateway.commands import add_config_argument
from gateway.config import Config, load


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the SMTP gateway")
    add_config_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(load(args.config)))


async def _serve(config: Config) -> int:
    # Imported here so that check and consent do not pay for the SMTP stack.
    from gateway.service import Gateway
    from gateway.signing import SigningKeyError
    from gateway.smtp import start_server
    from gateway.store import StoreError

    try:
        gateway = await Gateway.open(config)
    except (StoreError, SigningKeyError, OSError) as exc:
        return _fail(f"cannot start: {exc}")
    try:
        server = await start_server(config, gateway)
    except OSError as exc:
        await gateway.close()
        where = ", ".join(str(listener) for listener in config.server.listen)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        return _fail(f"cannot listen on {where}: {reason}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = asyncio.ensure_future(_reload_keys(gateway))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    where = ", ".join(f"{config.server.listen[0].host}:{port}" for port in server.ports)
    print(
        f"tokuden: listening on {where} (config: {config.source}; "
        f"next hop: {config.relay.next_hop})",
        flush=True,
    )
    try:
        await stop.wait()
        print("tokuden: stopping: finishing messages in flight", flush=True)
    finally:
        await server.close()
        await gateway.close()
    print("tokuden: stopped", flush=True)
    return 0


async def _reload_keys(gateway: Any) -> None:
    from gateway.signing import SigningKeyError

    try:
        done = await gateway.reload_keys()
    except SigningKeyError as exc:
        print(f"tokuden: SIGHUP: keys not reloaded, the old ones stay in use: {exc}", flush=True)
    else:
        print(f"tokuden: SIGHUP: {done}", flush=True)


def _fail(reason: str) -> int:
    print(f"tokuden: {reason}", file=sys.stderr)
    return 2
