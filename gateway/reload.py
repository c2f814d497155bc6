"""SIGHUP: the config file and the keys read again, swapped in without dropping a connection.

A reload builds a whole new :class:`gateway.service.Gateway` from the file (policies,
profiles, consent store, next hop, decision log, DKIM keys) — the same
``Gateway.open`` as at start, so a reloaded gateway is exactly what a restart would
run and there is one way to build one. If reading, checking or opening anything
fails, nothing changes and the old gateway stays in force.

:class:`LiveGateway` is what the SMTP server talks to. Each call (RCPT check, DATA
delivery) goes to the gateway in force when it starts and holds it until it
returns, so a message in flight during a reload finishes on the old gateway (its
store, its next hop, its log) while the next one, even on the same connection, is
judged by the new. An old gateway is closed once no call holds it.

The ``[server]`` table belongs to the listening sockets, which a reload keeps:
except ``trusted_networks`` (a check the gateway makes per message), its keys
take effect at the next restart, and the reload says which of them changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from gateway.config import Config, ConfigError
from gateway.profile import SenderProfile
from gateway.replies import Reply
from gateway.service import Gateway, Session
from gateway.signing import SigningKeyError
from gateway.store import StoreError

log = logging.getLogger(__name__)

RELOADABLE_SERVER_KEYS = frozenset({"trusted_networks"})
"""The ``[server]`` keys a reload applies; the others are the listeners' (restart)."""

OPEN_ERRORS = (ConfigError, StoreError, SigningKeyError, OSError)
"""What ``Gateway.open`` raises for a config that cannot run (bad policy, store down,
bad key file, unwritable log): a clear message, never a traceback."""


class ReloadError(Exception):
    """The reload failed; the text says why (naming the file and key as the loader does)."""


@dataclass(frozen=True)
class Reloaded:
    """What a successful reload changed, for the line the operator reads."""

    source: str
    senders: int
    keys: int
    restart_only: tuple[str, ...]  # [server] keys that changed but wait for a restart

    def summary(self) -> str:
        return f"reloaded {self.source}: {self.senders} sender profile(s), {self.keys} DKIM key(s)"

    def notes(self) -> list[str]:
        if not self.restart_only:
            return []
        keys = ", ".join(f"server.{k}" for k in self.restart_only)
        return [
            f"{keys} changed in {self.source}: the listeners keep their settings until a "
            "restart (SIGHUP applied everything else)"
        ]


class LiveGateway:
    """The gateway in force, swapped by :meth:`reload`; the SMTP server's Service."""

    def __init__(self, gateway: Gateway, read_config: Callable[[], Config]) -> None:
        self.current = gateway
        self.config = gateway.config  # the config in force, as the SMTP server reads it
        self._read_config = read_config
        self._calls: dict[Gateway, int] = {gateway: 0}  # calls in progress, per gateway
        self._closing: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one reload at a time, and none during close

    @property
    def retired(self) -> int:
        """Old gateways still finishing calls (or closing)."""
        return len(self._calls) - 1 + len(self._closing)

    def authenticate(self, user: str, password: str) -> SenderProfile | None:
        return self.current.authenticate(user, password)

    async def check_recipient(self, session: Session, mail_from: str, address: str) -> Reply | None:
        with self._hold(session) as gateway:
            return await gateway.check_recipient(session, mail_from, address)

    async def deliver(
        self, session: Session, mail_from: str, rcpt_tos: list[str], data: bytes
    ) -> Reply:
        with self._hold(session) as gateway:
            return await gateway.deliver(session, mail_from, rcpt_tos, data)

    def refused(self, session: Session, mail_from: str, rcpt_tos: list[str], reply: Reply) -> None:
        self.current.adopt(session)
        self.current.refused(session, mail_from, rcpt_tos, reply)

    async def reload(self) -> Reloaded:
        """Read and check the config file, open a new gateway on it and swap it in.

        ReloadError on any fault, with the old gateway still in force.
        """
        async with self._lock:
            try:
                config = self._read_config()
            except ConfigError as exc:
                raise ReloadError(str(exc)) from None
            running = self.current.config.server
            restart_only = tuple(
                f.name
                for f in fields(running)
                if f.name not in RELOADABLE_SERVER_KEYS
                and getattr(running, f.name) != getattr(config.server, f.name)
            )
            kept = {k: getattr(config.server, k) for k in RELOADABLE_SERVER_KEYS}
            config = replace(config, server=replace(running, **kept))
            try:
                gateway = await Gateway.open(config)
            except OPEN_ERRORS as exc:
                raise ReloadError(str(exc)) from None
            old, self.current, self.config = self.current, gateway, config
            self._calls[gateway] = 0
            self._retire(old)
            return Reloaded(config.source, len(config.senders), len(gateway.keys), restart_only)

    async def settle(self) -> None:
        """Wait until every replaced gateway that no call holds any more is closed."""
        await asyncio.gather(*self._closing)

    async def close(self) -> None:
        """Close every gateway; call it once the server has stopped (no call in progress)."""
        async with self._lock:
            gateways = list(self._calls)
            self._calls.clear()
            await asyncio.gather(*(g.close() for g in gateways), self.settle())

    @contextmanager
    def _hold(self, session: Session) -> Iterator[Gateway]:
        gateway = self.current
        gateway.adopt(session)
        self._calls[gateway] += 1
        try:
            yield gateway
        finally:
            if gateway in self._calls:  # else close() has closed it already
                self._calls[gateway] -= 1
                if gateway is not self.current:
                    self._retire(gateway)

    def _retire(self, gateway: Gateway) -> None:
        """Close ``gateway`` (no longer in force) once no call holds it."""
        if self._calls.get(gateway) != 0:
            return
        del self._calls[gateway]
        task = asyncio.ensure_future(_close(gateway))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _close(gateway: Gateway) -> None:
    """In the background: a failure to close an old gateway must not stop the new one."""
    try:
        await gateway.close()
    except Exception:
        log.exception("closing the gateway a reload replaced failed")
