"""``tokuden serve``: run the gateway until SIGTERM or SIGINT; SIGHUP reloads config and keys."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any

from gateway.commands import add_config_argument
from gateway.config import Config, ConfigError, load

if TYPE_CHECKING:
    from gateway.reload import LiveGateway

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the SMTP gateway")
    add_config_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(load(args.config), args.config))


async def _serve(config: Config, path: str | None) -> int:
    # Imported here so that check and consent do not pay for the SMTP stack.
    from gateway.reload import OPEN_ERRORS, LiveGateway
    from gateway.service import Gateway
    from gateway.smtp import start_server

    say = _Say()
    try:
        gateway = await Gateway.open(config)
    except OPEN_ERRORS as exc:
        return await say.fail(str(exc) if isinstance(exc, ConfigError) else f"cannot start: {exc}")
    live = LiveGateway(gateway, lambda: load(path))
    try:
        server = await start_server(config, live)
    except OSError as exc:
        await live.close()
        return await say.fail(cannot_listen(config, exc))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = asyncio.ensure_future(_reload(live, say))
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
        say("stopping: finishing messages in flight")
    finally:
        await server.close()
        await live.close()  # waits for a reload under way
    say("stopped")
    return 0


async def _reload(live: LiveGateway, say: _Say) -> None:
    """SIGHUP: one line saying what was reloaded, or why nothing was."""
    from gateway.reload import ReloadError

    try:
        done = await live.reload()
    except ReloadError as exc:
        say(f"SIGHUP: not reloaded, the old config and keys stay in use: {exc}")
    except Exception as exc:  # a bug must not take the running gateway down
        log.exception("SIGHUP: reload failed")
        say(f"SIGHUP: not reloaded, the old config and keys stay in use: {exc!r}")
    else:
        for note in done.notes():
            say(f"SIGHUP: {note}")
        say(f"SIGHUP: {done.summary()}")


def cannot_listen(config: Config, exc: OSError) -> str:
    """The one-line reason a listen address cannot be bound (the serve fails with exit 2)."""
    where = ", ".join(str(listener) for listener in config.server.listen)
    if isinstance(exc, socket.gaierror):
        reason = exc.strerror or str(exc)
    else:  # asyncio rewords bind errors; the errno's own text is the one operators know
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"cannot listen on {where}: {reason}"


class _Say:
    """``tokuden: ...`` lines on stdout, start faults on stderr."""

    prefix = "tokuden: "

    def __call__(self, text: str) -> None:
        with contextlib.suppress(OSError):  # stdout gone: the stop or reload goes on regardless
            print(f"{self.prefix}{text}", flush=True)

    async def fail(self, reason: str) -> int:
        print(f"tokuden: {reason}", file=sys.stderr)
        return 2
