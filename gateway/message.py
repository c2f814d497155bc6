"""The parsed message: one parse per mail, shared read-only by every policy.

Its names and fields are part of the public policy API (re-exported by
gateway.api). Parsing uses the fast compat32 policy and decodes every text part
itself, whatever its charset label says; ``raw`` is never re-serialised.
"""

from __future__ import annotations

import email
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value, getaddresses
from functools import cached_property

from gateway import charsets, htmltext, mime


@dataclass(frozen=True)
class Link:
    """A link a reader can follow: an HTML anchor (with its visible text) or a bare URL."""

    url: str
    text: str = ""


@dataclass(frozen=True)
class HiddenText:
    """Text in an HTML part that a reader does not see, and why (for a finding's evidence)."""

    text: str
    reason: str  # e.g. "display:none", "colour #ffffff on background #ffffff", "font-size:1px"
    links: tuple[str, ...] = ()  # hrefs inside it, which a reader cannot follow either


@dataclass(frozen=True)
class TextPart:
    """One text/plain or text/html MIME part, decoded to ``str`` whatever its label said."""

    index: int  # position among the message's text parts, in MIME walk order
    content_type: str  # "text/plain" or "text/html"
    charset: str  # the codec that decoded it, normalised (e.g. "iso-2022-jp", "shift_jis")
    declared_charset: str | None  # the label as the mail wrote it, None if absent
    transfer_encoding: str  # "7bit", "8bit", "base64", "quoted-printable", "binary"
    text: str  # what a reader sees: the plain text, or the rendered text of the HTML
    source: str  # decoded source: the markup for HTML, the same as ``text`` for plain
    links: tuple[Link, ...] = ()
    attachment: bool = False  # Content-Disposition: attachment (never counts as a display)
    alternative: int | None = None  # id of its multipart/alternative group, if any
    hidden: tuple[HiddenText, ...] = ()  # HTML only: what is there but not seen

    @cached_property
    def normalized(self) -> str:
        """NFKC view for matching: full-width digits, half-width kana, ㈱ and the like fold."""
        return nfkc(self.text)


@dataclass
class ParsedMessage:
    """Headers decoded to ``str`` and every text part decoded; ``raw`` is never re-serialised."""

    raw: bytes
    headers: list[tuple[str, str]]  # (name as written, decoded unfolded value), in order
    parts: tuple[TextPart, ...]
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), decoded."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    @property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @property
    def message_id(self) -> str:
        return self.header("Message-ID") or ""

    @cached_property
    def _from(self) -> tuple[str, str]:
        return parse_address(self.header("From") or "")

    @cached_property
    def from_display(self) -> str:
        """The decoded display name of From ("" when there is none)."""
        return self._from[0]

    @cached_property
    def from_address(self) -> str:
        """The addr-spec of From ("" when there is none)."""
        return self._from[1]

    @property
    def from_domain(self) -> str:
        """The From domain, lower-cased ("" when there is none)."""
        _, _, domain = self.from_address.rpartition("@")
        return domain.lower()

    @property
    def body_parts(self) -> tuple[TextPart, ...]:
        """The text parts a reader reads as the mail: attachments left out."""
        return tuple(p for p in self.parts if not p.attachment)

    @cached_property
    def text(self) -> str:
        """All visible body text, parts separated by a blank line."""
        return "\n\n".join(p.text for p in self.body_parts)

    @cached_property
    def normalized(self) -> str:
        """NFKC view of ``text``, from the parts' own views (NFKC never joins across lines)."""
        return "\n\n".join(p.normalized for p in self.body_parts)


