"""The parsed message: one parse per mail, shared read-only by every policy.

INTERFACE DRAFT — the message helper replaces the body of ``parse`` and may add
helpers, but keeps these names and fields: policies are written against them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Link:
    """A link a reader can follow: an HTML anchor (with its visible text) or a bare URL."""

    url: str
    text: str = ""


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

    @cached_property
    def normalized(self) -> str:
        """NFKC view for matching: full-width digits, half-width kana, ㈱ and the like fold."""
        return unicodedata.normalize("NFKC", self.text)


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
    def from_display(self) -> str:
        raise NotImplementedError

    @cached_property
    def from_address(self) -> str:
        """The addr-spec of From ("" when there is none)."""
        raise NotImplementedError

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
        return unicodedata.normalize("NFKC", self.text)


def parse(raw: bytes) -> ParsedMessage:
    """Parse a mail once; never raises on malformed input (defects are recorded)."""
    raise NotImplementedError
