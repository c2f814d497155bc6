"""``tokuden serve`` as an operator runs it: a real process, real swaks, SIGTERM to stop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosmtplib
import dkim
import pytest

from tests.cases import CASES, example_config, import_consent
from tests.dkimpeers import keygen
from tests.peers import free_port, held_sink, is_listening, swaks
from tests.smtpclient import data_reply, session

DEFAULT_PORT = 10025  # the embedded default's listener


@dataclass
class Served:
    """A running ``tokuden serve``: its process, its listening line and its stdout so far."""

    process: asyncio.subprocess.Process
    listening: str
    lines: list[str] = field(default_factory=list)

    @property
    def workers(self) -> list[int]:
        """The worker pids the supervisor's listening line names (none: one process)."""
        found = re.search(r"\d+ workers: ([\d, ]+)\)$", self.listening)
        return [int(pid) for pid in found.group(1).split(", ")] if found else []

    async def expect(self, wanted: Callable[[str], bool], count: int = 1) -> list[str]:
        """Read stdout until ``count`` more lines are ``wanted``; those lines, in order."""
        assert self.process.stdout is not None
        got: list[str] = []
        while len(got) < count:
            line = (await asyncio.wait_for(self.process.stdout.readline(), 30)).decode()
            assert line, f"stdout ended; read so far: {self.lines}"
            self.lines.append(line.rstrip("\n"))
            if wanted(self.lines[-1]):
                got.append(self.lines[-1])
        return got


@asynccontextmanager
async def served(cwd: Path, *args: str) -> AsyncIterator[Served]:
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        while True:  # the first line is printed once every listener (of every worker) is bound
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, (await process.stderr.read()).decode() if process.stderr else ""
            if line.startswith("tokuden: listening on "):
                break
        yield Served(process, line.rstrip("\n"))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


