"""``tokuden serve``: run the gateway until SIGTERM or SIGINT; SIGHUP reloads config and keys.

With ``--workers N`` (or ``server.workers``) above 1, this process becomes the
supervisor of N workers (``gateway.workers``); each worker runs :func:`_serve` too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import resource
import signal
import socket
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from gateway.commands import add_config_argument
from gateway.config import Config, ConfigError, Listener, load, parse_listener

if TYPE_CHECKING:
    from gateway.reload import LiveGateway
    from gateway.workers import WorkerChannel

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the SMTP gateway")
    add_config_argument(p)
    p.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="processes sharing the listen addresses (SO_REUSEPORT); default: server.workers, 1",
    )
    # A worker of a supervisor: FD is its end of the supervisor's socketpair.
    p.add_argument("--worker-fd", type=int, metavar="FD", help=argparse.SUPPRESS)
    # ... and the listen addresses its supervisor checked, one per option.
    p.add_argument("--worker-listen", action="append", default=[], help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1 or more)")
    return value


def raise_open_files() -> tuple[int, int]:
    """Lift the soft limit of open files to the hard one; the (soft, hard) now in force.

    Every SMTP connection holds a descriptor, and shells and services often start
    processes with a soft limit of 1,024 under a far higher hard one: without this,
    a default, not the operator's hard limit (systemd ``LimitNOFILE``), would bound the
    connections a gateway can hold. Workers inherit the raised limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:  # Linux refuses more than fs.nr_open
        try:
            with open("/proc/sys/fs/nr_open") as f:
                target = int(f.read())
        except (OSError, ValueError):
            return soft, hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    now: tuple[int, int] = resource.getrlimit(resource.RLIMIT_NOFILE)
    return now


def run(args: argparse.Namespace) -> int:
    raise_open_files()
    if args.worker_fd is not None:
        from gateway.workers import WorkerChannel

        channel = WorkerChannel(args.worker_fd)
        listen = tuple(parse_listener(value) for value in args.worker_listen)
        return asyncio.run(_work(args.config, channel, listen))
    config = load(args.config)
    workers: int = args.workers or config.server.workers
    if workers > 1:
        from gateway.workers import Supervisor

        return asyncio.run(Supervisor(config, args.config, workers).run())
    return asyncio.run(_serve(config, args.config))


async def _work(path: str | None, channel: WorkerChannel, listen: tuple[Listener, ...]) -> int:
    """A worker reads the config itself: a replacement started later reads it as a restart
    would, but listens where its supervisor's workers do (``listen``); a fault goes to the
    supervisor, which prints it once for all workers."""
    try:
        config = load(path)
    except ConfigError as exc:
        await channel.failed(str(exc))
        return 2
    if listen:
        config = replace(config, server=replace(config.server, listen=listen))
    return await _serve(config, path, channel)


async def _serve(config: Config, path: str | None, channel: WorkerChannel | None = None) -> int:
    # Imported here so that check and consent do not pay for the SMTP stack.
    from gateway.reload import OPEN_ERRORS, LiveGateway
    from gateway.service import Gateway
    from gateway.smtp import start_server

    say = _Say(channel)
    try:
        gateway = await Gateway.open(config)
    except OPEN_ERRORS as exc:
        return await say.fail(str(exc) if isinstance(exc, ConfigError) else f"cannot start: {exc}")
    live = LiveGateway(gateway, lambda: load(path))
    try:
        server = await start_server(config, live, reuse_port=channel is not None)
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
    if channel is None:
        where = ", ".join(server.addresses)
        say(f"listening on {where} (config: {config.source}; next hop: {config.relay.next_hop})")
    else:
        await channel.ready()
        orphaned = asyncio.ensure_future(channel.closed())  # the supervisor is gone
        orphaned.add_done_callback(lambda _: stop.set())
        if channel.hangup_requested:  # a SIGHUP that came while the worker was starting
            hangup()
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


def write_line(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` and its newline in one write: the workers share stdout, and under
    PYTHONUNBUFFERED (usual in containers) print() writes the newline on its own, so two
    processes' lines would interleave. A stdout that is gone (its reader died) is no
    reason to stop stopping or reloading."""
    out = sys.stdout if stream is None else stream
    with contextlib.suppress(OSError):
        out.write(f"{text}\n")
        out.flush()


class _Say:
    """``tokuden: ...`` lines on stdout; a worker's carry its pid, its start faults go to the
    supervisor instead of stderr."""

    def __init__(self, channel: WorkerChannel | None) -> None:
        self.channel = channel
        self.prefix = "tokuden: " if channel is None else f"tokuden: worker {os.getpid()}: "

    def __call__(self, text: str) -> None:
        write_line(f"{self.prefix}{text}")

    async def fail(self, reason: str) -> int:
        if self.channel is not None:
            await self.channel.failed(reason)
        else:
            write_line(f"tokuden: {reason}", sys.stderr)
        return 2
