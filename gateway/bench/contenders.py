"""The processes under test: the sink, the bare relay, Postfix and tokuden.

Each contender is started as its own process (tree), so that the CPU and memory it
reports are its own and never the driver's; readiness is a line the process prints or
its port appearing in the kernel's listen table, never a fixed wait.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.bench import procstat
from gateway.bench.bare import READY as BARE_READY

SMTP_SINK = "/usr/sbin/smtp-sink"
POSTFIX = "/usr/sbin/postfix"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0
_MESG = re.compile(rb"mesg=(\d+)")


class ContenderError(Exception):
    """A contender that could not start or stop; the text says why."""


class Watcher:
    """Reads a process's stdout in a thread: the line that says it is ready, and the
    ``mesg=N`` counters of a sink (Postfix's ``smtp-sink -c`` and ours print them)."""

    def __init__(self, process: subprocess.Popen[bytes], ready: bytes | None) -> None:
        self.process = process
        self.ready_prefix = ready
        self.ready_line = ""
        self.messages = 0
        self.tail: list[str] = []
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="bench-watch", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        pending = b""
        while chunk := os.read(stream.fileno(), 65536):
            pending += chunk
            *lines, pending = re.split(rb"[\r\n]", pending)
            for line in lines:
                self._line(line)
        self._line(pending)
        self._ready.set()  # the process closed its output: waiting is over either way
        with self._changed:
            self._changed.notify_all()

    def _line(self, line: bytes) -> None:
        if not line:
            return
        if found := _MESG.search(line):
            with self._changed:
                self.messages = int(found.group(1))
                self._changed.notify_all()
            return
        text = line.decode("utf-8", "replace")
        self.tail = [*self.tail[-19:], text]
        if self.ready_prefix is not None and line.startswith(self.ready_prefix):
            self.ready_line = text
            self._ready.set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout) and bool(self.ready_line)

    def wait_messages(self, target: int, timeout: float) -> bool:
        """Block until the sink counted ``target`` messages (or its output ended)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.messages < target and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return self.messages >= target


def _spawn(cmd: Sequence[str], stderr: Path) -> subprocess.Popen[bytes]:
    with stderr.open("wb") as err:
        return subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
        )


async def _until_listening(port: int, alive: subprocess.Popen[bytes] | None, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not procstat.is_listening(port):
        if alive is not None and alive.poll() is not None:
            raise ContenderError(f"{what} exited with status {alive.returncode}")
        if time.monotonic() > deadline:
            raise ContenderError(f"{what} did not listen on port {port}")
        await asyncio.sleep(0.01)  # polling the listen table, not waiting for time to pass


async def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


def _wait_gone(pid: int, seconds: float) -> None:
    """Poll until ``pid`` (not our child: Postfix's master) has exited."""
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


# --------------------------------------------------------------------------- the sink


@dataclass
class Sink:
    """The next hop of every relay, and the first contender: accepts everything."""

    workdir: Path
    port: int = 0
    kind: str = ""
    command: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    watcher: Watcher | None = None

    async def start(self) -> None:
        err = self.workdir / "sink.stderr"
        if os.access(SMTP_SINK, os.X_OK):
            self.port = procstat.free_port()
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            self.kind = "Postfix smtp-sink"
            self.command = [SMTP_SINK, *user, "-c", f"{LOOPBACK}:{self.port}", "1000"]
            self.process = _spawn(self.command, err)
            self.watcher = Watcher(self.process, None)
            await _until_listening(self.port, self.process, "smtp-sink")
        else:
            self.kind = "aiosmtpd sink (python -m gateway.bench.bare --sink; no smtp-sink here)"
            self.command = [sys.executable, "-m", "gateway.bench.bare", "--sink"]
            self.process = _spawn(self.command, err)
            self.watcher = Watcher(self.process, BARE_READY.encode())
            if not await asyncio.to_thread(self.watcher.wait_ready, START_TIMEOUT):
                raise ContenderError(f"the sink did not start: {_tail(err)}")
            self.port = int(self.watcher.ready_line.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def received(self) -> int:
        return self.watcher.messages if self.watcher else 0

    async def wait_received(self, target: int, seconds: float) -> bool:
        if self.watcher is None:
            return False
        return await asyncio.to_thread(self.watcher.wait_messages, target, seconds)

    async def stop(self) -> None:
        if self.process is not None:
            await _terminate(self.process)


# --------------------------------------------------------------------------- contenders


class Contender:
    """One process tree under test. ``start`` returns the port it takes SMTP on."""

    name = ""
    title = ""
    memory_note = "peak RSS of its process (VmHWM)"
    queues = False  # answers before delivering: wait for the sink to have every message

    def __init__(self, workdir: Path, sink: Sink, concurrency: int) -> None:
        self.workdir = workdir
        self.sink = sink
        self.concurrency = concurrency
        self.pid = 0

    def unavailable(self) -> str | None:
        return None

    async def start(self) -> int:
        raise NotImplementedError

    async def stop(self) -> None:
        return None


class SinkContender(Contender):
    name = "sink"
    title = "the sink directly (the ceiling)"

    async def start(self) -> int:
        self.title = f"the sink directly: {self.sink.kind} (the ceiling)"
        self.pid = self.sink.pid
        return self.sink.port


class _Child(Contender):
    """A contender that is one child process printing a ready line with its port."""

    ready = b""
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def port_of(self, line: str) -> int:
        return int(line.rstrip(") ").rsplit(":", 1)[1].split()[0])

    async def start(self) -> int:
        err = self.workdir / f"{self.name}.stderr"
        self.process = _spawn(self.command(), err)
        self.pid = self.process.pid
        watcher = Watcher(self.process, self.ready)
        if not await asyncio.to_thread(watcher.wait_ready, START_TIMEOUT):
            await self.stop()
            said = _tail(err) or " | ".join(watcher.tail[-5:])
            raise ContenderError(f"{self.name} did not start: {said}")
        return self.port_of(watcher.ready_line)

    async def stop(self) -> None:
        if self.process is not None:
            await _terminate(self.process)


class BareRelay(_Child):
    name = "bare"
    title = "bare relay: aiosmtpd in, pooled aiosmtplib out, no checks (the floor)"
    ready = BARE_READY.encode()

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gateway.bench.bare",
            "--listen",
            f"{LOOPBACK}:0",
            "--next-hop",
            f"{LOOPBACK}:{self.sink.port}",
            "--pool",
            str(self.concurrency),
        ]


class Tokuden(_Child):
    """``tokuden serve``: one process, or (``workers`` > 1) a supervisor and its workers,
    whose CPU and memory are summed over the tree."""

    name = "tokuden"
    title = "tokuden serve"
    ready = b"tokuden: listening on "  # the supervisor prints it once every worker listens

    def __init__(
        self, workdir: Path, sink: Sink, concurrency: int, config: Path, rows: int, workers: int = 1
    ) -> None:
        super().__init__(workdir, sink, concurrency)
        self.config = config
        self.workers = workers
        serve = "tokuden serve"
        if workers > 1:
            self.name = "tokuden-workers"
            serve = f"tokuden serve --workers {workers}"
            self.memory_note = (
                f"sampled sum of RSS over the supervisor and its {workers} workers"
                " (PSS shares their common pages out)"
            )
        self.title = (
            f"{serve}: every built-in policy (auth: SPF and DMARC asked of a DNS server on"
            f" loopback), {rows:,}-row SQLite consent store, DKIM RSA-2048 + Ed25519 keys,"
            " decision log"
        )

    def command(self) -> list[str]:
        script = Path(sys.executable).with_name("tokuden")
        program = [str(script)] if script.is_file() else [sys.executable, "-m", "gateway"]
        workers = ["--workers", str(self.workers)] if self.workers > 1 else []
        return [*program, "serve", "--config", str(self.config), *workers]

    def port_of(self, line: str) -> int:
        where = line.removeprefix(self.ready.decode()).split()[0].rstrip(",")
        return int(where.rsplit(":", 1)[1])


MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
proxywrite unix - - n -     1 proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def postfix_unavailable() -> str | None:
    """Why Postfix cannot run here, or None."""
    if not os.access(POSTFIX, os.X_OK):
        return f"{POSTFIX} is not installed (apt-get install postfix)"
    if os.geteuid() != 0:
        return "starting a Postfix master needs root (it drops to mail_owner itself)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no 'postfix' user (mail_owner) on this machine"
    return None


class Postfix(Contender):
    """Debian's Postfix as a plain smarthost, with its own queue in a temporary folder."""

    name = "postfix"
    title = "Postfix as smarthost (relayhost = the sink, queue on disk)"
    memory_note = (
        "sampled sum over master and its daemons (RSS counts shared pages once per process;"
        " PSS shares them out)"
    )
    queues = True

    def __init__(self, workdir: Path, sink: Sink, concurrency: int) -> None:
        super().__init__(workdir, sink, concurrency)
        self.dir: Path | None = None
        self.port = 0

    def unavailable(self) -> str | None:
        return postfix_unavailable()

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.dir is not None
        return subprocess.run(
            [POSTFIX, "-c", str(self.dir / "conf"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    async def start(self) -> int:
        self.dir = Path(tempfile.mkdtemp(prefix="tokuden-bench-postfix-", dir=self.workdir))
        self.dir.chmod(0o755)  # the daemons run as postfix and must reach the queue
        conf, queue, data = self.dir / "conf", self.dir / "queue", self.dir / "data"
        for folder in (conf, queue, data):
            folder.mkdir()
            folder.chmod(0o755)
        owner = pwd.getpwnam("postfix")
        os.chown(data, owner.pw_uid, owner.pw_gid)
        self.port = procstat.free_port()
        (conf / "main.cf").write_text(
            "\n".join(
                [
                    "# Written by tokuden bench: a plain smarthost, loopback only.",
                    "compatibility_level = 3.6",
                    f"queue_directory = {queue}",
                    f"data_directory = {data}",
                    "mail_owner = postfix",
                    "inet_interfaces = loopback-only",
                    "inet_protocols = ipv4",
                    "myhostname = postfix-bench.localhost",
                    "mydestination =",
                    "local_transport = error:local delivery is disabled",
                    f"relayhost = [{LOOPBACK}]:{self.sink.port}",
                    "mynetworks = 127.0.0.0/8",
                    "smtpd_relay_restrictions = permit_mynetworks, reject",
                    "alias_maps =",
                    "alias_database =",
                    f"maillog_file = {self.dir / 'maillog'}",
                    f"maillog_file_prefixes = {self.dir}",
                    "biff = no",
                    "",
                ]
            )
        )
        (conf / "master.cf").write_text(MASTER_CF.format(listen=f"{LOOPBACK}:{self.port}"))
        started = await asyncio.to_thread(self._run, "start")
        if started.returncode != 0:
            said = (started.stderr or started.stdout).strip().replace("\n", " | ")
            raise ContenderError(
                f"postfix start failed ({started.returncode}): "
                f"{said or _tail(self.dir / 'maillog')}"
            )
        try:
            self.pid = int((queue / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError) as exc:
            raise ContenderError(f"postfix started but left no master.pid: {exc}") from None
        await _until_listening(self.port, None, "postfix")
        return self.port

    async def stop(self) -> None:
        if self.dir is None:
            return
        if self.pid:
            await asyncio.to_thread(self._run, "stop")
            await asyncio.to_thread(_wait_gone, self.pid, 30.0)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
