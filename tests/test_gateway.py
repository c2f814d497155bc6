"""The whole path over real sockets: SMTP in, decide per recipient, relay, DSN, log.

Every case of shared/examples/cases.toml goes through a running gateway with
the shipped example config, sent by smtplib with the sender's SMTP AUTH.
"""

from __future__ import annotations

import asyncio
import base64
import json
import smtplib
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from gateway.api import Category, Classification, Envelope, PolicyContext
from gateway.config import Config, Listener, load
from gateway.message import parse
from gateway.service import Gateway
from gateway.smtp import start_server
from gateway.store import open_store
from policies.display import DisplayPolicy
from tests.cases import (
    CASES,
    CASES_FILE,
    EXAMPLE_CONFIG,
    Case,
    case_id,
    example_config,
    import_consent,
)
from tests.peers import free_port, recording_sink, smtp_sink, swaks
from tests.pgpeer import Cable, url_at
from tests.smtpclient import Transcript, maildir_messages, send

PASSWORDS = {"ogiya": "ogiya-secret", "hikari": "hikari-secret", "minato": "minato-secret"}


@pytest.fixture(scope="module")
def consent_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example consent records, imported as an operator does: ``tokuden consent import``."""
    tmp = tmp_path_factory.mktemp("store")
    path = tmp / "consent.db"
    import_consent(example_config(tmp, store=path))
    return path


@dataclass
class Running:
    config: Config
    port: int
    tmp: Path

    @property
    def maildir(self) -> Path:
        return self.tmp / "maildir"

    def log_lines(self) -> list[dict[str, Any]]:
        path = self.tmp / "decisions.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@asynccontextmanager
async def gateway(tmp: Path, store: Path, **kwargs: Any) -> AsyncIterator[Running]:
    port = free_port()
    config = load(example_config(tmp, listen=f"127.0.0.1:{port}", store=store, **kwargs))
    service = await Gateway.open(config)
    server = await start_server(config, service)
    try:
        yield Running(config, port, tmp)
    finally:
        await server.close()
        await service.close()


def domain_of(case: Case) -> str:
    return load(EXAMPLE_CONFIG).senders[case.sender].from_domains[0]


def assert_display_items_shown(delivered: bytes) -> None:
    """The mail as relayed passes the display rules on its own (as minato's advertising)."""
    context = PolicyContext(
        load(EXAMPLE_CONFIG).senders["minato"],
        Envelope("b@minato.example", ("yoshida@example.jp",)),
        Classification(Category.ADVERTISING, "test"),
    )
    assert DisplayPolicy({}).check(parse(delivered), context) == []


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_case_over_smtp(case: Case, tmp_path: Path, consent_db: Path) -> None:
    raw = case.path.read_bytes()
    bounce = f"bounce@{domain_of(case)}"
    async with gateway(tmp_path, consent_db) as gw:
        t = await send(
            gw.port, bounce, list(case.outcome), raw, case.sender, PASSWORDS[case.sender]
        )

    assert t.data is not None
    code, text = t.data
    delivered = maildir_messages(gw.maildir)
    copies = {m["Delivered-To"]: m for m in delivered if m["Delivered-To"] != bounce}
    if case.passed:
        assert code == 250, text
        assert set(copies) == case.passed
        for m in copies.values():
            header = m["X-Tokuden-Decision"]
            assert f"outcome=pass; category={case.category}" in header
            assert header.split(";")[0] in text  # the client's reply names the decision id
    else:
        assert code == 550, text
        assert text.startswith("5.7.1 Blocked by policy [")
        for rule in case.rules:
            assert rule in text.split("]")[0]
        assert delivered == []

    dsns = [m for m in delivered if m["Delivered-To"] == bounce]
    if case.passed and case.blocked:
        [dsn] = dsns
        assert dsn.get_content_type() == "multipart/report"
        status = dsn.get_payload()[1].as_string()
        for address in case.blocked:
            assert f"Final-Recipient: rfc822; {address}" in status
        for address in case.passed:
            assert address not in status
    else:
        assert dsns == []

    [line] = gw.log_lines()
    assert line["category"] == case.category
    assert {a: r["outcome"] for a, r in line["recipients"].items()} == case.outcome
    found = {f["rule"] for f in line["findings"]}
    assert set(case.rules) <= found
    assert not set(case.not_rules) & found
    if case.passed:  # the next hop's queue id (the maildir file name) links log and mail
        assert line["queue_id"] in {p.name for p in (gw.maildir / "new").iterdir()}
    assert line["sender_profile"] == case.sender
    assert line["auth_user"] == case.sender
    assert line["reply"].startswith(str(code))


def case_file(prefix: str) -> bytes:
    return next(c for c in CASES if c.file.startswith(prefix)).path.read_bytes()


async def send_compliant_ad(gw: Running) -> Transcript:
    """Case 01 (compliant, consented) as ogiya: it passes unless the path under test fails."""
    return await send(
        gw.port,
        "b@ogiya.example",
        ["yoshida@example.jp"],
        case_file("01_"),
        "ogiya",
        "ogiya-secret",
    )


async def test_swaks_unauthenticated_from_loopback_is_matched_by_from_domain(
    tmp_path: Path, consent_db: Path
) -> None:
    async with gateway(tmp_path, consent_db) as gw:
        out = await swaks(
            "--server",
            f"127.0.0.1:{gw.port}",
            "--from",
            "news@ogiya.example",
            "--to",
            "yoshida@example.jp",
            "--data",
            str(CASES[1].path),
        )
    assert "<** 550 5.7.1 Blocked by policy [D2" in out.output
    [line] = gw.log_lines()
    assert line["sender_profile"] == "ogiya"
    assert line["auth_user"] is None


async def test_untrusted_unauthenticated_client_cannot_relay(
    tmp_path: Path, consent_db: Path
) -> None:
    # 127.0.0.1 is outside the trusted networks of this config: to the gateway it is a stranger.
    edits = {'trusted_networks = ["127.0.0.0/8", "::1/128"]': 'trusted_networks = ["192.0.2.0/24"]'}
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send(gw.port, "news@ogiya.example", ["yoshida@example.jp"], case_file("01_"))
    assert t.rcpt["yoshida@example.jp"] == (550, "5.7.1 Relay access denied")
    assert t.data is None
    assert maildir_messages(gw.maildir) == []


async def test_unknown_sender_is_refused_naming_the_domains(
    tmp_path: Path, consent_db: Path
) -> None:
    mail = b"From: a@stranger.example\r\nTo: yoshida@example.jp\r\nSubject: x\r\n\r\nhello\r\n"
    async with gateway(tmp_path, consent_db) as gw:
        t = await send(gw.port, "a@stranger.example", ["yoshida@example.jp"], mail)
    assert t.data is not None
    assert t.data[0] == 550
    assert "No sender profile for envelope sender a@stranger.example" in t.data[1]


async def test_next_hop_smtp_sink_accepts_then_client_gets_250(
    tmp_path: Path, consent_db: Path
) -> None:
    with smtp_sink() as sink:
        async with gateway(tmp_path, consent_db, next_hop=sink.url) as gw:
            t = await send_compliant_ad(gw)
        [relayed] = sink.messages()
    assert t.data is not None and t.data[0] == 250, t.data
    # smtp-sink dumps with LF, its own trace headers first and a blank line last;
    # after our header comes the original.
    relayed_tail = relayed.split(b"\nX-Tokuden-Decision: ", 1)[1].split(b"\n", 1)[1]
    assert relayed_tail.rstrip(b"\n") == case_file("01_").replace(b"\r\n", b"\n").rstrip(b"\n")
    [line] = gw.log_lines()
    assert line["next_hop"].startswith("250")


async def test_next_hop_4xx_gives_451_and_nothing_is_delivered(
    tmp_path: Path, consent_db: Path
) -> None:
    with smtp_sink("-r", "RCPT") as sink:
        async with gateway(tmp_path, consent_db, next_hop=sink.url) as gw:
            t = await send_compliant_ad(gw)
        assert sink.messages() == []
    assert t.data is not None
    assert t.data[0] == 451 and t.data[1].startswith("4.4.0"), t.data


async def test_next_hop_down_gives_451_so_that_the_client_keeps_the_message(
    tmp_path: Path, consent_db: Path
) -> None:
    async with gateway(tmp_path, consent_db, next_hop=f"smtp://127.0.0.1:{free_port()}") as gw:
        t = await send_compliant_ad(gw)
    assert t.data is not None
    assert t.data[0] == 451 and t.data[1].startswith("4.4.1"), t.data
    [line] = gw.log_lines()
    assert line["reply"].startswith("451 4.4.1")


async def test_next_hop_5xx_is_passed_back(tmp_path: Path, consent_db: Path) -> None:
    async with (
        recording_sink(data_reply="554 5.6.0 Content refused by the next hop") as (
            sink,
            url,
        ),
        gateway(tmp_path, consent_db, next_hop=url) as gw,
    ):
        t = await send_compliant_ad(gw)
    assert t.data is not None
    assert t.data[0] == 554 and t.data[1].startswith("5.6.0 Content refused by the next hop")
    assert sink.received == []


async def test_a_failing_store_gives_451_not_a_pass(tmp_path: Path, consent_db: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(consent_db.read_bytes())
    async with gateway(tmp_path, broken) as gw:
        with sqlite3.connect(broken) as db:  # another hand breaks the store under the gateway
            db.execute("DROP TABLE consent_state")
        t = await send_compliant_ad(gw)
    assert t.data == (451, "4.3.0 Temporary failure while checking the message, try again later")
    assert maildir_messages(gw.maildir) == []
    [line] = gw.log_lines()
    assert line["stage"] == "data" and line["error"]


async def test_a_failing_policy_gives_451(tmp_path: Path, consent_db: Path) -> None:
    edits = {'use = "display"': 'use = "tests.sample_policies:Broken"'}
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send_compliant_ad(gw)
    assert t.data is not None and t.data[0] == 451
    assert maildir_messages(gw.maildir) == []
    assert "policy 'broken' failed" in gw.log_lines()[0]["error"]


async def test_category_header_decides_and_is_stripped(tmp_path: Path, consent_db: Path) -> None:
    # 02 lacks the opt-out items; declared as non-advertising it owes none (LAW.md S1).
    raw = b"X-Tokuden-Category: non_advertising\r\n" + case_file("02_")
    async with gateway(tmp_path, consent_db) as gw:
        t = await send(
            gw.port, "b@ogiya.example", ["suzuki@example.jp"], raw, "ogiya", "ogiya-secret"
        )
    assert t.data is not None and t.data[0] == 250, t.data
    [m] = maildir_messages(gw.maildir)
    assert m["X-Tokuden-Category"] is None
    assert "category=non_advertising" in m["X-Tokuden-Decision"]
    assert gw.log_lines()[0]["classified_by"] == "header"


async def test_marketing_only_profile_refuses_each_recipient_at_rcpt(
    tmp_path: Path, consent_db: Path
) -> None:
    edits = {
        'auth = { ogiya = "ogiya-secret" }': (
            'auth = { ogiya = "ogiya-secret" }\nmarketing_only = true'
        )
    }
    rcpts = ["yoshida@example.jp", "tanaka@example.jp", "suzuki@example.jp"]
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send(gw.port, "b@ogiya.example", rcpts, case_file("01_"), "ogiya", "ogiya-secret")
    assert t.rcpt["yoshida@example.jp"][0] == 250
    assert t.rcpt["tanaka@example.jp"][0] == 550
    assert t.rcpt["tanaka@example.jp"][1].startswith("5.7.1 Blocked by policy [O1]")
    assert t.rcpt["suzuki@example.jp"][1].startswith("5.7.1 Blocked by policy [C1]")
    assert t.data is not None and t.data[0] == 250
    assert [m["Delivered-To"] for m in maildir_messages(gw.maildir)] == ["yoshida@example.jp"]
    lines = gw.log_lines()
    assert [line.get("stage") for line in lines] == ["rcpt", "rcpt", None]


def raw_rcpts(port: int, paths: list[str]) -> list[tuple[int, str]]:
    """``RCPT TO:<path>`` exactly as given (smtplib.rcpt would rewrite a bad address)."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60) as smtp:
        smtp.ehlo()
        smtp.login("ogiya", "ogiya-secret")
        smtp.mail("b@ogiya.example")
        replies = [smtp.docmd("RCPT", f"TO:<{path}>") for path in paths]
    return [(code, text.decode("ascii")) for code, text in replies]


async def test_bad_recipient_syntax_is_553_naming_the_fault(
    tmp_path: Path, consent_db: Path
) -> None:
    """The RCPT path uses gateway.address.normalize, as import and the CLI do: a local part
    outside RFC 5321 4.1.2 gets 553 5.1.3 with the same clear text, in ASCII."""
    faults = {
        "a..b@example.jp": "'a..b@example.jp' is not an e-mail address: '.' at position 3:"
        " two dots in a row",
        ".yoshida@example.jp": "'.' at position 1: a local part may not begin with a dot",
        "yoshida.@example.jp": "'.' at position 8: a local part may not end with a dot",
        "x" * 65 + "@example.jp": "the local part is longer than 64 octets",
        "yoshida@-example.jp": "domain '-example.jp' has a bad label '-example'",
    }
    # What the audit of issue 4 found imported as addresses: aiosmtpd's own parser refuses
    # them before the gateway sees them (501 or 553); none may get 250.
    audit = ["a@x.jp;b@y.jp", "a@x.jp,b@y.jp", "d@@example.jp", "mailto:z@x.jp", "<a@x.jp"]
    async with gateway(tmp_path, consent_db) as gw:
        got = await asyncio.to_thread(raw_rcpts, gw.port, [*faults, *audit])
    for (path, why), (code, text) in zip(faults.items(), got, strict=False):
        assert code == 553, (path, text)
        assert text.startswith("5.1.3 Bad recipient address syntax: "), text
        assert why in text, text
    for path, (code, text) in zip(audit, got[len(faults) :], strict=True):
        assert code in (501, 553), (path, code, text)
    assert maildir_messages(gw.maildir) == []


async def test_relayed_copy_is_the_original_bytes_after_the_decision_header(
    tmp_path: Path, consent_db: Path
) -> None:
    raw = case_file("09_")  # Shift_JIS 8bit text part: bytes must survive untouched
    async with gateway(tmp_path, consent_db) as gw:
        await send(
            gw.port, "b@minato.example", ["yoshida@example.jp"], raw, "minato", "minato-secret"
        )
    [path] = (gw.maildir / "new").iterdir()
    stored = path.read_bytes()
    body = stored.split(b"X-Tokuden-Decision: ", 1)[1].split(b"\n", 1)[1]
    assert body.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert message_from_bytes(stored)["Return-Path"] == "<b@minato.example>"


async def test_a_too_big_message_is_refused_with_552_and_logged(
    tmp_path: Path, consent_db: Path
) -> None:
    edits = {"max_message_size = 26214400": "max_message_size = 500"}
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        out = await swaks(
            "--server",
            f"127.0.0.1:{gw.port}",
            "--auth-user",
            "ogiya",
            "--auth-password",
            "ogiya-secret",
            "--from",
            "b@ogiya.example",
            "--to",
            "yoshida@example.jp",
            "--data",
            f"@{CASES[0].path}",
        )
    assert "<** 552 5.3.4 Message size exceeds fixed maximum message size" in out.output
    assert maildir_messages(gw.maildir) == []
    [line] = gw.log_lines()
    assert line["stage"] == "smtp"
    assert line["reply"].startswith("552 5.3.4")
    assert line["envelope"] == {"mail_from": "b@ogiya.example", "rcpt_to": ["yoshida@example.jp"]}


def alternative_without_display_items() -> bytes:
    """A Shift_JIS text + HTML ad with the sender's name only: D2-D5 are missing in both."""
    text = "株式会社みなと電子 メールマガジン\r\n\r\n冬のセール開催中。\r\nhttps://shop.minato.example/sale\r\n"
    html = (
        "<html><body><p>株式会社みなと電子 メールマガジン</p>"
        '<p>冬のセール開催中。<a href="https://shop.minato.example/sale">会場へ</a></p>'
        "</body></html>"
    )
    encoded_html = base64.encodebytes(html.encode("cp932")).replace(b"\n", b"\r\n")
    return (
        b"From: news@minato.example\r\nTo: yoshida@example.jp\r\nSubject: sale\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode("cp932") + b"\r\n"
        b"--b1\r\nContent-Type: text/html; charset=Shift_JIS\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded_html + b"\r\n"
        b"--b1--\r\n"
    )


async def test_footer_fix_relays_a_fixed_and_annotated_mail(
    tmp_path: Path, consent_db: Path
) -> None:
    edits = {
        'auth = { minato = "minato-secret" }': (
            'auth = { minato = "minato-secret" }\ndisplay_fix = "footer"'
        )
    }
    raw = alternative_without_display_items()
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send(
            gw.port, "b@minato.example", ["yoshida@example.jp"], raw, "minato", "minato-secret"
        )
    assert t.data is not None and t.data[0] == 250, t.data
    [path] = (gw.maildir / "new").iterdir()
    delivered = path.read_bytes()
    header = message_from_bytes(delivered)["X-Tokuden-Decision"]
    assert "outcome=annotate" in header
    assert {"D2", "D4", "D5"} <= set(header.split("rules=")[1].split(","))

    # Read back by the standard library: both alternatives carry the block, in Shift_JIS.
    reread = message_from_bytes(delivered, policy=policy.default)
    parts = [p for p in reread.walk() if p.get_content_maintype() == "text"]
    assert [(p.get_content_type(), p.get_content_charset()) for p in parts] == [
        ("text/plain", "shift_jis"),
        ("text/html", "shift_jis"),
    ]
    for part in parts:
        assert "https://shop.minato.example/unsubscribe" in part.get_content()
        assert "〒530-0001 大阪府大阪市北区梅田1-2-3" in part.get_content()

    # The delivered mail passes the display rules on its own.
    assert_display_items_shown(delivered)

    [line] = gw.log_lines()
    assert line["fixes"] == ["footer"]
    assert line["recipients"]["yoshida@example.jp"]["outcome"] == "annotate"
    assert {f["code"] for f in line["findings"]} == {"display.fixed_by_footer"}


PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def mixed_without_body_end() -> bytes:
    """mixed(alternative(Shift_JIS base64 text, EUC-JP 8bit HTML ending </p></html> without
    </body>), PDF): the sender's name only, D2-D5 missing in both alternatives."""
    text = "株式会社みなと電子 メールマガジン\r\n\r\n冬のセール開催中です。\r\n"
    html = (
        "<html><head><title>冬のセール</title></head><body>"
        "<p>株式会社みなと電子 メールマガジン</p><p>冬のセール開催中です。</p></html>\r\n"
    )
    encoded_text = base64.encodebytes(text.encode("shift_jis")).replace(b"\n", b"\r\n")
    encoded_pdf = base64.encodebytes(PDF).replace(b"\n", b"\r\n")
    return (
        b"From: news@minato.example\r\nTo: yoshida@example.jp\r\nSubject: sale\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m1"\r\n\r\n'
        b'--m1\r\nContent-Type: multipart/alternative; boundary="a1"\r\n\r\n'
        b"--a1\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded_text + b"\r\n"
        b"--a1\r\nContent-Type: text/html; charset=EUC-JP\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + html.encode("euc_jp") + b"\r\n"
        b"--a1--\r\n"
        b"--m1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="sale.pdf"\r\n\r\n' + encoded_pdf + b"\r\n"
        b"--m1--\r\n"
    )


async def test_footer_fix_goes_before_html_end_when_there_is_no_body_end(
    tmp_path: Path, consent_db: Path
) -> None:
    """An HTML alternative without </body>: the block goes before </html>, where every reader
    shows it, and the mail is relayed fixed and annotated (the footer once landed after
    </html>, was not rendered, and the fix was refused blaming the profile's block)."""
    edits = {
        'auth = { minato = "minato-secret" }': (
            'auth = { minato = "minato-secret" }\ndisplay_fix = "footer"'
        )
    }
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send(
            gw.port,
            "b@minato.example",
            ["yoshida@example.jp"],
            mixed_without_body_end(),
            "minato",
            "minato-secret",
        )
    assert t.data is not None and t.data[0] == 250, t.data
    [path] = (gw.maildir / "new").iterdir()
    delivered = path.read_bytes()
    assert "outcome=annotate" in message_from_bytes(delivered)["X-Tokuden-Decision"]

    # Read back by the standard library: structure, charsets and encodings kept.
    reread = message_from_bytes(delivered, policy=policy.default)
    assert not [d for p in reread.walk() for d in p.defects]
    leaves = [p for p in reread.walk() if not p.is_multipart()]
    assert [
        (p.get_content_type(), p.get_content_charset(), p["Content-Transfer-Encoding"])
        for p in leaves
    ] == [
        ("text/plain", "shift_jis", "base64"),
        ("text/html", "euc-jp", "8bit"),
        ("application/pdf", None, "base64"),
    ]
    plain, html, pdf = leaves
    for part in (plain, html):
        content = part.get_content()
        assert "https://shop.minato.example/unsubscribe" in content
        assert "〒530-0001 大阪府大阪市北区梅田1-2-3" in content
    source = html.get_content()
    assert source.index("■配信停止") < source.rindex("</html>")
    assert source.rstrip().endswith("</html>")
    assert pdf.get_content() == PDF

    assert_display_items_shown(delivered)

    [line] = gw.log_lines()
    assert line["fixes"] == ["footer"]
    fixed = [f for f in line["findings"] if f["code"] == "display.fixed_by_footer"]
    assert {f["rule"] for f in fixed} == {"D2", "D3", "D4", "D5"}
    for finding in fixed:
        assert finding["evidence"].endswith(
            "display block added to text/plain part #0 (shift_jis), text/html part #1 (euc-jp)"
        )


async def test_an_opt_out_during_a_campaign_stops_the_next_message(tmp_path: Path) -> None:
    """O1: the opt-out lands in the store at once; the next message to that address is refused."""
    store_path = tmp_path / "campaign.db"
    (tmp_path / "cfg").mkdir()
    config = example_config(tmp_path / "cfg", store=store_path)

    def tokuden(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    tokuden("consent", "import", str(CASES_FILE))
    async with gateway(tmp_path, store_path) as gw:
        first = await send_compliant_ad(gw)
        tokuden(
            "consent", "optout", "yoshida@example.jp", "--sender", "ogiya", "--channel", "one-click"
        )
        second = await send_compliant_ad(gw)
    assert first.data is not None and first.data[0] == 250
    assert second.data is not None and second.data[0] == 550
    assert second.data[1].startswith("5.7.1 Blocked by policy [O1]")


async def test_each_relayed_ad_records_when_it_was_sent(tmp_path: Path, consent_db: Path) -> None:
    """K2 counts from the last advertising mail: the gateway records it before answering 250."""
    db = tmp_path / "sent.db"
    db.write_bytes(consent_db.read_bytes())
    async with gateway(tmp_path, db) as gw:
        before = datetime.now(UTC)
        t = await send_compliant_ad(gw)
        after = datetime.now(UTC)
    assert t.data is not None and t.data[0] == 250
    store = await open_store(f"sqlite:{db}")
    try:
        record = (await store.lookup("ogiya", ["yoshida@example.jp"]))["yoshida@example.jp"]
    finally:
        await store.close()
    assert record.last_sent_at is not None
    assert before <= record.last_sent_at <= after


async def test_a_last_sent_record_that_cannot_be_written_gives_451(
    tmp_path: Path, consent_db: Path
) -> None:
    """Another writer holds the store (a long import): lookups work, the K2 record cannot be
    made durable within the busy timeout, so the client is told to retry (never a bare 250)."""
    db = tmp_path / "locked.db"
    db.write_bytes(consent_db.read_bytes())
    async with gateway(tmp_path, db) as gw:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            t = await send_compliant_ad(gw)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert t.data == (451, "4.3.0 Temporary failure while checking the message, try again later")
    [line] = gw.log_lines()
    assert line["stage"] == "record"
    assert line["next_hop_accepted"] is True


async def test_the_topic_header_decides_the_topic_is_logged_and_is_stripped(
    tmp_path: Path, consent_db: Path
) -> None:
    raw = b"X-Tokuden-Topic: Sale\r\n" + case_file("01_")
    async with gateway(tmp_path, consent_db) as gw:
        t = await send(
            gw.port, "b@ogiya.example", ["yoshida@example.jp"], raw, "ogiya", "ogiya-secret"
        )
    assert t.data is not None and t.data[0] == 250, t.data
    [m] = maildir_messages(gw.maildir)
    assert m["X-Tokuden-Topic"] is None
    assert gw.log_lines()[0]["topic"] == "sale"


async def test_a_postgresql_store_that_goes_away_gives_451_never_a_pass(
    tmp_path: Path, pg_schema: str
) -> None:
    """Several gateways share PostgreSQL; when it is lost, every message is deferred (451)."""
    cable = Cable()
    port = await cable.start()
    url = url_at(port, pg_schema, pool_timeout=2)
    (tmp_path / "cfg").mkdir()
    config = example_config(tmp_path / "cfg")
    config.write_text(
        config.read_text("utf-8").replace(
            f'url = "sqlite:{tmp_path / "cfg" / "consent.db"}"', f'url = "{url}"'
        ),
        "utf-8",
    )
    # the import goes through the cable too, so the relay (this loop) must keep running
    importing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "consent", "import", str(CASES_FILE),
        "--config", str(config), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await importing.communicate()
    assert importing.returncode == 0, err.decode()
    port_smtp = free_port()
    loaded = load(config)
    loaded = replace(
        loaded,
        server=replace(loaded.server, listen=(Listener("127.0.0.1", port_smtp),)),
        relay=replace(loaded.relay, next_hop=f"maildir:{tmp_path / 'maildir'}"),
    )
    service = await Gateway.open(loaded)
    server = await start_server(loaded, service)
    try:
        before = await send(
            port_smtp,
            "b@ogiya.example",
            ["yoshida@example.jp"],
            case_file("01_"),
            "ogiya",
            "ogiya-secret",
        )
        await cable.cut()
        after = await send(
            port_smtp,
            "b@ogiya.example",
            ["yoshida@example.jp"],
            case_file("01_"),
            "ogiya",
            "ogiya-secret",
        )
    finally:
        await server.close()
        await service.close()
    assert before.data is not None and before.data[0] == 250, before.data
    assert after.data == (
        451,
        "4.3.0 Temporary failure while checking the message, try again later",
    )
    assert len(maildir_messages(tmp_path / "maildir")) == 1


async def test_a_decision_log_that_cannot_be_written_does_not_undo_the_relay(
    tmp_path: Path, consent_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # /dev/full takes the open and refuses every write (ENOSPC), as a full disk does. The
    # mail was relayed: a 451 now would make the client send it again.
    edits = {'file = "../var/tour/decisions.log"': 'file = "/dev/full"'}
    async with gateway(tmp_path, consent_db, edits=edits) as gw:
        t = await send_compliant_ad(gw)
    assert t.data is not None and t.data[0] == 250, t.data
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 1
    [record] = [r for r in caplog.records if r.name == "tokuden.log"]
    assert record.getMessage().startswith("decision log: cannot write (")
    assert '"yoshida@example.jp"' in record.getMessage()  # the line is not lost either
