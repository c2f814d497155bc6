"""Header changes on the relayed bytes; the rest of the mail stays byte for byte."""

from __future__ import annotations

from gateway.transform import header_field, strip_headers

MAIL = (
    b"From: a@ogiya.example\r\n"
    b"X-Tokuden-Category: advertising\r\n"
    b"Subject: folded\r\n"
    b"  subject\r\n"
    b"x-tokuden-decision: forged;\r\n"
    b"\tcontinued\r\n"
    b"\r\n"
    b"X-Tokuden-Category: in the body stays\r\n"
)


def test_strip_removes_fields_with_their_folded_lines_case_insensitively() -> None:
    out = strip_headers(MAIL, ["X-Tokuden-Category", "X-Tokuden-Decision"])
    assert out == (
        b"From: a@ogiya.example\r\n"
        b"Subject: folded\r\n"
        b"  subject\r\n"
        b"\r\n"
        b"X-Tokuden-Category: in the body stays\r\n"
    )


def test_strip_of_the_last_header_keeps_the_blank_separator() -> None:
    assert strip_headers(b"A: 1\nX-Gone: 2\n\nbody\n", ["x-gone"]) == b"A: 1\n\nbody\n"


def test_strip_leaves_a_mail_without_those_headers_identical() -> None:
    assert strip_headers(MAIL, ["X-Other"]) is MAIL  # not even copied


def test_the_decision_field_ends_in_the_mail_line_ending() -> None:
    assert header_field(b"A: 1\r\n\r\nb", "X-T", "v") == b"X-T: v\r\n"
    assert header_field(b"A: 1\n\nb", "X-T", "v") == b"X-T: v\n"
