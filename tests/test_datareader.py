"""The chunked DATA reader against stock aiosmtpd 1.4.6, over real sockets.

Every test is differential: the same bytes go to a stock ``aiosmtpd.smtp.SMTP``
(the reference peer) and to ``ChunkedDataSMTP`` (or to the gateway's own
server with stock and with chunked DATA), and the two must write the same
replies and hand their handler the same envelopes and content. Where RFC 5321
says what must happen (the terminator, dot-unstuffing, no smuggled second
message), the test asserts that too. Nothing expected comes from running our
own reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import smtplib
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax

import gateway.smtp
from gateway.config import Config
from gateway.datareader import CHUNK, ChunkedDataSMTP
from gateway.profile import SenderProfile
from gateway.replies import S552_TOO_BIG, Reply
from gateway.service import Session as GatewaySession
from gateway.smtp import Server, start_server
from tests.peers import make_certificate
from tests.test_smtp import in_thread, make_config

HELO = b"HELO c.test\r\n"
ENVELOPE = b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
HEAD = HELO + ENVELOPE
SECOND = b"MAIL FROM:<c@x.test>\r\nRCPT TO:<d@y.test>\r\nDATA\r\n"
QUIT = b"QUIT\r\n"
MAIL = b"From: a@x.test\r\nTo: b@y.test\r\nSubject: hi\r\n\r\nhello\r\n"

Message = tuple[str | None, list[str], bytes | str | None, bytes | None]


class Recorder:
    """A handler keeping what each DATA handed it, and answering as aiosmtpd's examples do."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                envelope.original_content,
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class Talk:
    """One connection: bytes sent in these pieces, then QUIT's EOF awaited, a stall or a hang-up."""

    pieces: Sequence[bytes]
    end: str = "read"  # "read": until the server closes; "hang up": close at once
    tls: ssl.SSLContext | None = None  # EHLO and STARTTLS first, the pieces inside TLS
    pause: float = 0  # seconds between pieces


@dataclass
class Outcome:
    transcripts: list[bytes] = field(default_factory=list)  # all the server wrote, per connection
    messages: list[Message] = field(default_factory=list)  # what handle_DATA got, in order


