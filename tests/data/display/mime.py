"""Byte-exact MIME assembly for the display corpus (make_corpus.py).

Every mail is written as it goes over SMTP: CRLF line ends, RFC 2047
encoded-words in From and Subject, each text part encoded in its own charset
and transfer encoding. Nothing here decides what a mail says.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass
from urllib.parse import quote

# MIME charset label -> Python codec that writes it.
CODECS = {
    "iso-2022-jp": "iso2022_jp",
    "shift_jis": "shift_jis",
    "euc-jp": "euc_jp",
    "utf-8": "utf-8",
    "us-ascii": "ascii",
}


@dataclass(frozen=True)
class Part:
    """A MIME entity: its header lines (without CRLF) and its encoded body."""

    headers: tuple[str, ...]
    body: bytes


def encoded_word(text: str, charset: str = "utf-8", limit: int = 42) -> str:
    """RFC 2047 B encoding, one encoded-word per chunk, folded with CRLF SP.

    Each chunk is encoded on its own, so an ISO-2022-JP word always returns
    to ASCII before it ends (RFC 1468).
    """
    if text.isascii():
        return text
    codec = CODECS[charset]
    words: list[str] = []
    chunk = ""
    for ch in text:
        if chunk and len((chunk + ch).encode(codec)) > limit:
            words.append(_b_word(chunk, charset))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(_b_word(chunk, charset))
    return "\r\n ".join(words)


def _b_word(text: str, charset: str) -> str:
    data = base64.b64encode(text.encode(CODECS[charset])).decode("ascii")
    return f"=?{charset.upper() if charset != 'utf-8' else 'UTF-8'}?B?{data}?="


def mailbox(name: str, address: str, charset: str = "utf-8") -> str:
    """A From/To value: an encoded display name, a quoted ASCII one, or the bare address."""
    if not name:
        return address
    if name.isascii():
        return f'"{name}" <{address}>' if any(c in name for c in ",.;:") else f"{name} <{address}>"
    return f"{encoded_word(name, charset)} <{address}>"


def encode_text(text: str, charset: str) -> bytes:
    """The text in that charset with CRLF line ends; ISO-2022-JP line by line."""
    codec = CODECS[charset]
    lines = text.replace("\r\n", "\n").split("\n")
    return b"\r\n".join(line.encode(codec) for line in lines)


def transfer_encode(data: bytes, cte: str) -> bytes:
    """The body as it goes on the wire (``data`` already has CRLF line ends)."""
    if cte in ("7bit", "8bit"):
        if cte == "7bit" and not data.isascii():
            raise ValueError("8-bit data in a 7bit part")
        if any(len(line) > 998 for line in data.split(b"\r\n")):
            raise ValueError("line longer than 998 octets")
        return data if data.endswith(b"\r\n") else data + b"\r\n"
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if cte == "quoted-printable":
        lf = data.replace(b"\r\n", b"\n")
        encoded = quopri.encodestring(lf)
        if not encoded.endswith(b"\n"):
            encoded += b"\n"
        return encoded.replace(b"\n", b"\r\n")
    raise ValueError(f"unknown transfer encoding {cte}")


def text(
    body: str,
    charset: str,
    cte: str,
    subtype: str = "plain",
    filename: str | None = None,
    inline: bool = False,
) -> Part:
    """A text/plain or text/html part; ``filename`` makes it an attachment."""
    headers = [f'Content-Type: text/{subtype}; charset="{charset}"']
    headers.append(f"Content-Transfer-Encoding: {cte}")
    if filename is not None:
        headers.append("Content-Disposition: attachment; " + _filename(filename))
    elif inline:
        headers.append("Content-Disposition: inline")
    return Part(tuple(headers), transfer_encode(encode_text(body, charset), cte))


def binary(data: bytes, content_type: str, filename: str) -> Part:
    """A base64 attachment (PDF, calendar, image)."""
    headers = (
        f"Content-Type: {content_type}",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; " + _filename(filename),
    )
    return Part(headers, transfer_encode(data, "base64"))


def _filename(name: str) -> str:
    if name.isascii():
        return f'filename="{name}"'
    return "filename*=UTF-8''" + quote(name, safe="")


def multipart(subtype: str, boundary: str, *parts: Part) -> Part:
    """multipart/<subtype> around the parts, with a preamble as mailers write it."""
    out = [b"This is a multi-part message in MIME format.\r\n"]
    for part in parts:
        out.append(f"--{boundary}\r\n".encode("ascii"))
        out.append("".join(h + "\r\n" for h in part.headers).encode("ascii") + b"\r\n")
        out.append(part.body if part.body.endswith(b"\r\n") else part.body + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    headers = (f'Content-Type: multipart/{subtype}; boundary="{boundary}"',)
    return Part(headers, b"".join(out))


def message(top: list[str], content: Part) -> bytes:
    """The whole mail: top headers, MIME-Version, the content's headers, then its body."""
    headers = [*top, "MIME-Version: 1.0", *content.headers]
    head = "".join(h + "\r\n" for h in headers)
    return head.encode("ascii") + b"\r\n" + content.body
