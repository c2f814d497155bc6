"""The footer fix: append a sender profile's display block to a mail that lacks display items.

The block goes into the main text/plain part in that part's own charset and
transfer encoding, and before ``</body>`` of the main text/html part, so the
items sit where the reader reads and in the main text's encoding (LAW.md D6).
Only the bodies of those parts change: the rest of the mail, headers and
MIME structure included, is copied byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from string import Formatter

from gateway import charsets
from gateway.message import ParsedMessage, TextPart
from gateway.profile import SenderProfile

DEFAULT_BLOCK = """\
――――――――――――――――――――――
■配信停止
今後このメールの配信を希望されない方は、以下より配信停止の手続きができます。
{optout}
■送信者：{name}
■所在地：{postal_address}
■お問い合わせ：{contact}
■所在地・お問い合わせ先は次のページでもご覧いただけます：{info_url}
――――――――――――――――――――――"""
"""The default display block: the ministry's example display in words (LAW.md).
A line whose placeholders are all empty for a profile is left out."""

PLACEHOLDERS = ("name", "optout", "postal_address", "contact", "info_url")

_URL = re.compile(r"(https?://[^\s<>\"]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class FooterError(Exception):
    """The block cannot be added to this mail (unknown structure, charset that cannot hold it)."""


def render_block(profile: SenderProfile) -> str:
    """The profile's display block with its items filled in."""
    optout = [x for x in (profile.optout_url, profile.optout_address) if x]
    values = {
        "name": profile.names[0] if profile.names else profile.consignor,
        "optout": "\n".join(optout),
        "postal_address": profile.postal_addresses[0] if profile.postal_addresses else "",
        "contact": " / ".join(profile.contact),
        "info_url": profile.info_url or "",
    }
    lines = []
    for line in (profile.display_block or DEFAULT_BLOCK).split("\n"):
        fields = [f for _, f, _, _ in Formatter().parse(line) if f]
        if fields and not any(values[f] for f in fields):
            continue
        lines.append(line.format_map(values))
    return "\n".join(lines)


def append_footer(message: ParsedMessage, block: str) -> bytes:
    """``message.raw`` with ``block`` appended to its main text/plain and text/html parts."""
    leaves = _text_leaves(message.raw)
    if [leaf.content_type for leaf in leaves] != [p.content_type for p in message.parts]:
        raise FooterError("the MIME structure could not be located byte for byte")
    targets = _main_parts(message.parts)
    if not targets:
        raise FooterError("the mail has no text part to carry the display block")
    raw = message.raw
    for part in sorted(targets, key=lambda p: p.index, reverse=True):
        leaf = leaves[part.index]
        head, body = leaf.rewrite(raw, part, block)
        raw = raw[: leaf.header_start] + head + body + raw[leaf.body_end :]
    return raw


def _main_parts(parts: tuple[TextPart, ...]) -> list[TextPart]:
    """The first body text/plain and the first body text/html: what a reader reads as the mail."""
    chosen: dict[str, TextPart] = {}
    for part in parts:
        if not part.attachment:
            chosen.setdefault(part.content_type, part)
    return list(chosen.values())


@dataclass(frozen=True)
class _Leaf:
    """Where one text part's header block and body lie in the raw bytes."""

    content_type: str
    header_start: int
    body_start: int
    body_end: int
    transfer_encoding: str

    def rewrite(self, raw: bytes, part: TextPart, block: str) -> tuple[bytes, bytes]:
        head = raw[self.header_start : self.body_start]
        body = raw[self.body_start : self.body_end]
        newline = b"\r\n" if b"\r\n" in body or b"\r\n" in head else b"\n"
        data = _transfer_decode(body, self.transfer_encoding)
        if part.content_type == "text/html":
            added = _encode(_html_block(block), part.charset)
            ends = [m.start() for m in _BODY_END.finditer(data)]
            cut = ends[-1] if ends else len(data)
            data = data[:cut] + added + newline + data[cut:]
        else:
            added = _encode(block.replace("\n", newline.decode()), part.charset)
            if data and not data.endswith(b"\n"):
                data += newline
            data += newline + added + newline
        cte = self.transfer_encoding
        if cte in ("", "7bit") and re.search(rb"[\x80-\xff]", data):
            cte = "quoted-printable"
            head = _set_header(head, "Content-Transfer-Encoding", cte, newline)
        return head, _transfer_encode(data, cte, newline)


def _html_block(block: str) -> str:
    lines = []
    for line in block.split("\n"):
        escaped = _URL.sub(_link, html.escape(line, quote=False))
        lines.append(escaped)
    return '<div class="tokuden-display">' + "<br>\n".join(lines) + "</div>"


def _link(match: re.Match[str]) -> str:
    target = match.group(0)
    href = target if target.startswith("http") else f"mailto:{target}"
    return f'<a href="{html.escape(href)}">{target}</a>'


def _encode(text: str, codec: str) -> bytes:
    try:
        return charsets.encode(text, codec)
    except UnicodeEncodeError as exc:
        raise FooterError(
            f"the display block cannot be written in the part's charset {codec}: "
            f"{exc.object[exc.start : exc.end]!r}"
        ) from None


def _transfer_decode(body: bytes, cte: str) -> bytes:
    if cte == "base64":
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except binascii.Error as exc:
            raise FooterError(f"base64 body does not decode: {exc}") from None
    if cte == "quoted-printable":
        return binascii.a2b_qp(body)
    return body


def _transfer_encode(data: bytes, cte: str, newline: bytes) -> bytes:
    if cte == "base64":
        encoded = base64.b64encode(data)
        lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
        return newline.join(lines) + newline
    if cte == "quoted-printable":
        text = binascii.b2a_qp(data.replace(b"\r\n", b"\n"))
        return text.replace(b"\n", newline)
    return data


def _set_header(head: bytes, name: str, value: str, newline: bytes) -> bytes:
    """Replace (or add) one header field in a part's header block, leaving the others alone."""
    lines = head.splitlines(keepends=True)
    kept = [
        line for line in lines if line.split(b":", 1)[0].strip().lower() != name.lower().encode()
    ]
    # the header block ends with the blank line that separates it from the body
    while kept and not kept[-1].strip():
        kept.pop()
    return b"".join(kept) + f"{name}: {value}".encode() + newline + newline


def _text_leaves(raw: bytes) -> list[_Leaf]:
    """Every text/plain and text/html leaf, in MIME walk order, with its byte span."""
    leaves: list[_Leaf] = []
    _walk(raw, 0, len(raw), leaves, depth=0)
    return leaves


def _walk(raw: bytes, start: int, end: int, leaves: list[_Leaf], depth: int) -> None:
    if depth > 64:
        raise FooterError("MIME nesting too deep")
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
            raise FooterError(f"{ctype} without a boundary")
        for part_start, part_end in _parts(raw, body_start, end, boundary.encode()):
            _walk(raw, part_start, part_end, leaves, depth + 1)
        return
    if ctype in ("text/plain", "text/html"):
        cte = str(headers.get("content-transfer-encoding", "")).strip().lower()
        leaves.append(_Leaf(ctype, start, body_start, end, cte))


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
