"""MIME leaves located byte for byte, and their bodies transfer-decoded and re-encoded.

One implementation for every step that rewrites a part of a mail without
re-serialising the rest: the footer fix (gateway.footer) and the 8-bit to
7-bit conversion before DKIM signing (gateway.signing). A leaf is a part that
is not a multipart (a ``message/rfc822`` part is a leaf: its content is not
entered); the top-level part of a single-part mail is a leaf whose header
block is the mail's own header.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_EIGHT_BIT = re.compile(rb"[\x80-\xff]")
_MAX_DEPTH = 64


class MimeError(Exception):
    """The mail's MIME structure cannot be located, or a body cannot be decoded."""


@dataclass(frozen=True)
class Leaf:
    """Where one leaf part's header block and body lie in the raw bytes."""

    content_type: str
    header_start: int
    body_start: int
    body_end: int
    transfer_encoding: str  # lower case; "" when the part has no Content-Transfer-Encoding


def leaves(raw: bytes) -> list[Leaf]:
    """Every leaf part of ``raw``, in MIME walk order, with its byte span."""
    found: list[Leaf] = []
    _walk(raw, 0, len(raw), found, depth=0)
    return found


def text_leaves(raw: bytes) -> list[Leaf]:
    """Every text/plain and text/html leaf, in walk order (gateway.message's text parts)."""
    return [leaf for leaf in leaves(raw) if leaf.content_type in ("text/plain", "text/html")]


def newline_of(data: bytes) -> bytes:
    """The line ending ``data`` uses: CRLF if it has one, else LF."""
    return b"\r\n" if b"\r\n" in data else b"\n"


def transfer_decode(body: bytes, cte: str) -> bytes:
    """The octets a body carries under Content-Transfer-Encoding ``cte``."""
    if cte == "base64":
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except binascii.Error as exc:
            raise MimeError(f"base64 body does not decode: {exc}") from None
    if cte == "quoted-printable":
        return binascii.a2b_qp(body)
    return body


def transfer_encode(data: bytes, cte: str, newline: bytes) -> bytes:
    """``data`` written in Content-Transfer-Encoding ``cte``, lines ending in ``newline``."""
    if cte == "base64":
        encoded = base64.b64encode(data)
        lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
        return newline.join(lines) + newline
    if cte == "quoted-printable":
        text = binascii.b2a_qp(data.replace(b"\r\n", b"\n"))
        return text.replace(b"\n", newline)
    return data


def set_header(head: bytes, name: str, value: str, newline: bytes) -> bytes:
    """Replace (or add) one header field in a header block, leaving the others alone.

    ``head`` ends with the blank line that separates it from the body; the
    field is written last, and its old occurrences (with their folded
    continuation lines) are dropped.
    """
    lines = head.splitlines(keepends=True)
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if dropping and line[:1] in (b" ", b"\t") and line.strip():
            continue
        dropping = line.split(b":", 1)[0].strip().lower() == name.lower().encode()
        if not dropping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return b"".join(kept) + f"{name}: {value}".encode() + newline + newline


def seven_bit(raw: bytes) -> bytes:
    """``raw`` with every 8-bit leaf body transfer-encoded, so that it is 7-bit clean.

    A leaf whose body has octets over 0x7f and is not already base64 or
    quoted-printable (``7bit`` mislabelled, ``8bit``, ``binary`` or none) is
    re-encoded: text/* to quoted-printable, anything else to base64. Its
    Content-Type (charset included) is kept; its Content-Transfer-Encoding is
    replaced. Every other byte of the mail, the header fields included, is
    copied unchanged; a 7-bit mail is returned as is (the same object).
    ``message/*`` leaves cannot be transfer-encoded (RFC 2046 5.2) and are
    left alone, as are 8-bit octets in multipart preambles and epilogues.
    """
    sep = _HEADER_END.search(raw)
    if sep is None or not _EIGHT_BIT.search(raw, sep.end()):
        return raw
    out = raw
    for leaf in reversed(leaves(raw)):
        if leaf.transfer_encoding in ("base64", "quoted-printable"):
            continue
        if leaf.content_type.startswith("message/"):
            continue
        body = raw[leaf.body_start : leaf.body_end]
        if leaf.header_start == leaf.body_start or not _EIGHT_BIT.search(body):
            continue
        head = raw[leaf.header_start : leaf.body_start]
        newline = newline_of(head + body)
        cte = "quoted-printable" if leaf.content_type.startswith("text/") else "base64"
        head = set_header(head, "Content-Transfer-Encoding", cte, newline)
        out = (
            out[: leaf.header_start]
            + head
            + transfer_encode(body, cte, newline)
            + out[leaf.body_end :]
        )
    return out


def _walk(raw: bytes, start: int, end: int, found: list[Leaf], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise MimeError("MIME nesting too deep")
    sep = _HEADER_END.search(raw, start, end)
    if sep is None:
        head_end = body_start = end
    else:
        first_newline = 2 if raw[sep.start() : sep.start() + 1] == b"\r" else 1
        head_end = sep.start() + first_newline
        body_start = sep.end()
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[start:head_end])
    ctype = headers.get_content_type().split()[0]
    if ctype.startswith("multipart/"):
        boundary = headers.get_boundary()
        if not boundary:
            raise MimeError(f"{ctype} without a boundary")
        for part_start, part_end in _parts(raw, body_start, end, boundary.encode()):
            _walk(raw, part_start, part_end, found, depth + 1)
        return
    cte = str(headers.get("content-transfer-encoding", "")).strip().lower()
    found.append(Leaf(ctype, start, body_start, end, cte))


def _parts(raw: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int]]:
    """Byte spans of a multipart body's parts (RFC 2046 5.1.1: the CRLF before a
    delimiter belongs to the delimiter)."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?:\r?\n|$)", re.M
    )
    spans: list[tuple[int, int]] = []
    part_start: int | None = None
    for match in delimiter.finditer(raw, start, end):
        if part_start is not None:
            spans.append((part_start, match.start()))
        if match.group(1):
            return spans
        part_start = match.end()
    if part_start is not None:
        spans.append((part_start, end))
    return spans
