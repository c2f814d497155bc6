"""``tokuden serve``: run the gateway until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TYPE_CHECKING, Any

from gateway.commands import add_config_argument
from gateway.config import Config, load

if TYPE_CHECKING:
    from gateway.service import Gateway


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the SMTP gateway")
    add_config_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that check and consent do not pay for the SMTP stack.
    from gateway.service import Gateway

    config = load(args.config)
    gateway = Gateway.open(config)
    asyncio.run(_serve(config, gateway))
    return 0


async def _serve(config: Config, gateway: Gateway) -> None:
    from gateway.smtp import start_server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await start_server(config, gateway)
    listening = ", ".join(str(listener) for listener in config.server.listen)
    print(
        f"tokuden: listening on {listening} (config: {config.source}; "
        f"next hop: {config.relay.next_hop})",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await server.close()
        await gateway.close()