@asynccontextmanager
async def serving(cls: type[SMTP], **options: Any) -> AsyncIterator[tuple[int, Recorder]]:
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    server = await loop.create_server(
        lambda: cls(recorder, hostname="mx.test", ident="test", loop=loop, **options),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        await server.wait_closed()


async def talk(port: int, conversation: Talk) -> bytes:
    """Send each piece as its own TCP write (NODELAY, drained, the loop let run in between).

    Replies are read all along, so a server that hangs up early loses nothing
    of what it wrote; writes after that are dropped.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if conversation.tls is not None:
        writer.write(b"EHLO c.test\r\nSTARTTLS\r\n")
        await reader.readline()  # the greeting
        while (await reader.readline())[:4] == b"250-":
            pass
        assert (await reader.readline()).startswith(b"220 ")
        await writer.start_tls(conversation.tls, server_hostname="localhost")

    async def read_all() -> bytes:
        received = b""
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                received += chunk
        return received

    reading = asyncio.create_task(read_all())
    with contextlib.suppress(ConnectionError):
        for piece in conversation.pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(conversation.pause)
            await asyncio.sleep(0)
    if conversation.end == "read":
        received = await asyncio.wait_for(reading, timeout=20)
    else:
        reading.cancel()
        received = b""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return received


def with_line_limit(cls: type[SMTP], limit: int) -> type[SMTP]:
    """The same class with another ``line_length_limit`` (also its StreamReader's limit)."""
    return type(f"{cls.__name__}Limit{limit}", (cls,), {"line_length_limit": limit})


async def differential(*conversations: Talk, line_limit: int = 0, **options: Any) -> Outcome:
    """Run the conversations against stock aiosmtpd, then ours; assert the same; return stock's."""
    outcomes = []
    for cls in (SMTP, ChunkedDataSMTP):
        server_cls = with_line_limit(cls, line_limit) if line_limit else cls
        outcome = Outcome()
        async with serving(server_cls, **options) as (port, recorder):
            for conversation in conversations:
                outcome.transcripts.append(await talk(port, conversation))
            await asyncio.sleep(0.01)  # a hung-up connection's end handled
        outcome.messages = recorder.messages
        outcomes.append(outcome)
    stock, ours = outcomes
    assert ours.transcripts == stock.transcripts
    assert ours.messages == stock.messages
    return stock


def replies(transcript: bytes) -> list[bytes]:
    """The reply codes, greeting and 221 included."""
    return [line[:3] for line in transcript.split(b"\r\n") if line]


def one_message(body: bytes) -> Talk:
    return Talk([HEAD, body, QUIT])


# --- the terminator and dot-unstuffing ------------------------------------------


async def test_plain_message_and_its_content() -> None:
    outcome = await differential(one_message(MAIL + b".\r\n"))
    assert replies(outcome.transcripts[0]) == [
        b"220",
        b"250",
        b"250",
        b"250",
        b"354",
        b"250",
        b"221",
    ]
    assert outcome.messages == [("a@x.test", ["b@y.test"], MAIL, MAIL)]


async def test_empty_message() -> None:
    outcome = await differential(one_message(b".\r\n"))
    assert outcome.messages == [("a@x.test", ["b@y.test"], b"", b"")]


async def test_empty_lines_only() -> None:
    outcome = await differential(one_message(b"\r\n\r\n.\r\n"))
    assert outcome.messages[0][3] == b"\r\n\r\n"


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (b"Subject: x\r\n\r\n..leading dot\r\n", b"Subject: x\r\n\r\n.leading dot\r\n"),
        (b"Subject: x\r\n\r\n..\r\nafter\r\n", b"Subject: x\r\n\r\n.\r\nafter\r\n"),  # a line "."
        (b"..starts with a dot\r\n", b".starts with a dot\r\n"),
        (b"..\r\n", b".\r\n"),
        (b"...\r\n", b"..\r\n"),
        (b"a\r\n..\r\n", b"a\r\n.\r\n"),  # the "." line right before the terminator
        (b".unstuffed by a careless client\r\n", b"unstuffed by a careless client\r\n"),
        (b"a.\r\nb..c\r\n", b"a.\r\nb..c\r\n"),  # dots elsewhere stay
        (b"a\n..b\r\n", b"a\n..b\r\n"),  # after a bare LF: not a line start
    ],
    ids=["dotdot-line", "dot-line", "first-line", "only-dotdot", "three-dots", "last-line",
         "single-dot", "inner-dots", "after-bare-lf"],
)  # fmt: skip
async def test_dot_unstuffing(sent: bytes, received: bytes) -> None:
    """RFC 5321 §4.5.2: the first dot of a line that starts with one is removed."""
    outcome = await differential(one_message(sent + b".\r\n"))
    assert outcome.messages[0][3] == received


async def test_terminator_split_at_every_byte_offset() -> None:
    stream = HEAD + b"Subject: x\r\n\r\n..a\r\nbody\r\n.\r\n" + QUIT
    start = len(HEAD)
    cuts = range(start, len(stream))
    outcome = await differential(*(Talk([stream[:i], stream[i:]]) for i in cuts))
    assert len(outcome.messages) == len(cuts)
    assert {m[3] for m in outcome.messages} == {b"Subject: x\r\n\r\n.a\r\nbody\r\n"}


async def test_terminator_split_in_three_around_the_end() -> None:
    body = b"Subject: x\r\n\r\nbody\r\n.\r\n"
    stream = HEAD + body + QUIT
    end = len(HEAD) + len(body)
    pairs = [(i, j) for i in range(end - 7, end + 2) for j in range(i + 1, end + 3)]
    outcome = await differential(*(Talk([stream[:i], stream[i:j], stream[j:]]) for i, j in pairs))
    assert len(outcome.messages) == len(pairs)