# Full-width ASCII and the ideographic space: the compatibility characters of nearly every
# Japanese mail, and all that keeps most of them from being NFKC already.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]+")
_DECOMPOSED = {c: unicodedata.normalize("NFKD", chr(c)) for c in (*range(0xFF01, 0xFF5F), 0x3000)}


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, three times faster on Japanese mail.

    CPython normalises the whole string once its quick check fails, at about
    80 ns a character. Replacing a character by its NFKD decomposition never
    changes the NFKC of a text, so the full-width forms are replaced first (a
    C-speed translate of each run); most texts then pass the quick check as
    they are, and the rest (half-width kana, ㈱, …) are normalised in full.
    """
    if text.isascii():
        return text
    text = _FULL_WIDTH.sub(lambda m: m[0].translate(_DECOMPOSED), text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


# Deeper MIME nesting than any real mail: stop walking rather than recurse without bound.
_MAX_DEPTH = 64
_ANGLE_ADDR = re.compile(r"<\s*([^<>\s]*@[^<>\s]*)\s*>\s*(?:\([^()]*\)\s*)?$")
_PLAIN_URL = r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
_PLAIN_LINK = re.compile(_PLAIN_URL + r"|[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# Without an "@" no address can match: the URL alone is searched, 20 times faster (the
# address alternative tries every letter of the text).
_PLAIN_URL_ONLY = re.compile(_PLAIN_URL)


LARGE_BYTES = 1 << 20
"""Mails over this size are parsed without the bodies of their non-text leaves."""


def parse(raw: bytes) -> ParsedMessage:
    """Parse a mail once; never raises on malformed input (defects are recorded).

    A large mail is parsed as its skeleton (``skeleton``): what a policy reads
    is all there, and a 25 MB attachment is not turned into lines and strings.
    """
    return _parse(raw, skeleton(raw) if len(raw) > LARGE_BYTES else raw)


def skeleton(raw: bytes) -> bytes:
    """``raw`` with the bodies of its attachments removed: every leaf that is not text,
    a message or a multipart left without a boundary (gateway.mime locates them byte for
    byte); headers, boundaries and text parts stay as they are. A mail whose structure
    gateway.mime cannot locate is returned whole."""
    try:
        found = mime.leaves(raw)
    except mime.MimeError:
        return raw
    pieces, pos = [], 0
    for leaf in found:
        if leaf.header_start == leaf.body_start or leaf.content_type.startswith(
            ("text/", "message/", "multipart/")
        ):
            continue
        pieces.append(raw[pos : leaf.body_start])
        pos = leaf.body_end
    if not pieces:
        return raw
    pieces.append(raw[pos:])
    return b"".join(pieces)


def _parse(raw: bytes, shown: bytes) -> ParsedMessage:
    try:
        msg = email.message_from_bytes(shown, policy=compat32)
    except Exception as exc:  # the parser is lenient; this is the never-raise guarantee
        return ParsedMessage(raw, [], (), [f"unparsable message: {exc!r}"])
    headers = [(name, _header_text(value)) for name, value in msg.raw_items()]
    walker = _Walker()
    walker.visit(msg, attachment=False, alternative=None, depth=0)
    return ParsedMessage(raw, headers, tuple(walker.parts), walker.defects)


def parse_address(value: str) -> tuple[str, str]:
    """(display name, addr-spec) of the first mailbox in a decoded address header.

    Works on the decoded text because mailers put a whole ``Name <addr>`` in one
    encoded word; a trailing ``<addr>`` is taken first so that commas in a
    decoded, now unquoted, display name do not split it.
    """
    for mailbox in _mailboxes(value):
        match = _ANGLE_ADDR.search(mailbox)
        if match is not None:
            return _unquote(mailbox[: match.start()]), match.group(1)
        for name, addr in getaddresses([mailbox]):
            if "@" in addr:
                return _unquote(name), addr
    return _unquote(value), ""


def _mailboxes(value: str) -> list[str]:
    """Split at top-level commas, gluing back pieces with no "@" (a decoded "Co., Ltd.")."""
    pieces: list[str] = []
    depth, quoted, start = 0, False, 0
    for pos, ch in enumerate(value):
        if ch == '"' and (pos == 0 or value[pos - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch in "<(":
            depth += 1
        elif not quoted and ch in ">)" and depth:
            depth -= 1
        elif ch == "," and not quoted and not depth:
            pieces.append(value[start:pos])
            start = pos + 1
    pieces.append(value[start:])
    mailboxes: list[str] = []
    pending = ""
    for piece in pieces:
        pending = f"{pending},{piece}" if pending else piece
        if "@" in piece:
            mailboxes.append(pending)
            pending = ""
    if pending:
        mailboxes.append(pending)
    return mailboxes


def plain_links(text: str) -> tuple[Link, ...]:
    """Bare http(s) URLs and e-mail addresses (as mailto:) in plain text, in order."""
    links: list[Link] = []
    for match in (_PLAIN_LINK if "@" in text else _PLAIN_URL_ONLY).finditer(text):
        found = match.group(0)
        if found.startswith(("http://", "https://")):
            links.append(Link(_trim_url(found)))
        else:
            links.append(Link("mailto:" + found.rstrip(".")))
    return tuple(links)


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a closing bracket it did not open."""
    while url and url[-1] in ".,;:!?'\"":
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(".,;:!?")
    return url


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name.strip()


