"""``tokuden serve`` as an operator runs it: a real process, real swaks, SIGTERM to stop."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosmtplib
import dkim

from tests.cases import CASES, example_config, import_consent
from tests.dkimpeers import keygen
from tests.peers import free_port, is_listening, swaks

DEFAULT_PORT = 10025  # the embedded default's listener


@asynccontextmanager
async def serving(cwd: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
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
        while True:  # the first line is printed once every listener is bound
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, (await process.stderr.read()).decode() if process.stderr else ""
            if line.startswith("tokuden: listening on "):
                break
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


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
    _, err = await asyncio.wait_for(process.communicate(), 30)
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
