"""The footer fix writes the display block into the mail without breaking it.

Each fixed mail is read back with the standard library's own parser
(policy.default), an independent reader, to show the MIME structure, the
charsets and the transfer encodings survived.
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest

from gateway.footer import (
    DEFAULT_BLOCK,
    FooterError,
    append_footer,
    main_parts,
    render_block,
    unseen,
)
from gateway.message import parse
from gateway.profile import SenderProfile
from tests.cases import EXAMPLES, WORLD

OGIYA = SenderProfile(
    name="ogiya",
    consignor="扇屋商店",
    names=tuple(WORLD["senders"]["ogiya"]["names"]),
    postal_addresses=tuple(WORLD["senders"]["ogiya"]["postal_addresses"]),
    optout_url=WORLD["senders"]["ogiya"]["optout_url"],
    contact=tuple(WORLD["senders"]["ogiya"]["contact"]),
    info_url=WORLD["senders"]["ogiya"]["info_url"],
)
BLOCK = render_block(OGIYA)


def reread(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not [d for p in message.walk() for d in p.defects], "the fixed mail has MIME defects"
    return message


def texts(message: EmailMessage) -> list[tuple[str, str, str, str]]:
    """(type, charset, transfer encoding, decoded text) of every text part, by the stdlib."""
    out = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            out.append(
                (
                    part.get_content_type(),
                    str(part.get_content_charset()),
                    str(part.get("content-transfer-encoding", "")).lower(),
                    part.get_content().replace("\r\n", "\n"),
                )
            )
    return out


def test_the_default_block_fills_the_profile_items_and_drops_empty_lines() -> None:
    assert BLOCK.splitlines() == [
        "――――――――――――――――――――――",
        "■配信停止",
        "今後このメールの配信を希望されない方は、以下より配信停止の手続きができます。",
        "https://www.ogiya.example/mail/stop",
        "■送信者：扇屋商店",
        "■所在地：〒100-0013 東京都千代田区霞が関9-1-1",
        "■お問い合わせ：03-1234-5678",
        "■所在地・お問い合わせ先は次のページでもご覧いただけます：https://www.ogiya.example/company/",
        "――――――――――――――――――――――",
    ]
    bare = SenderProfile(name="x", consignor="X", names=("X",), optout_url="https://x.example/s")
    assert "■所在地" not in render_block(bare)
    assert "{" not in DEFAULT_BLOCK.format_map(
        dict.fromkeys(("name", "optout", "postal_address", "contact", "info_url"), "")
    )


def test_a_custom_block_uses_the_placeholders() -> None:
    custom = SenderProfile(
        name="x",
        consignor="X",
        names=("X Co.",),
        optout_url="https://x.example/s",
        display_block="Sent by {name}. Unsubscribe: {optout}",
    )
    assert render_block(custom) == "Sent by X Co.. Unsubscribe: https://x.example/s"


def test_iso2022jp_7bit_text_gets_the_block_in_iso2022jp() -> None:
    raw = (EXAMPLES / "02_ad_no_optout.eml").read_bytes()
    fixed = append_footer(parse(raw), BLOCK)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert fixed.startswith(head + b"\r\n\r\n")  # headers byte for byte
    [(ctype, charset, cte, text)] = texts(reread(fixed))
    assert (ctype, charset, cte) == ("text/plain", "iso-2022-jp", "7bit")
    [(_, _, _, original)] = texts(reread(raw))
    assert text.rstrip("\n").endswith(BLOCK)
    assert text.startswith(original.rstrip("\n"))
    assert all(b < 0x80 for b in fixed)  # still 7bit


def test_shift_jis_alternative_gets_the_block_in_both_parts() -> None:
    raw = (EXAMPLES / "09_ad_alternative_shift_jis.eml").read_bytes()
    fixed = append_footer(parse(raw), BLOCK)
    parts = texts(reread(fixed))
    assert [(t, c, e) for t, c, e, _ in parts] == [
        ("text/plain", "shift_jis", "8bit"),
        ("text/html", "shift_jis", "base64"),
    ]
    plain, html_source = parts[0][3], parts[1][3]
    assert plain.rstrip("\n").endswith(BLOCK)
    before_body_end = html_source.lower().rsplit("</body>", 1)[0]
    assert '<div class="tokuden-display">' in before_body_end
    assert '<a href="https://www.ogiya.example/mail/stop">' in before_body_end
    reparsed = parse(fixed)
    assert "■送信者：扇屋商店" in reparsed.parts[1].text  # what the HTML reader sees
    assert reparsed.parts[1].charset == "shift_jis"


def test_utf8_quoted_printable_html_only() -> None:
    raw = (EXAMPLES / "08_ad_html_only_utf8_qp.eml").read_bytes()
    [(ctype, charset, cte, source)] = texts(reread(append_footer(parse(raw), BLOCK)))
    assert (ctype, charset, cte) == ("text/html", "utf-8", "quoted-printable")
    assert source.index("■配信停止") < source.lower().rindex("</body>")


def _html_mail(markup: str) -> bytes:
    return (
        b"From: news@ogiya.example\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + markup.encode()
    )


def test_html_without_body_end_gets_the_block_before_html_end() -> None:
    """No </body>: the block goes before </html>, inside the document, not after it."""
    raw = _html_mail("<html><body><p>冬のセール開催中です。</p></html>\r\n")
    [(_, _, _, source)] = texts(reread(append_footer(parse(raw), BLOCK)))
    assert source.index('<div class="tokuden-display">') < source.lower().rindex("</html>")
    assert source.rstrip().endswith("</html>")
    assert "■送信者：扇屋商店" in parse(append_footer(parse(raw), BLOCK)).parts[0].text


def test_html_fragment_without_body_or_html_end_gets_the_block_at_the_end() -> None:
    raw = _html_mail("<p>冬のセール開催中です。</p>")
    [(_, _, _, source)] = texts(reread(append_footer(parse(raw), BLOCK)))
    assert source.startswith("<p>冬のセール開催中です。</p>")
    assert source.rstrip().endswith("</div>")


def test_the_last_body_end_is_used_before_content_after_html_end() -> None:
    raw = _html_mail("<html><body><p>a</p></body></html>\r\n<p>b</p>\r\n")
    [(_, _, _, source)] = texts(reread(append_footer(parse(raw), BLOCK)))
    assert source.index("■配信停止") < source.lower().index("</body>") < source.index("<p>b</p>")


def test_unseen_names_a_part_where_the_block_is_hidden() -> None:
    """A block written before </body> inside an unclosed display:none element is not seen."""
    raw = _html_mail('<html><body><p>セール</p><div style="display:none">pre</body></html>')
    message = parse(raw)
    fixed = parse(append_footer(message, BLOCK))
    assert unseen(fixed, main_parts(message), BLOCK) == [
        ("text/html part #0", "hidden (display:none)")
    ]
    visible = parse(_html_mail("<p>セール</p>"))
    assert unseen(parse(append_footer(visible, BLOCK)), main_parts(visible), BLOCK) == []


def test_other_parts_stay_byte_for_byte() -> None:
    raw = (EXAMPLES / "10_ad_footer_other_charset.eml").read_bytes()
    fixed = append_footer(parse(raw), BLOCK)
    # only the first (main) text/plain part changes; the UTF-8 second part is left as it was
    second_part = raw[raw.index(b"--==mixed-10==", raw.index(b"--==mixed-10==") + 1) :]
    assert fixed.endswith(second_part)
    parts = texts(reread(fixed))
    assert parts[0][3].rstrip("\n").endswith(BLOCK)
    assert BLOCK not in parts[1][3]


def test_a_7bit_label_is_changed_to_quoted_printable_when_the_block_is_8bit() -> None:
    raw = (
        b"From: a@ogiya.example\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"
        b"\r\nsale today\r\n"
    )
    [(_, charset, cte, text)] = texts(reread(append_footer(parse(raw), BLOCK)))
    assert (charset, cte) == ("utf-8", "quoted-printable")
    assert text.startswith("sale today\n")
    assert text.rstrip("\n").endswith(BLOCK)


def test_a_charset_that_cannot_hold_the_block_is_refused() -> None:
    raw = b"From: a@x.example\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n"
    with pytest.raises(FooterError, match="cannot be written in the part's charset us-ascii"):
        append_footer(parse(raw), BLOCK)


def test_characters_missing_from_iso2022jp_are_written_in_their_nfkc_form() -> None:
    raw = (EXAMPLES / "02_ad_no_optout.eml").read_bytes()
    [(_, _, _, text)] = texts(reread(append_footer(parse(raw), "㈱扇屋 ①")))
    assert text.rstrip("\n").endswith("(株)扇屋 1")
