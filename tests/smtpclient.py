"""A plain smtplib client for end-to-end tests, run in a thread beside the server's loop."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path


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