@asynccontextmanager
async def serving(cwd: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    async with served(cwd, *args) as running:
        yield running.process


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    rest = await asyncio.wait_for(process.stdout.read(), 30)
    return await asyncio.wait_for(process.wait(), 30), rest.decode()


async def test_embedded_default_serves_with_nothing_configured(tmp_path: Path) -> None:
    assert not is_listening(DEFAULT_PORT), f"port {DEFAULT_PORT} is taken: stop the other gateway"
    async with serving(tmp_path) as process:
        out = await swaks(
            "--server",
            f"127.0.0.1:{DEFAULT_PORT}",
            "--from",
            "news@ogiya.example",
            "--to",
            "yoshida@example.jp",
            "--data",
            str(CASES[0].path),
        )
        code, rest = await stop(process)
    # No sender profile is configured: nothing is relayed for an unknown sender.
    assert "<** 550 5.7.1 No sender profile for envelope sender news@ogiya.example" in out.output
    assert code == 0
    assert rest.splitlines()[-1] == "tokuden: stopped"
    [line] = (tmp_path / "var" / "decisions.log").read_text("utf-8").splitlines()
    assert json.loads(line)["reply"].startswith("550 5.7.1")
    assert (tmp_path / "var" / "consent.db").is_file()


async def test_tour_d2_is_refused_and_a_compliant_ad_lands_in_the_maildir(tmp_path: Path) -> None:
    port = free_port()
    config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
    await asyncio.to_thread(import_consent, config)
    async with serving(tmp_path, "--config", str(config)) as process:
        refused = await swaks(
            "--server",
            f"127.0.0.1:{port}",
            "--to",
            "yoshida@example.jp",
            "--data",
            str(CASES[1].path),
        )
        passed = await swaks(
            "--server",
            f"127.0.0.1:{port}",
            "--to",
            "yoshida@example.jp",
            "--data",
            str(CASES[0].path),
        )
        code, _ = await stop(process)
    assert "<** 550 5.7.1 Blocked by policy [D2" in refused.output
    assert "<-  250 2.0.0 delivered to maildir" in passed.output
    [delivered] = (tmp_path / "maildir" / "new").iterdir()
    assert b"X-Tokuden-Decision: " in delivered.read_bytes()
    lines = (tmp_path / "decisions.log").read_text("utf-8").splitlines()
    assert [json.loads(x)["recipients"]["yoshida@example.jp"]["outcome"] for x in lines] == [
        "block",
        "pass",
    ]
    assert code == 0


async def run_serve(*args: str, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:  # it serves when it should not: leave nothing behind (workers see EOF)
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_bad_config_stops_serve_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nmax_recipients = 0\n", "utf-8")
    code, err = await run_serve("--config", str(bad), cwd=tmp_path)
    assert code == 2
    assert err == f"tokuden: {bad}: server.max_recipients: must be greater than 0, not 0\n"


async def test_a_taken_port_stops_serve_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
        code, err = await run_serve("--config", str(config), cwd=tmp_path)
    assert code == 2
    assert err == f"tokuden: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def verifies(mail: bytes, record: bytes) -> bool:
    return bool(dkim.verify(mail, dnsfunc=lambda name, timeout=5: record))


async def test_sighup_rereads_the_dkim_keys_and_keeps_connections_and_old_keys_on_error(
    tmp_path: Path,
) -> None:
    old_key, old_txt = keygen(tmp_path, "ogiya.example", "s1")
    (tmp_path / "new").mkdir()
    new_key, new_txt = keygen(tmp_path / "new", "ogiya.example", "s1")
    old_record, new_record = old_txt.encode(), new_txt.encode()
    key = tmp_path / "ogiya.pem"
    shutil.copy(old_key, key)
    port = free_port()
    auth_line = 'auth = { ogiya = "ogiya-secret" }   # better: a hash from `tokuden passwd`'
    dkim_line = f'dkim = [{{ domain = "ogiya.example", selector = "s1", key = "{key}" }}]'
    config = example_config(
        tmp_path, listen=f"127.0.0.1:{port}", edits={auth_line: f"{auth_line}\n{dkim_line}"}
    )
    await asyncio.to_thread(import_consent, config)
    raw = CASES[0].path.read_bytes()
    maildir = tmp_path / "maildir" / "new"

    async def relay(smtp: aiosmtplib.SMTP) -> bytes:
        before = set(maildir.iterdir()) if maildir.is_dir() else set()
        _, reply = await smtp.sendmail("bounce@ogiya.example", ["yoshida@example.jp"], raw)
        assert reply.startswith("2.0.0"), reply
        (added,) = set(maildir.iterdir()) - before
        return added.read_bytes()

    async def hangup(process: asyncio.subprocess.Process) -> str:
        process.send_signal(signal.SIGHUP)
        assert process.stdout is not None
        return (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()

    async with serving(tmp_path, "--config", str(config)) as process:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="client.test")
        await smtp.connect()
        await smtp.login("ogiya", "ogiya-secret")
        first = await relay(smtp)
        shutil.copy(new_key, key)
        assert await hangup(process) == (
            f"tokuden: SIGHUP: reloaded {config}: 3 sender profile(s), 1 DKIM key(s)"
        )
        second = await relay(smtp)  # the same connection, across the reload
        key.write_text("not a key\n")
        said = await hangup(process)
        third = await relay(smtp)
        await smtp.quit()
    assert verifies(first, old_record) and not verifies(first, new_record)
    assert verifies(second, new_record) and not verifies(second, old_record)
    assert said.startswith("tokuden: SIGHUP: not reloaded, the old config and keys stay in use: ")
    assert f"DKIM key {key}: not a PEM private key" in said
    assert verifies(third, new_record)


# --- tokuden serve --workers N ---------------------------------------------------------

COMPLIANT = CASES[0].path.read_bytes()  # an ad to a consenting recipient: relayed
NO_OPTOUT = CASES[1].path.read_bytes()  # D2/D3 missing: blocked in enforce mode
OGIYA_MODE = 'from_domains = ["ogiya.example"]\nmode = "enforce"'


def parent_of(pid: int) -> int:
    """The parent pid, from /proc (field 4 of stat, after the command name in brackets)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def log_lines(tmp: Path) -> list[dict[str, Any]]:
    path = tmp / "decisions.log"
    return [json.loads(x) for x in path.read_text("utf-8").splitlines()] if path.exists() else []


async def worker_of_next_message(port: int, tmp: Path, raw: bytes = NO_OPTOUT) -> int:
    """Send one message on a new connection; the pid of the worker that logged it."""
    before = len(log_lines(tmp))
    async with session(port) as smtp:
        await data_reply(smtp, raw)
    lines = log_lines(tmp)  # the line is written before the reply is sent
    assert len(lines) == before + 1
    pid: int = lines[-1]["worker"]
    return pid


async def workers_seen(port: int, tmp: Path, wanted: set[int], tries: int = 40) -> set[int]:
    """New connections until each of ``wanted`` served one (the kernel picks per connection,
    so 40 tries miss one of two workers with a probability of 2**-39)."""
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(await worker_of_next_message(port, tmp))
        if wanted <= seen:
            break
    return seen


async def until_not_listening(port: int, limit: float = 30) -> None:
    """Poll the kernel's listen table (a socket state, not a time) until nobody listens."""
    deadline = time.monotonic() + limit
    while is_listening(port):
        assert time.monotonic() < deadline, f"port {port} still listening"
        await asyncio.sleep(0.005)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


async def test_workers_share_one_port_and_the_kernel_spreads_connections_over_them(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
    await asyncio.to_thread(import_consent, config)
    async with served(tmp_path, "--config", str(config), "--workers", "2") as gw:
        workers = gw.workers
        parents = {parent_of(pid) for pid in workers}
        seen = await workers_seen(port, tmp_path, set(workers))
        code, rest = await stop(gw.process)
    assert gw.listening == (
        f"tokuden: listening on 127.0.0.1:{port} (config: {config}; "
        f"next hop: maildir:{tmp_path / 'maildir'}; 2 workers: {workers[0]}, {workers[1]})"
    )
    assert len(set(workers)) == 2 and parents == {gw.process.pid}
    assert seen == set(workers)  # both served connections on the one port
    lines = log_lines(tmp_path)
    assert {x["worker"] for x in lines} == seen
    assert all(x["reply"].startswith("550 5.7.1 Blocked by policy [D2") for x in lines)
    assert code == 0
    said = rest.splitlines()
    # the supervisor signals its workers, then says so: their lines may come first
    assert "tokuden: stopping: the workers finish the messages in flight (2 running)" in said
    assert said[-1] == "tokuden: stopped"
    assert {f"tokuden: worker {pid}: stopped" for pid in workers} <= set(said)


async def test_cli_workers_overrides_the_config_key(tmp_path: Path) -> None:
    port = free_port()
    listen = f'listen = ["127.0.0.1:{port}"]'
    config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
    edit(config, listen, f"{listen}\nworkers = 2")
    async with served(tmp_path, "--config", str(config), "--workers", "1") as gw:
        code, rest = await stop(gw.process)
    assert gw.workers == [] and " workers: " not in gw.listening  # one process, as before
    assert (code, rest.splitlines()[-1]) == (0, "tokuden: stopped")


async def test_sigterm_lets_the_message_in_data_finish_before_the_processes_exit(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with held_sink() as (sink, url):
        config = example_config(tmp_path, listen=f"127.0.0.1:{port}", next_hop=url)
        await asyncio.to_thread(import_consent, config)
        async with (
            served(tmp_path, "--config", str(config), "--workers", "2") as gw,
            session(port) as smtp,
        ):
            in_flight = asyncio.ensure_future(data_reply(smtp, COMPLIANT))
            await sink.reached.wait()  # a worker is relaying it: the message is in DATA
            gw.process.send_signal(signal.SIGTERM)
            stopping = await gw.expect(
                lambda x: x.endswith(": stopping: finishing messages in flight"), 2
            )
            await until_not_listening(port)
            # no longer accepting, yet the supervisor waits for the worker in DATA
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection("127.0.0.1", port)
            waiting = (gw.process.returncode, in_flight.done())
            sink.release.set()
            reply = await in_flight
            code, rest = await stop(gw.process)
    assert waiting == (None, False)
    assert reply.startswith("250 2.0.0 Queued as held-1 (decision ")
    assert {x.split(":")[1] for x in stopping} == {f" worker {pid}" for pid in gw.workers}
    [line] = log_lines(tmp_path)
    assert line["reply"] == reply and line["worker"] in gw.workers
    assert code == 0
    assert rest.splitlines()[-1] == "tokuden: stopped"


async def test_sighup_reloads_every_worker_for_the_next_message_even_on_an_open_connection(
    tmp_path: Path,
) -> None:
    port, other = free_port(), free_port()
    config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
    await asyncio.to_thread(import_consent, config)

    async def hangup(gw: Served, said: str) -> list[str]:
        gw.process.send_signal(signal.SIGHUP)
        return sorted(await gw.expect(lambda x: f": SIGHUP: {said}" in x, 2))

    async with served(tmp_path, "--config", str(config), "--workers", "2") as gw:
        async with session(port, "ogiya", "ogiya-secret") as smtp:  # opened before the SIGHUP
            before = await data_reply(smtp, NO_OPTOUT)
            edit(config, OGIYA_MODE, OGIYA_MODE.replace("enforce", "monitor"))
            edit(config, f"127.0.0.1:{port}", f"127.0.0.1:{other}")
            reloaded = await hangup(gw, "reloaded")
            after = await data_reply(smtp, NO_OPTOUT)
            edit(config, 'mode = "monitor"', 'mode = "monitr"')
            refused = await hangup(gw, "not reloaded")
            kept = await data_reply(smtp, NO_OPTOUT)
        fresh = await worker_of_next_message(port, tmp_path)  # the listeners stay where they were
        code, _ = await stop(gw.process)
    workers = sorted(gw.workers)
    assert before.startswith("550 5.7.1 Blocked by policy [D2")
    assert after.startswith("250 2.0.0 delivered to maildir")  # monitor mode: relayed
    assert kept.startswith("250 2.0.0 delivered to maildir")  # the broken file changed nothing
    assert reloaded == [
        f"tokuden: worker {pid}: SIGHUP: reloaded {config}: 3 sender profile(s), 0 DKIM key(s)"
        for pid in workers
    ]
    assert refused == [
        f"tokuden: worker {pid}: SIGHUP: not reloaded, the old config and keys stay in use: "
        f"{config}: senders.ogiya.mode: 'monitr': must be enforce, annotate or monitor"
        for pid in workers
    ]
    for pid in workers:
        assert (
            f"tokuden: worker {pid}: SIGHUP: server.listen changed in {config}: the listeners "
            "keep their settings until a restart (SIGHUP applied everything else)"
        ) in gw.lines
    modes = [
        (x["mode"], x["recipients"]["yoshida@example.jp"]["outcome"]) for x in log_lines(tmp_path)
    ]
    assert modes == [
        ("enforce", "block"),
        ("monitor", "pass"),
        ("monitor", "pass"),
        ("monitor", "pass"),
    ]
    assert fresh in workers and not is_listening(other)
    assert code == 0


async def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(tmp_path: Path) -> None:
    port, elsewhere = free_port(), free_port()
    listen = f'listen = ["127.0.0.1:{port}"]'
    config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
    edit(config, listen, f"{listen}\nworkers = 2")  # the config key, without --workers
    await asyncio.to_thread(import_consent, config)
    async with served(tmp_path, "--config", str(config)) as gw:
        victim, survivor = gw.workers
        # The file now names another port (no SIGHUP, no restart): the replacement must
        # still listen where its supervisor's workers do, not move there alone.
        edit(config, listen, f'listen = ["127.0.0.1:{elsewhere}"]')
        os.kill(victim, signal.SIGKILL)
        [gone] = await gw.expect(lambda x: f"worker {victim} exited" in x)
        meanwhile = await worker_of_next_message(port, tmp_path)  # reaped: only one listens
        [ready] = await gw.expect(lambda x: x.endswith(f"ready (replaces {victim})"))
        replacement = int(ready.split()[2])
        parent = parent_of(replacement)
        seen = await workers_seen(port, tmp_path, {survivor, replacement})
        moved = is_listening(elsewhere)
        code, _ = await stop(gw.process)
    assert gone == (
        f"tokuden: worker {victim} exited unexpectedly (killed by SIGKILL); "
        "starting another in 0.5 s"
    )
    assert meanwhile == survivor
    assert parent == gw.process.pid and replacement not in gw.workers
    assert seen == {survivor, replacement}
    assert not moved
    assert victim not in {x["worker"] for x in log_lines(tmp_path)}
    assert code == 0


async def test_a_worker_that_cannot_start_fails_the_whole_serve_with_one_line(
    tmp_path: Path,
) -> None:
    key = tmp_path / "ogiya.pem"
    key.write_text("not a key\n")
    auth_line = 'auth = { ogiya = "ogiya-secret" }   # better: a hash from `tokuden passwd`'
    dkim_line = f'dkim = [{{ domain = "ogiya.example", selector = "s1", key = "{key}" }}]'
    config = example_config(
        tmp_path,
        listen=f"127.0.0.1:{free_port()}",
        edits={auth_line: f"{auth_line}\n{dkim_line}"},
    )
    code, err = await run_serve("--config", str(config), "--workers", "2", cwd=tmp_path)
    assert code == 2
    assert err == (
        f"tokuden: cannot start: DKIM key {key}: not a PEM private key "
        "(nor a base64 Ed25519 seed)\n"
    )


async def test_a_port_taken_even_with_so_reuseport_stops_the_workers_serve_with_one_line(
    tmp_path: Path,
) -> None:
    for reuse_port in (False, True):  # True: another gateway's workers, which would share it
        with socket.socket() as taken:
            if reuse_port:
                taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            config = example_config(tmp_path, listen=f"127.0.0.1:{port}")
            code, err = await run_serve("--config", str(config), "--workers", "2", cwd=tmp_path)
        assert code == 2
        assert err == f"tokuden: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_lifts_its_soft_open_files_limit_to_the_hard_one() -> None:
    """Each connection holds a descriptor: a soft limit of 1,024 under a higher hard one must
    not be what bounds the connections (the bench holds 1,000 idle ones)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"the hard limit here is {hard}: nothing to lift")

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    code = (
        "import resource; from gateway.commands.serve import raise_open_files; "
        "print(*raise_open_files(), *resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], preexec_fn=lower, capture_output=True, text=True, check=True
    )
    soft, _hard, now_soft, now_hard = map(int, done.stdout.split())
    assert soft == now_soft > 256
    assert now_hard == hard
    if hard != resource.RLIM_INFINITY:
        assert now_soft == hard
