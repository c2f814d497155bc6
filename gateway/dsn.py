"""Delivery status notifications (RFC 3464) for recipients the gateway blocked.

When some recipients are blocked and the rest relayed, the sender learns
about the blocked ones from this report; the caller sends it with the null
sender ``<>`` so it can never bounce back in a loop.
"""

from __future__ import annotations

import base64
import secrets
import textwrap
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime, make_msgid

SUBJECT = "Undelivered Mail Returned to Sender"
HUMAN_EN = "Your message was not delivered to the following recipients:"
HUMAN_JA = "次の宛先にはメールを配信できませんでした。"


def build_dsn(
    *,
    reporting_mta: str,
    original_mail_from: str,
    original_headers: bytes,
    failed: Sequence[tuple[str, str, str]],
    arrival: datetime,
) -> bytes:
    """A multipart/report to ``original_mail_from``; ``failed`` is (recipient, status, diagnostic).

    ``arrival`` must be timezone-aware (RFC 5322 dates carry an offset).
    """
    if not original_mail_from:
        raise ValueError("no DSN for a message with the null sender (RFC 3464 §2)")
    if not failed:
        raise ValueError("a DSN needs at least one failed recipient")
    boundary = f"=_tokuden_{secrets.token_hex(12)}"
    human = "\n".join(
        [HUMAN_EN, HUMAN_JA, ""]
        + [f"<{rcpt}>: {status} {diagnostic}" for rcpt, status, diagnostic in failed]
    )
    status_fields = [
        f"Reporting-MTA: dns; {reporting_mta}",
        f"Arrival-Date: {format_datetime(arrival)}",
    ]
    for rcpt, status, diagnostic in failed:
        status_fields += [
            "",
            f"Final-Recipient: rfc822; {rcpt}",
            "Action: failed",
            f"Status: {status}",
            _folded(f"Diagnostic-Code: smtp; {_ascii(diagnostic)}"),
        ]
    headers_cte = "7bit" if original_headers.isascii() else "8bit"
    lines = [
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_mta}>",
        f"To: <{original_mail_from}>",
        f"Subject: {SUBJECT}",
        f"Date: {format_datetime(datetime.now().astimezone())}",
        f"Message-ID: {make_msgid(domain=reporting_mta)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        "This is a MIME-encapsulated delivery status notification.",
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        *_base64_lines(human.encode()),
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        *status_fields,
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        f"Content-Transfer-Encoding: {headers_cte}",
        "",
    ]
    head = "\r\n".join(lines).encode() + b"\r\n"
    original = original_headers.replace(b"\r\n", b"\n").rstrip(b"\n").replace(b"\n", b"\r\n")
    return head + original + f"\r\n\r\n--{boundary}--\r\n".encode()


def _ascii(text: str) -> str:
    """RFC 3464 fields are US-ASCII; the full text is in the human part anyway."""
    return " ".join(text.encode("ascii", "replace").decode().split())


def _folded(field: str) -> str:
    """Fold at spaces so that unfolding (removing CRLF) gives the line back."""
    return "\r\n".join(textwrap.wrap(field, 76, subsequent_indent=" ", break_long_words=False))


def _base64_lines(raw: bytes) -> list[str]:
    encoded = base64.b64encode(raw).decode()
    return [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
