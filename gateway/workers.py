"""``tokuden serve --workers N``: a supervisor and N worker processes on the same addresses.

Why processes, and why re-executed ones
    CPU-bound work (parsing, policies, DKIM) scales with processes, not threads.
    Each worker is a fresh ``python -m gateway serve --worker-fd FD``: nothing is
    forked from a process that already has threads or an event loop, and every
    worker opens its own store connection, next-hop pool, decision log handle and
    keys, sharing nothing but the config file and the consent store. A worker
    started later (a replacement) reads the config file as a restart would.

Listening
    Each worker binds every ``server.listen`` address with SO_REUSEPORT and the
    kernel spreads new connections among them. The supervisor binds nothing; it
    first checks that each address could be bound *without* SO_REUSEPORT, so that
    a port held by another program — or by another gateway of the same user,
    which SO_REUSEPORT would otherwise silently share connections with — stops
    the serve with the same one-line message as a single process gives.

The channel
    A socketpair per worker. The worker writes one line: ``ready`` once it
    listens, or ``failed REASON`` (and exits 2). The supervisor never writes;
    when it goes away (even killed with SIGKILL) the worker reads end-of-file and
    stops as on SIGTERM, so no orphan keeps the port.

Signals
    SIGTERM, SIGINT: forwarded to every worker, none is restarted any more; the
    supervisor exits once they all have. SIGHUP: forwarded to every ready worker
    (each reloads on its own and prints the result); a worker still starting
    gets it once ready. A worker that exits otherwise is replaced after a
    backoff: 0.5 s, doubled (up to 30 s) while replacements keep dying within
    30 s of their start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from gateway.commands.serve import cannot_listen, write_line
from gateway.config import Config

READY = "ready"
FAILED = "failed"
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE = 30.0
"""A worker that ran this long before dying gets the first, short backoff again."""


class WorkerChannel:
    """A worker's end of the channel (see the module text)."""

    def __init__(self, fd: int) -> None:
        os.set_inheritable(fd, False)
        self._sock = socket.socket(fileno=fd)
        self._sock.setblocking(False)
        self.hangup_requested = False
        # Until the event loop takes SIGHUP over, its default action would kill a
        # worker that is still starting: remember it, reload once ready.
        signal.signal(signal.SIGHUP, self._early_hangup)

    def _early_hangup(self, signum: int, frame: FrameType | None) -> None:
        self.hangup_requested = True

    async def ready(self) -> None:
        await self._send(READY)

    async def failed(self, reason: str) -> None:
        await self._send(f"{FAILED} {' '.join(reason.split())}")

    async def closed(self) -> None:
        """Returns when the supervisor has gone away."""
        loop = asyncio.get_running_loop()
        while await loop.sock_recv(self._sock, 512):
            pass

    async def _send(self, line: str) -> None:
        with contextlib.suppress(OSError):  # the supervisor is gone; closed() will say so
            await asyncio.get_running_loop().sock_sendall(self._sock, f"{line}\n".encode())


@dataclass
class _Worker:
    process: asyncio.subprocess.Process
    channel: asyncio.StreamWriter  # closing it tells the worker the supervisor is gone
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    hangup_pending: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # exited already; its keeper sees it
            self.process.send_signal(sig)


