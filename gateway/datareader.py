"""DATA read in chunks: aiosmtpd 1.4.6's DATA rules, without its cost per line.

aiosmtpd reads the body of DATA with one ``readuntil(b"\\r\\n")`` and one debug
log call per line: at 50 KB that is half of a bare relay's time (DESIGN.md,
"What is fast here"). :class:`ChunkedDataSMTP` takes whatever the socket
delivered (up to :data:`CHUNK` bytes a call) and applies the same rules to the
whole chunk with ``bytes.find``, ``split`` and ``replace``:

- DATA ends only at a line that is exactly ``.<CR><LF>``: lines end at
  ``<CR><LF>`` only, a bare LF or CR is data, so ``<LF>.<LF>``, ``<LF>.<CR><LF>``
  and the other SMTP-smuggling sequences never end it (aiosmtpd 1.4.5's fix);
- a line that starts with ``.`` loses that dot (RFC 5321 §4.5.2), also a
  ``.x`` line an unstuffing client sent;
- a line longer than ``line_length_limit`` bytes (1001, its CRLF and a
  transparent dot included) gets ``500 Line too long``, more than
  ``data_size_limit`` bytes (counted before unstuffing) ``552``; both are
  answered after the terminator, the rest being read and dropped, and when one
  line breaks both, the one aiosmtpd meets first wins (see :meth:`_Body.add`);
- bytes after the terminator (pipelined commands) stay for the next command.

Replies, the envelope's ``content`` and ``original_content``, and the state
the session is left in are aiosmtpd's; ``tests/test_datareader.py`` checks that
against a stock aiosmtpd server byte for byte.
"""

from __future__ import annotations

import asyncio
import enum
import io
import logging

from aiosmtpd.smtp import MISSING, SMTP, syntax

log = logging.getLogger(__name__)

CHUNK = 1 << 18
"""Largest read: what one ``recv`` of asyncio's selector transport can deliver (256 KiB)."""

_END = b"\r\n.\r\n"


class DataState(enum.Enum):
    """aiosmtpd's ``_DataState``: how a DATA body ended."""

    NOMINAL = enum.auto()
    TOO_LONG = enum.auto()
    TOO_MUCH = enum.auto()


class _Body:
    """The lines of one DATA body so far: their content unstuffed, their raw size, the verdict."""

    def __init__(self, size_limit: int | None, line_limit: int) -> None:
        self.size_limit = size_limit or 0  # aiosmtpd: None or 0 means no limit
        self.line_limit = line_limit
        self.size = 0
        self.state = DataState.NOMINAL
        self.parts = io.BytesIO()  # grows in place; getvalue() hands over its buffer, no copy

    def add(self, lines: bytes) -> None:
        """Whole lines (each ending in CRLF, the first at a line start), in stream order.

        Usually one check for the whole block; when a limit breaks, line by line
        in aiosmtpd's order: a line longer than the reader's limit plus its CRLF
        is refused before it is counted (StreamReader's ``LimitOverrunError``),
        any other line is counted first, then checked for length — so a
        1002-byte line that also crosses the size limit is a 552, a 1004-byte
        one a 500.
        """
        if not lines or self.state is not DataState.NOMINAL:
            return
        size = self.size + len(lines)
        if (self.size_limit and size > self.size_limit) or _longest(lines) > self.line_limit:
            start = 0
            while start < len(lines):
                end = lines.index(b"\r\n", start) + 2
                length = end - start
                if length > self.line_limit + 2:
                    self._fail(DataState.TOO_LONG)
                    return
                self.size += length
                if self.size_limit and self.size > self.size_limit:
                    self._fail(DataState.TOO_MUCH)
                    return
                if length > self.line_limit:
                    self._fail(DataState.TOO_LONG)
                    return
                start = end
        else:
            self.size = size
        self.parts.write(_unstuff(lines))

    def add_partial(self, length: int) -> None:
        """A line still without its CRLF: at ``line_limit + 2`` bytes it can only be too long."""
        if self.state is DataState.NOMINAL and length >= self.line_limit + 2:
            self._fail(DataState.TOO_LONG)

    def content(self) -> bytes:
        return self.parts.getvalue()

    def _fail(self, state: DataState) -> None:
        self.state = state
        self.parts = io.BytesIO()  # not kept while the rest is drained


