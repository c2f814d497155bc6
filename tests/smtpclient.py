"""SMTP clients for end-to-end tests: plain smtplib run in a thread beside the server's
loop, and an aiosmtplib session that stays open across a reload or a stop."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import aiosmtplib


@dataclass
class Transcript:
    rcpt: dict[str, tuple[int, str]] = field(default_factory=dict)
    data: tuple[int, str] | None = None  # None: DATA was never sent (no recipient accepted)


def _send(
    port: int, mail_from: str, rcpts: list[str], data: bytes, user: str | None, password: str
) -> Transcript:
    out = Transcript()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60) as smtp:
        smtp.ehlo()
        if user is not None:
            smtp.login(user, password)
        code, text = smtp.mail(mail_from)
        assert code == 250, (code, text)
        for rcpt in rcpts:
            code, text = smtp.rcpt(rcpt)
            out.rcpt[rcpt] = (code, text.decode())
        if any(code == 250 for code, _ in out.rcpt.values()):
            code, text = smtp.data(data)
            out.data = (code, text.decode())
        else:
            smtp.rset()
    return out


async def send(
    port: int,
    mail_from: str,
    rcpts: list[str],
    data: bytes,
    user: str | None = None,
    password: str = "",
) -> Transcript:
    return await asyncio.to_thread(_send, port, mail_from, rcpts, data, user, password)


def maildir_messages(maildir: Path) -> list[Message]:
    """Delivered messages, each with its Delivered-To header, oldest name first."""
    new = maildir / "new"
    if not new.is_dir():
        return []
    return [message_from_bytes(p.read_bytes()) for p in sorted(new.iterdir())]


@asynccontextmanager
async def session(
    port: int, user: str | None = None, password: str = ""
) -> AsyncIterator[aiosmtplib.SMTP]:
    """One client connection (AUTH as ``user`` if given), closed at the end without QUIT:
    a gateway that stopped has said 421 already."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="client.test")
    await smtp.connect()
    try:
        if user is not None:
            await smtp.login(user, password)
        yield smtp
    finally:
        smtp.close()


async def data_reply(
    smtp: aiosmtplib.SMTP,
    raw: bytes,
    mail_from: str = "bounce@ogiya.example",
    rcpts: tuple[str, ...] = ("yoshida@example.jp",),
) -> str:
    """One message on ``smtp``; the reply to its DATA as ``CODE text``."""
    try:
        _, text = await smtp.sendmail(mail_from, list(rcpts), raw)
    except aiosmtplib.SMTPDataError as exc:
        return f"{exc.code} {exc.message}"
    return f"250 {text}"
