"""SIGHUP's reload (gateway.reload) in one process, over real sockets.

The reloaded config judges the next message, even on a connection opened before;
a message in flight finishes on the old gateway, which is closed once it is done;
a broken file changes nothing; the listeners' [server] keys wait for a restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway import replies
from gateway.config import load
from gateway.reload import LiveGateway, ReloadError
from gateway.service import Gateway, Session
from gateway.smtp import start_server
from gateway.store import StoreError
from tests.cases import CASES, example_config, import_consent
from tests.peers import free_port, held_sink
from tests.smtpclient import data_reply, session

COMPLIANT = CASES[0].path.read_bytes()  # an ad to a consenting recipient: relayed
NO_OPTOUT = CASES[1].path.read_bytes()  # D2/D3 missing: blocked in enforce mode
OGIYA_MODE = 'from_domains = ["ogiya.example"]\nmode = "enforce"'


@dataclass
class Running:
    live: LiveGateway
    config: Path
    port: int

    def edit(self, old: str, new: str) -> None:
        text = self.config.read_text("utf-8")
        assert old in text
        self.config.write_text(text.replace(old, new), "utf-8")


@asynccontextmanager
async def running(tmp: Path, **kwargs: Any) -> AsyncIterator[Running]:
    port = free_port()
    path = example_config(tmp, listen=f"127.0.0.1:{port}", **kwargs)
    await asyncio.to_thread(import_consent, path)
    config = load(path)
    live = LiveGateway(await Gateway.open(config), lambda: load(path))
    server = await start_server(config, live)
    try:
        yield Running(live, path, port)
    finally:
        await server.close()
        await live.close()


def log_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


async def test_the_next_message_on_an_open_connection_is_judged_by_the_reloaded_config(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as gw, session(gw.port, "ogiya", "ogiya-secret") as smtp:
        before = await data_reply(smtp, NO_OPTOUT)
        gw.edit(OGIYA_MODE, OGIYA_MODE.replace("enforce", "monitor"))
        done = await gw.live.reload()
        after = await data_reply(smtp, NO_OPTOUT)  # the same connection, its AUTH from before
    assert before.startswith("550 5.7.1 Blocked by policy [D2")
    assert after.startswith("250 2.0.0 delivered to maildir")
    assert done.summary() == f"reloaded {gw.config}: 3 sender profile(s), 0 DKIM key(s)"
    assert done.notes() == []
    first, second = log_lines(tmp_path / "decisions.log")
    assert (first["mode"], first["recipients"]["yoshida@example.jp"]["outcome"]) == (
        "enforce",
        "block",
    )
    assert second["mode"] == "monitor"
    assert second["recipients"]["yoshida@example.jp"] == {
        "outcome": "pass",
        "would": "block",
        "rules": ["D2", "D3"],
    }


async def test_a_message_in_flight_finishes_on_the_old_gateway_which_is_then_closed(
    tmp_path: Path,
) -> None:
    async with held_sink() as (sink, url), running(tmp_path, next_hop=url) as gw:
        old = gw.live.current
        async with session(gw.port, "ogiya", "ogiya-secret") as smtp:
            in_flight = asyncio.ensure_future(data_reply(smtp, COMPLIANT))
            await sink.reached.wait()  # the old gateway is relaying it now
            gw.edit(f'file = "{tmp_path / "decisions.log"}"', f'file = "{tmp_path / "new.log"}"')
            await gw.live.reload()
            assert gw.live.current is not old
            assert gw.live.retired == 1  # held by the message in flight
            sink.release.set()
            first = await in_flight
            await gw.live.settle()
            assert gw.live.retired == 0
            with pytest.raises(StoreError):  # the old gateway's store is closed
                await old.store.lookup("ogiya", ["yoshida@example.jp"])
            second = await data_reply(smtp, COMPLIANT)
    assert first.startswith("250 2.0.0 Queued as held-1 (decision ")
    assert second.startswith("250 2.0.0 Queued as held-2")
    # each message was logged by the gateway that took it: the old one's log, the new one's
    [old_line] = log_lines(tmp_path / "decisions.log")
    [new_line] = log_lines(tmp_path / "new.log")
    assert old_line["reply"].startswith("250 2.0.0 Queued as held-1")
    assert new_line["reply"].startswith("250 2.0.0 Queued as held-2")


async def test_a_broken_config_changes_nothing_and_says_why(tmp_path: Path) -> None:
    async with running(tmp_path) as gw, session(gw.port, "ogiya", "ogiya-secret") as smtp:
        old = gw.live.current
        gw.edit(OGIYA_MODE, OGIYA_MODE.replace("enforce", "enforced"))
        with pytest.raises(ReloadError) as err:
            await gw.live.reload()
        gw.edit(OGIYA_MODE.replace("enforce", "enforced"), "[senders.ogiya\n")
        with pytest.raises(ReloadError) as toml:
            await gw.live.reload()
        reply = await data_reply(smtp, NO_OPTOUT)
        assert gw.live.current is old
    assert str(err.value) == (
        f"{gw.config}: senders.ogiya.mode: 'enforced': must be enforce, annotate or monitor"
    )
    assert str(toml.value).startswith(f"{gw.config}: not valid TOML: ")
    assert reply.startswith("550 5.7.1 Blocked by policy [D2")


async def test_the_listeners_keys_wait_for_a_restart_and_the_reload_says_so(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as gw:
        listen = gw.live.config.server.listen
        gw.edit(f'listen = ["127.0.0.1:{gw.port}"]', 'listen = ["127.0.0.1:1"]\nworkers = 4')
        gw.edit("max_message_size = 26214400", "max_message_size = 1000")
        gw.edit('trusted_networks = ["127.0.0.0/8", "::1/128"]', 'trusted_networks = ["::1/128"]')
        done = await gw.live.reload()
        server = gw.live.config.server
        async with session(gw.port, "ogiya", "ogiya-secret") as smtp:  # the old listener
            reply = await data_reply(smtp, COMPLIANT)  # bigger than 1000 bytes: the old limit holds
    assert done.restart_only == ("listen", "max_message_size", "workers")
    assert done.notes() == [
        f"server.listen, server.max_message_size, server.workers changed in {gw.config}: the "
        "listeners keep their settings until a restart (SIGHUP applied everything else)"
    ]
    assert (server.listen, server.max_message_size, server.workers) == (listen, 26214400, 1)
    assert [str(n) for n in server.trusted_networks] == ["::1/128"]  # applied
    assert reply.startswith("250 2.0.0 delivered to maildir")


async def test_a_login_from_before_the_reload_counts_only_if_its_user_still_exists(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as gw:
        profile = gw.live.authenticate("ogiya", "ogiya-secret")
        login = Session(peer="192.0.2.7", auth_user="ogiya", profile=profile)  # not trusted
        assert await gw.live.check_recipient(login, "news@ogiya.example", "a@example.jp") is None
        gw.edit('auth = { ogiya = "ogiya-secret" }', 'auth = { ogiya2 = "other-secret" }')
        await gw.live.reload()
        refused = await gw.live.check_recipient(login, "news@ogiya.example", "a@example.jp")
    assert refused == replies.S550_RELAY_DENIED
    assert login.profile is None