class Supervisor:
    """Starts the workers, forwards signals, replaces the ones that die."""

    def __init__(self, config: Config, path: str | None, count: int) -> None:
        self.config = config
        self.path = path
        self.workers: list[_Worker | None] = [None] * count
        self.stopping = False
        self._stopped = asyncio.Event()

    async def run(self) -> int:
        problem = check_listeners(self.config)
        if problem is not None:
            return _fail(problem)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop, sig)
        loop.add_signal_handler(signal.SIGHUP, self._hangup)
        failures = [
            f for f in await asyncio.gather(*map(self._start, range(len(self.workers)))) if f
        ]
        if failures or self.stopping:
            asked = self.stopping  # a SIGTERM during the start: not a failure
            self._halt(signal.SIGTERM)
            await asyncio.gather(*(w.process.wait() for w in self.workers if w is not None))
            if asked:
                _say("stopped")
                return 0
            return _fail(failures[0])
        where = ", ".join(str(listener) for listener in self.config.server.listen)
        pids = ", ".join(str(w.pid) for w in self.workers if w is not None)
        _say(
            f"listening on {where} (config: {self.config.source}; "
            f"next hop: {self.config.relay.next_hop}; {len(self.workers)} workers: {pids})"
        )
        keepers = [asyncio.ensure_future(self._keep(slot)) for slot in range(len(self.workers))]
        await self._stopped.wait()
        codes = await asyncio.gather(*keepers)
        _say("stopped")
        return 0 if not any(codes) else 1

    async def _start(self, slot: int) -> str | None:
        """Start the worker of ``slot``; None once it listens, else why it did not start."""
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "gateway", "serve", "--worker-fd", str(theirs.fileno())]
        if self.path is not None:
            command += ["--config", self.path]
        # The listeners checked at start, whatever the file says now: a worker started
        # later (a replacement) must share the port of the others, not move to a new one.
        for listener in self.config.server.listen:
            command += ["--worker-listen", str(listener)]
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, pass_fds=[theirs.fileno()]
            )
        except OSError as exc:
            ours.close()
            return f"cannot start a worker: {exc}"
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        worker = self.workers[slot] = _Worker(process, writer)
        if self.stopping:  # a stop came while it was being started
            worker.signal(signal.SIGTERM)
        line = (await reader.readline()).decode("utf-8", "replace").strip()
        if line == READY:
            worker.ready = True
            if worker.hangup_pending:
                worker.signal(signal.SIGHUP)
            return None
        code = await process.wait()
        writer.close()
        if line.startswith(FAILED):
            return line[len(FAILED) :].strip()
        return f"worker {process.pid} exited ({_exit(code)}) before it was ready"

    async def _keep(self, slot: int) -> int:
        """Wait for the slot's worker to exit; replace it unless stopping. Its last exit code."""
        quick = 0  # replacements in a row that died soon after starting
        while True:
            worker = self.workers[slot]
            assert worker is not None
            code = await worker.process.wait()
            worker.channel.close()
            if self.stopping:  # killed by the forwarded signal before it could handle it: fine
                return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code
            if time.monotonic() - worker.started >= STABLE:
                quick = 0
            why = f"worker {worker.pid} exited unexpectedly ({_exit(code)})"
            while True:
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2**quick)
                quick += 1
                _say(f"{why}; starting another in {delay:g} s")
                try:
                    await asyncio.wait_for(self._stopped.wait(), delay)
                    return 0  # stopped during the backoff: nothing runs in this slot
                except TimeoutError:
                    pass
                failure = await self._start(slot)
                if failure is None:
                    break
                if self.stopping:
                    return 0
                why = f"the worker to replace {worker.pid} did not start: {failure}"
            replacement = self.workers[slot]
            assert replacement is not None
            _say(f"worker {replacement.pid} ready (replaces {worker.pid})")

    def _stop(self, sig: int) -> None:
        """SIGTERM, SIGINT."""
        first = not self.stopping
        self._halt(sig)
        if first:
            _say(f"stopping: the workers finish the messages in flight ({self._alive()} running)")

    def _halt(self, sig: int) -> None:
        self.stopping = True
        self._stopped.set()
        for worker in self.workers:
            if worker is not None:
                worker.signal(sig)

    def _hangup(self) -> None:
        for worker in self.workers:
            if worker is None:
                continue
            if worker.ready:
                worker.signal(signal.SIGHUP)
            else:
                worker.hangup_pending = True

    def _alive(self) -> int:
        return sum(1 for w in self.workers if w is not None and w.process.returncode is None)


def check_listeners(config: Config) -> str | None:
    """Why some ``server.listen`` address cannot be bound by us alone, or None.

    Bound without SO_REUSEPORT (and closed again), so that an address another
    socket listens on fails here even if that socket set SO_REUSEPORT too.
    """
    for listener in config.server.listen:
        try:
            addresses = socket.getaddrinfo(
                listener.host, listener.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
            for family, kind, proto, _, address in addresses:
                with socket.socket(family, kind, proto) as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:
                        probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    probe.bind(address)
        except OSError as exc:
            return cannot_listen(config, exc)
    return None


def _exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _say(text: str) -> None:
    write_line(f"tokuden: {text}")


def _fail(reason: str) -> int:
    write_line(f"tokuden: {reason}", sys.stderr)
    return 2
