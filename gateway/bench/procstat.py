"""What a contender's processes cost, read from Linux's /proc: CPU time and memory.

CPU of a process tree = utime + stime of every live process in it, plus cutime + cstime
of its root (the children it has reaped: Postfix's master reaps its daemons). Memory is
sampled: the sum of VmRSS (and of Pss, which shares shared pages out fairly) over the
tree, and each process's own high-water mark (VmHWM).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return (PROC / "self" / "stat").is_file()


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 onwards)."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rindex(b")") + 2 :].decode().split()


def children(root: int) -> list[int]:
    """Every live descendant of ``root`` (one pass over /proc)."""
    parent: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parent.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        kids = parent.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root``, its live descendants and the children it reaped."""
    fields = _stat_fields(root)
    if fields is None:
        return 0.0
    # fields[11:15] = utime stime cutime cstime (stat fields 14-17)
    ticks = sum(int(v) for v in fields[11:15])
    for pid in children(root):
        kid = _stat_fields(pid)
        if kid is not None:
            ticks += int(kid[11]) + int(kid[12])
    return ticks / TICKS


def status_kib(pid: int, *names: str) -> dict[str, int]:
    """Fields of /proc/PID/status in KiB (``VmRSS``, ``VmHWM``, ...); {} once it is gone."""
    out: dict[str, int] = {}
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in names:
            out[key] = int(value.split()[0])
    return out


def pss_kib(pid: int) -> int:
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def reset_hwm(pid: int) -> bool:
    """Set ``pid``'s VmHWM back to its current RSS (Linux 4.0+), so that the next peak
    read is the peak of what follows and not of the process's whole life."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


def open_files_limit(pid: int) -> tuple[int | None, int | None]:
    """The (soft, hard) limit of open files of ``pid``; None for unlimited or unknown."""
    try:
        text = (PROC / str(pid) / "limits").read_text()
    except OSError:
        return None, None
    for line in text.splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return (
                int(soft) if soft.isdigit() else None,
                int(hard) if hard.isdigit() else None,
            )
    return None, None


def machine_cpu() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat: the share busy
    over a run says whether the machine itself, not one contender, was the limit."""
    try:
        first = (PROC / "stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    ticks = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


@dataclass
class Memory:
    """Peaks over a run, in KiB."""

    peak_rss_sum: int = 0  # the largest sampled sum of VmRSS over the tree
    peak_pss_sum: int = 0  # the same with Pss (shared pages divided among their users)
    peak_hwm: int = 0  # the largest VmHWM of one process of the tree (exact, not sampled)
    processes: int = 0  # the most processes seen at once


class MemorySampler:
    """Samples a process tree's memory in a thread every ``interval`` seconds until stopped."""

    def __init__(self, root: int, interval: float = 0.1, tree: bool = True) -> None:
        self.root = root
        self.interval = interval
        self.tree = tree
        self.memory = Memory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        pids = [self.root, *(children(self.root) if self.tree else [])]
        rss = pss = 0
        m = self.memory
        for pid in pids:
            status = status_kib(pid, "VmRSS", "VmHWM")
            rss += status.get("VmRSS", 0)
            m.peak_hwm = max(m.peak_hwm, status.get("VmHWM", 0))
            pss += pss_kib(pid)
        m.peak_rss_sum = max(m.peak_rss_sum, rss)
        m.peak_pss_sum = max(m.peak_pss_sum, pss)
        m.processes = max(m.processes, len(pids))


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just handed out, for a peer that cannot take a bound socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    """True when some socket listens on ``port`` (from /proc, so no SMTP session is opened)."""
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False
