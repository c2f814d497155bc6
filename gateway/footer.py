"""The footer fix: append a sender profile's display block to a mail that lacks display items.

The block goes into the main text/plain part in that part's own charset and
transfer encoding, and before ``</body>`` of the main text/html part (before
``</html>`` when there is no ``</body>``, at the end when neither is there),
so the items sit where the reader reads and in the main text's encoding
(LAW.md D6).
Only the bodies of those parts change: the rest of the mail, headers and
MIME structure included, is copied byte for byte.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from string import Formatter

from gateway import charsets
from gateway.message import ParsedMessage, TextPart
from gateway.mime import (
    Leaf,
    MimeError,
    newline_of,
    set_header,
    text_leaves,
    transfer_decode,
    transfer_encode,
)
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

FooterError = MimeError
"""The block cannot be added to this mail (unknown structure, charset that cannot hold it)."""

_URL = re.compile(r"(https?://[^\s<>\"]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_HTML_END = re.compile(rb"</html\s*>", re.IGNORECASE)


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
    leaves = text_leaves(message.raw)
    if [leaf.content_type for leaf in leaves] != [p.content_type for p in message.parts]:
        raise FooterError("the MIME structure could not be located byte for byte")
    targets = main_parts(message)
    if not targets:
        raise FooterError("the mail has no text part to carry the display block")
    raw = message.raw
    for part in sorted(targets, key=lambda p: p.index, reverse=True):
        leaf = leaves[part.index]
        head, body = _rewrite(leaf, raw, part, block)
        raw = raw[: leaf.header_start] + head + body + raw[leaf.body_end :]
    return raw


def main_parts(message: ParsedMessage) -> list[TextPart]:
    """The parts the block goes into: the first body text/plain and the first body text/html,
    what a reader reads as the mail."""
    chosen: dict[str, TextPart] = {}
    for part in message.parts:
        if not part.attachment:
            chosen.setdefault(part.content_type, part)
    return list(chosen.values())


def unseen(fixed: ParsedMessage, parts: Sequence[TextPart], block: str) -> list[tuple[str, str]]:
    """The parts the block went into where a reader of ``fixed`` does not see it, and why.

    Each is (part, why): the block is in the part's hidden text (display:none
    around the insertion point, say), or not in its rendered text at all.
    Lines are compared by their letters and digits only (NFKC), so a dash or
    a space the charset wrote otherwise does not count as unseen.
    """
    lines = [key for key in (_seen_key(line) for line in block.split("\n")) if key]
    found = []
    for part in parts:
        shown = fixed.parts[part.index] if part.index < len(fixed.parts) else None
        text = _seen_key(shown.text) if shown is not None else ""
        missing = [line for line in lines if line not in text]
        if shown is None or not missing:
            continue
        reason = next(
            (f"hidden ({h.reason})" for h in shown.hidden if missing[0] in _seen_key(h.text)),
            "not in the text a reader is shown",
        )
        found.append((f"{part.content_type} part #{part.index}", reason))
    return found


def _seen_key(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def _rewrite(leaf: Leaf, raw: bytes, part: TextPart, block: str) -> tuple[bytes, bytes]:
    head = raw[leaf.header_start : leaf.body_start]
    body = raw[leaf.body_start : leaf.body_end]
    newline = newline_of(body + head)
    data = transfer_decode(body, leaf.transfer_encoding)
    if part.content_type == "text/html":
        added = _encode(_html_block(block), part.charset)
        cut = _insertion_point(data)
        data = data[:cut] + added + newline + data[cut:]
    else:
        added = _encode(block.replace("\n", newline.decode()), part.charset)
        if data and not data.endswith(b"\n"):
            data += newline
        data += newline + added + newline
    cte = leaf.transfer_encoding
    if cte in ("", "7bit") and re.search(rb"[\x80-\xff]", data):
        cte = "quoted-printable"
        head = set_header(head, "Content-Transfer-Encoding", cte, newline)
    return head, transfer_encode(data, cte, newline)


def _insertion_point(data: bytes) -> int:
    """Before the last ``</body>``; without one, before the last ``</html>``; else the end.

    Content after ``</html>`` is shown by browsers (HTML5 moves it into the
    body), but it stands outside the document, where other readers may drop it.
    """
    for end in (_BODY_END, _HTML_END):
        found = [m.start() for m in end.finditer(data)]
        if found:
            return found[-1]
    return len(data)


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
