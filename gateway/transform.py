"""Changes to the relayed bytes: a header prepended, client-only headers removed.

The original bytes are relayed; nothing is re-serialised, so a signature or
an 8-bit body the client sent survives untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DECISION_HEADER = "X-Tokuden-Decision"

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def strip_headers(raw: bytes, names: Iterable[str]) -> bytes:
    """Remove every header field of these names (with its folded lines) from the header block.

    A mail without such a field is returned as it is (the same object): most
    are, and a large mail is then not copied.
    """
    wanted = {n.lower().encode("ascii") for n in names}
    end = _HEADER_END.search(raw)
    split = (
        end.start() + (2 if raw[end.start() : end.start() + 1] == b"\r" else 1) if end else len(raw)
    )
    head = raw[:split]
    if not any(name in head.lower() for name in wanted):
        return raw
    kept: list[bytes] = []
    dropping = False
    for line in head.splitlines(keepends=True):
        if line[:1] not in (b" ", b"\t"):
            dropping = line.split(b":", 1)[0].strip().lower() in wanted
        if not dropping:
            kept.append(line)
    return b"".join([*kept, memoryview(raw)[split:]])


def header_field(raw: bytes, name: str, value: str) -> bytes:
    """A header field to put in front of ``raw``, ending in the line ending ``raw`` uses."""
    newline = b"\r\n" if b"\r\n" in raw[:1000] or not raw else b"\n"
    return f"{name}: {value}".encode("ascii") + newline
