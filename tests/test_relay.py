"""The next hop, against real peers: Postfix's smtp-sink with fault flags and an aiosmtpd sink."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.relay import (
    MaildirNextHop,
    PermanentRelayError,
    SmtpNextHop,
    TemporaryRelayError,
    open_next_hop,
)
from tests.peers import free_port, make_certificate, recording_sink, smtp_sink

HOSTNAME = "gw.example.jp"
MESSAGE = (
    b"From: sender@example.jp\r\n"
    b"To: rcpt@example.com\r\n"
    b"Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n"
    b"\r\n"
    b".a line that needs dot-stuffing\r\n"
    b"body\r\n"
)


def hop(url: str, timeout: float = 5.0) -> SmtpNextHop:
    opened = open_next_hop(url, local_hostname=HOSTNAME, timeout=timeout)
    assert isinstance(opened, SmtpNextHop)
    return opened


async def test_smtp_sink_accepts_and_we_report_its_reply() -> None:
    with smtp_sink() as sink:
        next_hop = hop(sink.url)
        result = await next_hop.send("sender@example.jp", ["rcpt@example.com"], MESSAGE)
        await next_hop.close()
        assert result.code == 250
        assert result.refused == {}
        [dumped] = sink.messages()
    assert b"X-Helo-Args: " + HOSTNAME.encode() in dumped
    assert b"X-Mail-Args: <sender@example.jp>" in dumped
    assert b"X-Rcpt-Args: <rcpt@example.com>" in dumped
    assert dumped.replace(b"\n", b"\r\n").find(MESSAGE) > 0


async def test_rcpt_tempfail_delivers_nothing_so_a_retry_makes_no_duplicate() -> None:
    with smtp_sink("-r", "RCPT") as sink:
        next_hop = hop(sink.url)
        with pytest.raises(TemporaryRelayError) as err:
            await next_hop.send("s@example.jp", ["a@example.com", "b@example.com"], MESSAGE)
        await next_hop.close()
        assert err.value.code is not None and 400 <= err.value.code < 500
        assert sink.messages() == []


@pytest.mark.parametrize("command", ["DATA", "."])
async def test_data_permfail_passes_back_the_hops_code(command: str) -> None:
    with smtp_sink("-f", command) as sink:
        next_hop = hop(sink.url)
        with pytest.raises(PermanentRelayError) as err:
            await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
        await next_hop.close()
        assert err.value.code is not None and 500 <= err.value.code < 600
        assert "5.3.0" in err.value.message  # smtp-sink's own enhanced code


async def test_hop_closing_with_421_is_temporary() -> None:
    with smtp_sink("-Q", "MAIL") as sink:
        next_hop = hop(sink.url)
        with pytest.raises(TemporaryRelayError):
            await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
        await next_hop.close()


async def test_hop_hanging_up_without_reply_is_temporary() -> None:
    with smtp_sink("-q", "RCPT") as sink:
        next_hop = hop(sink.url)
        with pytest.raises(TemporaryRelayError) as err:
            await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
        await next_hop.close()
        assert sink.messages() == []
    assert err.value.code is None


async def test_hop_slower_than_the_timeout_is_temporary() -> None:
    with smtp_sink("-W", "RCPT:30") as sink:
        next_hop = hop(sink.url, timeout=0.3)
        with pytest.raises(TemporaryRelayError) as err:
            await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
        await next_hop.close()
        assert sink.messages() == []
    assert err.value.code is None
    assert "timed out" in err.value.message.lower()


async def test_nobody_listening_is_temporary() -> None:
    next_hop = hop(f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(TemporaryRelayError) as err:
        await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
    assert err.value.code is None


async def test_pooled_connection_is_reused_across_messages() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        for i in range(3):
            await next_hop.send("s@example.jp", [f"r{i}@example.com"], MESSAGE)
        await next_hop.close()
    assert sink.connections == 1
    assert [r.connection for r in sink.received] == [1, 1, 1]
    assert {r.helo for r in sink.received} == {HOSTNAME}
    assert sink.received[0].data == MESSAGE


async def test_concurrent_messages_get_their_own_connections_then_share_the_pool() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        await asyncio.gather(
            *(next_hop.send("s@example.jp", [f"r{i}@example.com"], MESSAGE) for i in range(3))
        )
        await next_hop.send("s@example.jp", ["later@example.com"], MESSAGE)
        await next_hop.close()
    assert sink.connections == 3
    assert len(sink.received) == 4


async def test_stale_pooled_connection_is_replaced() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)
        sink.drop_connections()
        result = await next_hop.send("s@example.jp", ["b@example.com"], MESSAGE)
        await next_hop.close()
    assert result.code == 250
    assert sink.connections == 2
    assert [r.rcpt_tos for r in sink.received] == [["a@example.com"], ["b@example.com"]]


async def test_recipients_refused_with_5xx_are_reported_and_the_rest_delivered() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        result = await next_hop.send(
            "s@example.jp", ["ok@example.com", "reject@example.com"], MESSAGE
        )
        await next_hop.close()
    assert result.code == 250
    assert result.refused == {"reject@example.com": (550, "5.1.1 No such user")}
    assert [r.rcpt_tos for r in sink.received] == [["ok@example.com"]]


async def test_all_recipients_refused_is_permanent() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        with pytest.raises(PermanentRelayError) as err:
            await next_hop.send("s@example.jp", ["reject1@example.com", "reject2@x.jp"], MESSAGE)
        await next_hop.close()
    assert (err.value.code, err.value.message) == (550, "5.1.1 No such user")
    assert sink.received == []


async def test_one_deferred_recipient_defers_all_and_the_connection_stays_usable() -> None:
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        with pytest.raises(TemporaryRelayError) as err:
            await next_hop.send("s@example.jp", ["ok@example.com", "defer@example.com"], MESSAGE)
        assert err.value.code == 450
        assert sink.received == []
        await next_hop.send("s@example.jp", ["ok@example.com"], MESSAGE)
        await next_hop.close()
    assert sink.connections == 1
    assert len(sink.received) == 1


async def test_refusal_after_data_carries_the_hops_text() -> None:
    async with recording_sink(data_reply="554 5.6.0 Content rejected") as (_sink, url):
        next_hop = hop(url)
        with pytest.raises(PermanentRelayError) as err:
            await next_hop.send("s@example.jp", ["ok@example.com"], MESSAGE)
        await next_hop.close()
    assert (err.value.code, err.value.message) == (554, "5.6.0 Content rejected")


async def test_starttls_is_used_when_the_hop_offers_it(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    async with recording_sink(tls=cert.server_context()) as (sink, url):
        next_hop = hop(url)
        await next_hop.send("s@example.jp", ["ok@example.com"], MESSAGE)
        await next_hop.close()
    assert [r.tls for r in sink.received] == [True]


async def test_maildir_writes_one_file_per_recipient_with_headers_prepended(
    tmp_path: Path,
) -> None:
    maildir = tmp_path / "Maildir"
    next_hop = open_next_hop(f"maildir:{maildir}", local_hostname=HOSTNAME, timeout=5)
    result = await next_hop.send("s@example.jp", ["a@example.com", "b@example.com"], MESSAGE)
    await next_hop.close()
    assert result.code == 250
    assert result.message.startswith("2.0.0 delivered to maildir")
    assert sorted(p.name for p in maildir.iterdir()) == ["cur", "new", "tmp"]
    assert list((maildir / "tmp").iterdir()) == []
    files = sorted((maildir / "new").iterdir(), key=lambda p: p.read_bytes())
    assert len(files) == 2
    for path, rcpt in zip(files, ["a@example.com", "b@example.com"], strict=True):
        assert path.name.endswith("." + HOSTNAME)
        assert ":" not in path.name
        assert path.read_bytes() == (
            b"Return-Path: <s@example.jp>\r\nDelivered-To: " + rcpt.encode() + b"\r\n" + MESSAGE
        )


async def test_maildir_that_cannot_be_written_is_temporary_and_delivers_nothing(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    next_hop = MaildirNextHop(blocker / "Maildir", local_hostname=HOSTNAME)
    with pytest.raises(TemporaryRelayError):
        await next_hop.send("s@example.jp", ["a@example.com"], MESSAGE)


def test_next_hop_url_must_be_smtp_or_maildir() -> None:
    with pytest.raises(ValueError):
        open_next_hop("lmtp://127.0.0.1:24", local_hostname=HOSTNAME, timeout=1)


DATA_CASES = {
    "dot lines": MESSAGE + b"..two dots\r\n.\r\n. \r\nend\r\n",
    "starts with a dot": b".first\r\n\r\nbody\r\n",
    "bare LF and lone CR": b"Subject: x\n\nline\nother\rline\r\n",
    "no final line break": b"Subject: x\r\n\r\nno end",
    "empty": b"",
    "over several chunks": b"Subject: big\r\n\r\n"
    + b".dot line, then base64-ish text\r\n" * 40_000,
}


@pytest.mark.parametrize("case", list(DATA_CASES))
async def test_data_delivers_what_aiosmtplibs_own_data_delivers(case: str) -> None:
    # The relay writes DATA itself (no copies of the mail); the peer must receive exactly
    # what aiosmtplib's SMTP.data sends for the same message.
    import aiosmtplib

    message = DATA_CASES[case]
    async with recording_sink() as (sink, url):
        next_hop = hop(url)
        result = await next_hop.send("s@example.jp", ["ok@example.com"], message)
        await next_hop.close()
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
        await client.connect()
        await client.sendmail("s@example.jp", ["ok@example.com"], message)
        await client.quit()
    assert result.code == 250
    ours, theirs = sink.received
    assert ours.data == theirs.data