def _header_text(value: object) -> str:
    return charsets.decode_header(value if isinstance(value, str) else str(value))


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    value = part.get_param(name, header=header)
    if value is None:
        return None
    return collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value)


class _Walker:
    """Collects text parts in MIME walk order with their attachment and alternative context."""

    def __init__(self) -> None:
        self.parts: list[TextPart] = []
        self.defects: list[str] = []
        self.alternatives = 0

    def visit(self, part: Message, attachment: bool, alternative: int | None, depth: int) -> None:
        # compat32 splits only at ";": a parameter folded without one stays in the type.
        ctype = part.get_content_type().split()[0]
        try:
            disposition = part.get_content_disposition()
        except Exception:  # a Content-Disposition the parser chokes on is no disposition
            disposition = None
        attachment = attachment or disposition == "attachment"
        payload = part.get_payload()
        if isinstance(payload, list):
            if depth >= _MAX_DEPTH:
                self.defects.append(f"MIME nesting deeper than {_MAX_DEPTH}: rest skipped")
                return
            self._note(part)
            if ctype == "multipart/alternative":
                self.alternatives += 1
                alternative = self.alternatives
            inner = attachment or ctype.startswith("message/")
            for child in payload:
                if isinstance(child, Message):
                    self.visit(child, inner, alternative, depth + 1)
            return
        if ctype.startswith("multipart/") and isinstance(payload, str) and payload.strip():
            # No boundary found: what a reader may see is the raw body, so policies see it too.
            self.defects.append(f"{ctype} without parts read as text/plain")
            ctype = "text/plain"
        if ctype not in ("text/plain", "text/html"):
            self._note(part)
            return
        try:
            self.parts.append(self._text_part(part, ctype, attachment, alternative, disposition))
        except Exception as exc:  # never-raise: the part is lost, the defect says so
            self.defects.append(f"text part {len(self.parts)} unreadable: {exc!r}")
        self._note(part)

    def _note(self, part: Message) -> None:
        self.defects.extend(type(defect).__name__ for defect in part.defects)

    def _text_part(
        self,
        part: Message,
        ctype: str,
        attachment: bool,
        alternative: int | None,
        disposition: str | None,
    ) -> TextPart:
        label = _param(part, "charset")
        if not attachment and disposition != "inline":
            attachment = (
                _param(part, "filename", "content-disposition") is not None
                or _param(part, "name") is not None
            )
        cte = str(part.get("content-transfer-encoding", "")).strip().lower() or "7bit"
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        source, codec = charsets.decode(data, label)
        source = source.replace("\r\n", "\n")
        hidden: tuple[HiddenText, ...] = ()
        if ctype == "text/html":
            rendered = htmltext.render(source)
            text = rendered.text
            links = tuple(Link(url, anchor) for url, anchor in rendered.links)
            hidden = tuple(HiddenText(*item) for item in rendered.hidden)
        else:
            text = source
            links = plain_links(text)
        return TextPart(
            index=len(self.parts),
            content_type=ctype,
            charset=codec,
            declared_charset=label,
            transfer_encoding=cte,
            text=text,
            source=source,
            links=links,
            attachment=attachment,
            alternative=alternative,
            hidden=hidden,
        )