def _longest(lines: bytes) -> int:
    """The longest of ``lines``, its CRLF included."""
    return max(map(len, lines.split(b"\r\n"))) + 2


def _unstuff(lines: bytes) -> bytes:
    """Remove the first dot of every line (RFC 5321 §4.5.2), as aiosmtpd does."""
    if lines.startswith(b"."):
        lines = lines[1:]
    return lines.replace(b"\r\n.", b"\r\n")


def _unread(reader: asyncio.StreamReader, data: bytes) -> None:
    """Put back what followed the terminator: the client's next commands.

    StreamReader has no unread; aiosmtpd itself works on its reader's
    ``_buffer`` (``SMTP.connection_made``). Prepended, because more may have
    arrived behind it.
    """
    if data:
        reader._buffer[0:0] = data  # type: ignore[attr-defined]


async def read_body(
    reader: asyncio.StreamReader, size_limit: int | None, line_limit: int
) -> tuple[DataState, bytes] | None:
    """Read one DATA body up to and including its terminator; None if the client hung up.

    While within the limits, ``partial`` holds the line being received (it
    starts at a line start, so a terminator is ``.<CR><LF>`` at its start or
    ``<CR><LF>.<CR><LF>`` anywhere). Once a limit broke, only the last 4 bytes
    are kept (``tail``, ``<CR><LF>`` before the first line) so that a
    terminator split across reads is still found and memory stays bounded
    however much the client sends.
    """
    body = _Body(size_limit, line_limit)
    partial = b""
    tail = b"\r\n"
    while True:
        chunk = await reader.read(CHUNK)
        if not chunk:
            return None
        if body.state is DataState.NOMINAL:
            data = partial + chunk if partial else chunk
            if data.startswith(b".\r\n"):
                _unread(reader, data[3:])
                break
            end = data.find(_END)
            if end >= 0:
                body.add(data[: end + 2])
                _unread(reader, data[end + 5 :])
                break
            cut = data.rfind(b"\r\n")
            cut = cut + 2 if cut >= 0 else 0
            body.add(data[:cut])
            partial = data[cut:]
            body.add_partial(len(partial))
            if body.state is not DataState.NOMINAL:
                partial = b""
                tail = data[-4:] if len(data) >= 4 else (tail + data)[-4:]
        else:
            window = tail + chunk
            end = window.find(_END)
            if end >= 0:
                _unread(reader, window[end + 5 :])
                break
            tail = window[-4:]
    return body.state, body.content()


class ChunkedDataSMTP(SMTP):
    """aiosmtpd's SMTP with :func:`read_body` reading DATA; every other command is aiosmtpd's."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd 1.4.6's ``smtp_DATA`` step for step, the body read in chunks.

        Not reproduced: the debug log of every line, and the deprecated
        ``process_message`` handler API (a handler without ``handle_DATA`` gets
        ``250 OK``). A client hanging up mid-DATA ends the session as in
        aiosmtpd (CancelledError, the writer closed), also in the rare order
        where its EOF arrives before the cancellation.
        """
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return

        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            result = await read_body(self._reader, self.data_size_limit, self.line_length_limit)
            if result is None:
                raise asyncio.CancelledError
        except asyncio.CancelledError:
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        state, original_content = result

        if state is DataState.TOO_LONG:
            await self.push("500 Line too long (see RFC5321 4.5.3.1.6)")
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        if state is DataState.TOO_MUCH:
            await self.push("552 Error: Too much mail data")
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return

        content: str | bytes
        if self._decode_data:
            if self.enable_SMTPUTF8:
                content = original_content.decode("utf-8", errors="surrogateescape")
            else:
                try:
                    content = original_content.decode("ascii", errors="strict")
                except UnicodeDecodeError:
                    # aiosmtpd answers so and keeps the envelope: the client may RSET.
                    await self.push("500 Error: strict ASCII mode")
                    return
        else:
            content = original_content
        self.envelope.content = content
        self.envelope.original_content = original_content

        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)