async def test_byte_by_byte() -> None:
    stream = HEAD + b"..x\r\n\r\n.y\n.\r\n\r.\r\nz\r\n.\r\n" + QUIT
    outcome = await differential(Talk([stream[i : i + 1] for i in range(len(stream))]))
    assert outcome.messages[0][3] == b".x\r\n\r\ny\n.\r\n\r.\r\nz\r\n"


# --- pipelining: what follows the terminator is the next command ------------------


async def test_quit_in_the_same_packet_as_the_terminator() -> None:
    outcome = await differential(Talk([HEAD, MAIL + b".\r\n" + QUIT]))
    assert replies(outcome.transcripts[0])[-2:] == [b"250", b"221"]


async def test_second_transaction_right_after_the_terminator() -> None:
    stream = HEAD + MAIL + b".\r\n" + SECOND + b"second\r\n.\r\n" + QUIT
    outcome = await differential(
        Talk([stream]), Talk([HEAD, MAIL + b".\r\n" + SECOND, b"x\r\n.\r\n" + QUIT])
    )
    assert [m[:3] for m in outcome.messages] == [
        ("a@x.test", ["b@y.test"], MAIL),
        ("c@x.test", ["d@y.test"], b"second\r\n"),
        ("a@x.test", ["b@y.test"], MAIL),
        ("c@x.test", ["d@y.test"], b"x\r\n"),
    ]


async def test_many_messages_pipelined_in_one_write() -> None:
    stream = (
        HEAD + b"".join(b"m%d\r\n.\r\n" % i + SECOND for i in range(50)) + b"last\r\n.\r\n" + QUIT
    )
    outcome = await differential(Talk([stream]))
    assert len(outcome.messages) == 51


# --- SMTP smuggling (SEC Consult, 2023): none of these may end DATA ---------------

SMUGGLED = (
    b"MAIL FROM:<ceo@y.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\n"
    b"From: ceo@y.test\r\nSubject: smuggled\r\n\r\npay now\r\n"
)
SMUGGLING = {
    "lf_dot_lf": b"\n.\n",  # the classic: <LF>.<LF>
    "lf_dot_crlf": b"\n.\r\n",  # Exchange Online / GMX outbound into Postfix, Sendmail
    "cr_dot_cr": b"\r.\r",
    "cr_dot_crlf": b"\r.\r\n",
    "crlf_dot_lf": b"\r\n.\n",
    "crlf_dot_cr": b"\r\n.\r",
    "cr_dot_lf": b"\r.\n",
    "crlf_dot_cr_lf": b"\r\n.\r\r\n",
    "crlf_nul_dot_crlf": b"\r\n\x00.\r\n",  # a NUL some receivers drop
    "crlf_dot_nul_crlf": b"\r\n.\x00\r\n",
    "lf_lf_dot_lf_lf": b"\n\n.\n\n",
}


@pytest.mark.parametrize("vector", list(SMUGGLING.values()), ids=list(SMUGGLING))
async def test_smtp_smuggling(vector: bytes) -> None:
    """A non-CRLF end-of-data sequence is data: one message, the smuggled one inside it."""
    body = b"From: a@x.test\r\nSubject: first\r\n\r\nhello" + vector + SMUGGLED + b".\r\n"
    outcome = await differential(one_message(body))
    [(mail_from, rcpts, _, content)] = outcome.messages
    assert (mail_from, rcpts) == ("a@x.test", ["b@y.test"])
    assert content is not None and b"Subject: smuggled" in content


