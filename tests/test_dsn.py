"""DSNs read back with the stdlib parser and checked against RFC 3464, field by field."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

import pytest

from gateway.dsn import build_dsn

JST = timezone(timedelta(hours=9))
ARRIVAL = datetime(2025, 4, 1, 9, 30, 0, tzinfo=JST)
ORIGINAL_HEADERS = (
    b"From: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= <news@example.jp>\r\n"
    b"To: a@example.com, b@example.com\r\n"
    b"Subject: Spring sale\r\n"
    b"Message-ID: <orig-1@example.jp>\r\n"
    b"\r\n"
)
FAILED = [
    ("a@example.com", "5.7.1", "550 5.7.1 no consent on record (C1) decision 01J0"),
    ("b@example.com", "5.7.1", "550 5.7.1 オプトアウト済み opted out (O1)"),
]


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def dsn(**overrides: object) -> EmailMessage:
    args: dict[str, object] = {
        "reporting_mta": "gw.example.jp",
        "original_mail_from": "bounce@example.jp",
        "original_headers": ORIGINAL_HEADERS,
        "failed": FAILED,
        "arrival": ARRIVAL,
    }
    args.update(overrides)
    return parse(build_dsn(**args))  # type: ignore[arg-type]


def test_is_a_multipart_report_of_delivery_status_in_three_parts() -> None:
    msg = dsn()
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert msg.defects == []
    assert all(p.defects == [] for p in parts)


def test_comes_from_the_mailer_daemon_to_the_original_sender() -> None:
    msg = dsn()
    assert msg["From"].addresses[0].addr_spec == "MAILER-DAEMON@gw.example.jp"
    assert msg["To"].addresses[0].addr_spec == "bounce@example.jp"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"].endswith("@gw.example.jp>")
    assert msg["Date"].datetime.tzinfo is not None


def test_human_part_names_each_recipient_in_english_and_japanese() -> None:
    text = next(dsn().iter_parts()).get_content()
    assert "not delivered" in text
    assert "配信できませんでした" in text
    assert "<a@example.com>: 5.7.1" in text
    assert "オプトアウト済み" in text  # the full diagnostic, not the ASCII-only one


def status_groups(msg: EmailMessage) -> list[Message]:
    """message/delivery-status parses as header groups: per-message first, then per recipient."""
    part = list(msg.iter_parts())[1]
    groups = part.get_payload()
    assert isinstance(groups, list)
    assert all(isinstance(g, Message) for g in groups)
    return [g for g in groups if isinstance(g, Message)]


def test_per_message_fields() -> None:
    per_message = status_groups(dsn())[0]
    assert per_message["Reporting-MTA"] == "dns; gw.example.jp"
    assert parsedate_to_datetime(per_message["Arrival-Date"]) == ARRIVAL


def test_per_recipient_fields() -> None:
    recipients = status_groups(dsn())[1:]
    assert len(recipients) == len(FAILED)
    for group, (rcpt, status, _) in zip(recipients, FAILED, strict=True):
        assert group["Final-Recipient"] == f"rfc822; {rcpt}"
        assert group["Action"] == "failed"
        assert group["Status"] == status
        assert group["Diagnostic-Code"].startswith("smtp; 550 5.7.1 ")


def test_diagnostic_code_is_us_ascii_and_unfolds_to_the_text() -> None:
    long = "550 5.7.1 " + " ".join(["display item missing (D3)"] * 10)
    raw = build_dsn(
        reporting_mta="gw.example.jp",
        original_mail_from="bounce@example.jp",
        original_headers=ORIGINAL_HEADERS,
        failed=[*FAILED, ("c@example.com", "5.7.1", long)],
        arrival=ARRIVAL,
    )
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    groups = status_groups(parse(raw))
    assert groups[3]["Diagnostic-Code"] == f"smtp; {long}"
    assert groups[2]["Diagnostic-Code"] == "smtp; 550 5.7.1 ???????? opted out (O1)"


def test_third_part_is_the_original_header_block() -> None:
    part = list(dsn().iter_parts())[2]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.rstrip(b"\r\n") == ORIGINAL_HEADERS.rstrip(b"\r\n")


def test_no_dsn_to_the_null_sender() -> None:
    """A bounce of a bounce would loop (RFC 3464 §2, RFC 5321 §6.1)."""
    with pytest.raises(ValueError):
        build_dsn(
            reporting_mta="gw.example.jp",
            original_mail_from="",
            original_headers=ORIGINAL_HEADERS,
            failed=FAILED,
            arrival=datetime.now(UTC),
        )