@pytest.mark.parametrize("vector", list(SMUGGLING.values()), ids=list(SMUGGLING))
async def test_smtp_smuggling_split_across_writes(vector: bytes) -> None:
    body = b"Subject: first\r\n\r\nhello" + vector + SMUGGLED + b".\r\n"
    at = body.index(vector)
    talks = [Talk([HEAD, body[:i], body[i:], QUIT]) for i in range(at, at + len(vector) + 1)]
    outcome = await differential(*talks)
    assert all(m[0] == "a@x.test" for m in outcome.messages)
    assert len(outcome.messages) == len(talks)


async def test_smtp_smuggling_vector_at_the_start_of_the_body() -> None:
    outcome = await differential(
        *(one_message(v + SMUGGLED + b".\r\n") for v in SMUGGLING.values())
    )
    assert [m[0] for m in outcome.messages] == ["a@x.test"] * len(SMUGGLING)


# --- the size limit -------------------------------------------------------------


def sized(total: int) -> bytes:
    """Lines of raw DATA (CRLFs and a stuffed dot included) adding up to ``total`` bytes."""
    line = b"x" * 48 + b"\r\n"
    body = b"..stuffed\r\n" + line * ((total - 11) // 50)
    return body + b"y" * (total - len(body) - 2) + b"\r\n"


@pytest.mark.parametrize("over", [0, 1])
async def test_size_limit_exactly_and_one_byte_over(over: int) -> None:
    """``data_size_limit`` counts the raw lines; one byte more is 552, after the terminator."""
    body = sized(1000 + over)
    assert len(body) == 1000 + over
    second = SECOND + MAIL + b".\r\n"
    outcome = await differential(Talk([HEAD, body + b".\r\n" + second, QUIT]), data_size_limit=1000)
    codes = replies(outcome.transcripts[0])
    assert codes[5] == (b"552" if over else b"250")
    assert codes[6:] == [b"250", b"250", b"354", b"250", b"221"]  # the session goes on
    assert outcome.messages[-1][3] == MAIL


async def test_size_limit_crossed_in_the_middle_of_a_large_read() -> None:
    body = (b"z" * 998 + b"\r\n") * 3000  # 3 MB in 256 KiB reads
    outcome = await differential(
        Talk([HEAD, body + b".\r\n" + SECOND, MAIL + b".\r\n" + QUIT]), data_size_limit=1_000_000
    )
    assert replies(outcome.transcripts[0])[5] == b"552"
    assert [m[3] for m in outcome.messages] == [MAIL]


@pytest.mark.parametrize("limit", [None, 0])
async def test_no_size_limit(limit: int | None) -> None:
    outcome = await differential(
        one_message(b"w" * 900 + b"\r\n" + b".\r\n"), data_size_limit=limit
    )
    assert len(outcome.messages) == 1


# --- the line length limit ------------------------------------------------------


@pytest.mark.parametrize("length", [1000, 1001, 1002, 1003, 1004, 1005, 5000, CHUNK + 10])
async def test_line_length_limit(length: int) -> None:
    """1001 bytes with the CRLF (RFC 5321 §4.5.3.1.6's 1000 plus a transparent dot) is allowed."""
    line = b"." + b"l" * (length - 3) + b"\r\n"
    stream = HEAD + MAIL + line + b"after\r\n.\r\n" + SECOND + b"ok\r\n.\r\n" + QUIT
    outcome = await differential(Talk([stream]), Talk([stream[:5000], stream[5000:]]))
    assert replies(outcome.transcripts[0])[5] == (b"250" if length <= 1001 else b"500")
    assert outcome.messages[-1][3] == b"ok\r\n"


@pytest.mark.parametrize("length", [1002, 1003, 1004, 1005])
@pytest.mark.parametrize("slack", [-1, 0, 1])
async def test_long_line_that_also_crosses_the_size_limit(length: int, slack: int) -> None:
    """Which of 500 and 552 a line breaking both limits gets is aiosmtpd's order."""
    head = b"h" * 98 + b"\r\n"
    limit = len(head) + length + slack
    body = head + b"l" * (length - 2) + b"\r\n" + b"more\r\n" * 3 + b".\r\n"
    await differential(one_message(body), data_size_limit=limit)


@pytest.mark.parametrize("length", [1002, 1003, 1004])
async def test_long_line_crossing_the_size_limit_split_at_every_offset_of_its_end(
    length: int,
) -> None:
    """The verdict must not depend on where the reads fall, e.g. between its CR and LF."""
    line = b"l" * (length - 2) + b"\r\n"
    body = b"h" * 98 + b"\r\n" + line + b"tail\r\n.\r\n"
    end = 100 + length
    talks = [Talk([HEAD, body[:i], body[i:] + QUIT]) for i in range(end - 6, end + 1)]
    await differential(*talks, data_size_limit=100 + length - 1)


@pytest.mark.parametrize("limit", ["size", "line"])
async def test_terminator_split_at_every_offset_while_draining(limit: str) -> None:
    """Once a limit broke the body is dropped, but the terminator is still found across reads."""
    over = (b"d" * 98 + b"\r\n") * 30 if limit == "size" else b"d" * 1100 + b"\r\n"
    body = over + b"x\r\n\r\n.\r\n"
    after = SECOND + MAIL + b".\r\n" + QUIT
    start = len(over)
    talks = [Talk([HEAD, body[:i], body[i:] + after]) for i in range(start, len(body))]
    talks += [Talk([HEAD, over, body[start:i], body[i:] + after]) for i in range(start, len(body))]
    outcome = await differential(*talks, data_size_limit=2000)
    assert [m[3] for m in outcome.messages] == [MAIL] * len(talks)
    assert {replies(t)[5] for t in outcome.transcripts} == {b"552" if limit == "size" else b"500"}


async def test_line_without_end_longer_than_everything() -> None:
    """Megabytes without a CRLF, then the terminator: drained in bounded memory, then 500."""
    stream = HEAD + b"q" * 3_000_000 + b"\r\n.\r\n" + QUIT
    outcome = await differential(Talk([stream]))
    assert replies(outcome.transcripts[0])[5] == b"500"


async def peak_memory_receiving(total: int, limit: int) -> tuple[bytes, int]:
    """The reply and the peak of Python allocations (server and client) while ``total`` is sent."""
    async with serving(ChunkedDataSMTP, data_size_limit=limit) as (port, recorder):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD)
        while not (await reader.readline()).startswith(b"354"):
            pass
        piece = (b"p" * 78 + b"\r\n") * 12800  # 1,024,000 bytes, sent again and again
        tracemalloc.start()
        try:
            for _ in range(total // len(piece) + 1):
                writer.write(piece)
                await writer.drain()
            writer.write(b".\r\n")
            reply = await reader.readline()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        writer.write(QUIT)
        await reader.read()
        writer.close()
    assert recorder.messages == [] or len(recorder.messages[0][3] or b"") > total
    return reply, peak


async def test_memory_stays_bounded_while_draining_a_message_over_the_limit() -> None:
    """30 MiB against a 1 MiB limit: dropped as it comes, never held (issue 6: bounded memory)."""
    reply, peak = await peak_memory_receiving(30 << 20, 1 << 20)
    assert reply.startswith(b"552 ")
    assert peak < 6 << 20


async def test_memory_for_a_large_message_is_about_its_size() -> None:
    """The content is built in place: no list of lines, no second copy when it is handed over."""
    reply, peak = await peak_memory_receiving(16 << 20, 25 << 20)
    assert reply.startswith(b"250 ")
    assert peak < (16 << 20) * 3 // 2


# --- decode_data, the other DATA replies -------------------------------------------


@pytest.mark.parametrize("smtputf8", [False, True])
async def test_decode_data(smtputf8: bool) -> None:
    """Non-ASCII content with decode_data: str with SMTPUTF8, else 500 and the envelope kept."""
    body = "Subject: あ\r\n\r\n本文\r\n".encode() + b"\xff\r\n.\r\n"
    ascii_body = MAIL + b".\r\n"
    outcome = await differential(
        Talk([HELO, ENVELOPE, body + b"RSET\r\n" + ENVELOPE + ascii_body + QUIT]),
        decode_data=True,
        enable_SMTPUTF8=smtputf8,
    )
    assert isinstance(outcome.messages[-1][2], str)


async def test_data_refused_before_reading() -> None:
    talks = [
        Talk([b"DATA\r\n" + QUIT]),  # no HELO
        Talk([HELO + b"DATA\r\n" + QUIT]),  # no RCPT
        Talk([HELO + b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA now\r\n" + QUIT]),
    ]
    outcome = await differential(*talks)
    assert [replies(t)[-2] for t in outcome.transcripts] == [b"503", b"503", b"501"]


# --- clients that hang up or stall ------------------------------------------------


async def test_client_hanging_up_mid_data_leaves_the_server_serving() -> None:
    outcome = await differential(
        Talk([HEAD, b"Subject: cut\r\n\r\nhalf a mes"], end="hang up"),
        Talk([HEAD, b"Subject: cut\r\n\r\nhalf a line\r\n."], end="hang up"),
        one_message(MAIL + b".\r\n"),
    )
    assert [m[3] for m in outcome.messages] == [MAIL]


async def test_client_stalling_mid_data_is_cut_by_the_timeout() -> None:
    outcome = await differential(Talk([HEAD, b"Subject: slow\r\n\r\nand then noth"]), timeout=0.3)
    assert replies(outcome.transcripts[0]) == [b"220", b"250", b"250", b"250", b"354"]
    assert outcome.messages == []


async def test_client_trickling_data_is_cut_by_the_timeout_too() -> None:
    """aiosmtpd restarts the timeout at each command, not for bytes of DATA: a slow body ends."""
    lines = [b"line %d\r\n" % i for i in range(30)]
    outcome = await differential(Talk([HEAD, *lines, b".\r\n", QUIT], pause=0.05), timeout=0.5)
    assert replies(outcome.transcripts[0]) == [b"220", b"250", b"250", b"250", b"354"]
    assert outcome.messages == []


# --- real clients ---------------------------------------------------------------


async def test_smtplib_and_aiosmtplib_through_both() -> None:
    text = b"Subject: real\r\n\r\n.dot at the start\r\n..two\r\n" + b"t" * 76 + b"\r\n"
    results = []
    for cls in (SMTP, ChunkedDataSMTP):
        async with serving(cls) as (port, recorder):

            def send(port: int = port) -> None:
                with smtplib.SMTP("127.0.0.1", port, local_hostname="c.test") as client:
                    client.sendmail("a@x.test", ["b@y.test"], text * 300)

            await in_thread(send)
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="c.test")
            await client.connect()
            await client.sendmail("c@x.test", ["d@y.test"], text)
            await client.quit()
        results.append(recorder.messages)
    assert results[0] == results[1]
    assert [m[3] for m in results[1]] == [text * 300, text]


# --- randomized, with a fixed seed ------------------------------------------------

TOKENS = [b"a", b"word ", b".", b"..", b"\r", b"\n", b"\r\n", b"\r\n.", b".\r", b"\x00",
          "あ".encode(), b"\xff", b"\t", b" "]  # fmt: skip


def random_body(rng: random.Random, line_limit: int) -> bytes:
    """Dots, CRs, LFs and lines about the line limit long; never the end of DATA (§4.1.1.4)."""
    parts = []
    for _ in range(rng.randint(0, 40)):
        roll = rng.random()
        if roll < 0.15:  # a line just under, at or over the limit (the CRLF included)
            parts.append(b"\r\n" + b"n" * (line_limit + rng.randint(-4, 2)) + b"\r\n")
        elif roll < 0.2:
            parts.append(rng.choice([b"r", b"\r\n", b"\r\n.."]) * rng.randint(5, 400))
        else:
            parts.append(rng.choice(TOKENS))
    body = b"".join(parts)
    while (b"\r\n" + body).find(b"\r\n.\r\n") >= 0:
        body = (b"\r\n" + body).replace(b"\r\n.\r\n", b"\r\n.x\r\n", 1)[2:]
    return body


async def test_randomized_streams_split_at_random_points() -> None:
    """60 servers x 6 conversations, each two messages cut into up to 40 TCP writes."""
    rng = random.Random(20240606)
    for _ in range(60):
        line_limit = rng.choice([24, 40, 80, 1001])
        options: dict[str, Any] = {
            "line_limit": line_limit,
            "data_size_limit": rng.choice([None, 0, rng.randint(20, 3 * line_limit)]),
        }
        if rng.random() < 0.2:
            options.update(decode_data=True, enable_SMTPUTF8=rng.random() < 0.5)
        talks = []
        for _ in range(6):
            stream = HEAD + random_body(rng, line_limit) + b"\r\n.\r\n"
            stream += SECOND + random_body(rng, line_limit) + b"\r\n.\r\n" + QUIT
            count = min(len(stream) - 1, rng.choice([0, 1, 3, 10, 40]))
            cuts = sorted(rng.sample(range(1, len(stream)), count))
            bounds = zip([0, *cuts], [*cuts, len(stream)], strict=True)
            talks.append(Talk([stream[i:j] for i, j in bounds]))
        await differential(*talks, **options)


# --- the gateway's own server: stock DATA vs chunked DATA ---------------------------


class StockDataConnection(gateway.smtp._Connection):
    """The gateway's connection with aiosmtpd's own smtp_DATA: the reference."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        self.server._begin_message()
        try:
            await SMTP.smtp_DATA(self, arg)
        finally:
            self.server._end_message()


class FixedService:
    """The service interface answering the same every time, recording what it was handed."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.delivered: list[tuple[str, list[str], bytes]] = []
        self.refusals: list[tuple[str, list[str], str]] = []

    def authenticate(self, user: str, password: str) -> SenderProfile | None:
        return None

    async def check_recipient(
        self, session: GatewaySession, mail_from: str, address: str
    ) -> Reply | None:
        return None

    async def deliver(
        self, session: GatewaySession, mail_from: str, rcpt_tos: list[str], data: bytes
    ) -> Reply:
        self.delivered.append((mail_from, rcpt_tos, data))
        return Reply(250, "2.0.0", f"queued as Q{len(self.delivered)}")

    def refused(
        self, session: GatewaySession, mail_from: str, rcpt_tos: list[str], reply: Reply
    ) -> None:
        self.refusals.append((mail_from, rcpt_tos, str(reply)))


@dataclass
class GatewayOutcome:
    transcripts: list[bytes]
    delivered: list[tuple[str, list[str], bytes]]
    refusals: list[tuple[str, list[str], str]]


async def gateway_differential(
    monkeypatch: pytest.MonkeyPatch, *conversations: Talk, **server: Any
) -> GatewayOutcome:
    outcomes = []
    for connection in (StockDataConnection, gateway.smtp._Connection):
        with monkeypatch.context() as patch:
            patch.setattr(gateway.smtp, "_Connection", connection)
            config = make_config(trusted_networks=(ipaddress.ip_network("127.0.0.0/8"),), **server)
            service = FixedService(config)
            smtp: Server = await start_server(config, service)
            try:
                transcripts = [await talk(smtp.ports[0], c) for c in conversations]
                await asyncio.sleep(0.01)
                assert smtp._in_flight == 0
            finally:
                await asyncio.wait_for(smtp.close(), timeout=5)
        outcomes.append(GatewayOutcome(transcripts, service.delivered, service.refusals))
    stock, ours = outcomes
    assert ours == stock
    return stock


EHLO = b"EHLO c.test\r\n"


async def test_gateway_size_limit_exactly_and_one_byte_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    talks = [Talk([EHLO + ENVELOPE, sized(2000 + over) + b".\r\n" + QUIT]) for over in (0, 1)]
    outcome = await gateway_differential(monkeypatch, *talks, max_message_size=2000)
    assert [d[2] for d in outcome.delivered] == [sized(2000)[1:]]  # "..stuffed" unstuffed
    assert outcome.refusals == [("a@x.test", ["b@y.test"], str(S552_TOO_BIG))]
    assert str(S552_TOO_BIG).encode() in outcome.transcripts[1]


async def test_gateway_line_too_long_smuggling_and_pipelining(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    talks = [
        Talk([EHLO + ENVELOPE, b"x" * 1200 + b"\r\n.\r\n" + SECOND + MAIL + b".\r\n" + QUIT]),
        Talk([EHLO + ENVELOPE, b"hi\n.\n" + SMUGGLED + b".\r\n" + QUIT]),
        Talk([EHLO + ENVELOPE + b"..a\r\n.\r\n" + SECOND + b".\r\n" + QUIT]),
    ]
    outcome = await gateway_differential(monkeypatch, *talks)
    assert b"500 Line too long" in outcome.transcripts[0]
    assert [d[2] for d in outcome.delivered] == [MAIL, b"hi\n.\n" + SMUGGLED, b".a\r\n", b""]


async def test_gateway_client_hanging_up_mid_data_ends_the_message_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The in-flight count is back to zero (``gateway_differential`` checks), so close() returns."""
    talks = [Talk([EHLO + ENVELOPE, b"Subject: cut\r\n\r\nhal"], end="hang up")]
    outcome = await gateway_differential(
        monkeypatch, *talks, Talk([EHLO + ENVELOPE, MAIL + b".\r\n" + QUIT])
    )
    assert [d[2] for d in outcome.delivered] == [MAIL]


async def test_gateway_stall_mid_data_hits_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    talks = [Talk([EHLO + ENVELOPE, b"Subject: slow\r\n"])]
    outcome = await gateway_differential(monkeypatch, *talks, timeout=0.3)
    assert outcome.transcripts[0].endswith(b"354 End data with <CR><LF>.<CR><LF>\r\n")


async def test_gateway_inside_starttls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After STARTTLS the reader gets TLS records' plaintext: same rules, same leftovers."""
    cert = make_certificate(tmp_path)
    tls = cert.client_context()
    big = (b"..b" * 25 + b"\r\n") * 4000
    unstuffed = (b".b" + b"..b" * 24 + b"\r\n") * 4000
    stream = EHLO + ENVELOPE + big + b".\r\n" + SECOND + b"x\n.\nstill\r\n.\r\n" + QUIT
    talks = [Talk([stream], tls=tls), Talk([stream[:400], stream[400:-11], stream[-11:]], tls=tls)]
    outcome = await gateway_differential(
        monkeypatch, *talks, tls_cert=cert.cert_file, tls_key=cert.key_file
    )
    assert [d[2] for d in outcome.delivered] == [unstuffed, b"x\n.\nstill\r\n"] * 2


async def test_gateway_with_aiosmtplib() -> None:
    """A real client over the gateway's server with the chunked reader: content arrives intact."""
    text = b"Subject: t\r\n\r\n" + (b".line\r\n" + "日本語".encode() + b"\r\n") * 2000
    config = make_config(trusted_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    service = FixedService(config)
    smtp = await start_server(config, service)
    try:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.ports[0], local_hostname="c.test")
        await client.connect()
        for _ in range(3):
            await client.sendmail("a@x.test", ["b@y.test"], text)
        await client.quit()
    finally:
        await smtp.close()
    assert [d[2] for d in service.delivered] == [text] * 3
