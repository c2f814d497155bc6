"""parse(): the corpora never break it, and decoded text matches what upstream documents."""

from __future__ import annotations

import base64
import mailbox
import random
import unicodedata
from pathlib import Path

import pytest

from gateway.message import HiddenText, ParsedMessage, parse, parse_address, plain_links
from tests.conftest import SHARED

MAIL = SHARED / "corpora" / "mail"
EXAMPLES = SHARED / "examples"


def _corpus() -> list[tuple[str, bytes]]:
    items: list[tuple[str, bytes]] = []
    for path in sorted([*MAIL.glob("*/*.eml"), *(SHARED / "corpora" / "spam").glob("*.eml")]):
        items.append((path.name, path.read_bytes()))
    for path in sorted(MAIL.glob("*/*.mbox")):
        box = mailbox.mbox(str(path), create=False)
        items.extend((f"{path.name}#{i}", box.get_bytes(key)) for i, key in enumerate(box.keys()))
    return items


CORPUS = _corpus()


def test_corpus_found() -> None:
    # MANIFEST sections 3 and 4, the mbox split into its 4 messages.
    assert len(CORPUS) >= 23 + 10 + 4 + 13


@pytest.mark.parametrize(("name", "raw"), CORPUS, ids=[name for name, _ in CORPUS])
def test_corpus_parses_to_str(name: str, raw: bytes) -> None:
    message = parse(raw)
    assert message.raw is raw
    assert all(isinstance(value, str) for _, value in message.headers)
    for part in message.parts:
        assert isinstance(part.text, str)
        assert isinstance(part.source, str)
        assert part.charset
    assert isinstance(message.from_address, str)


def _read(path: Path) -> ParsedMessage:
    return parse(path.read_bytes())


# ---- decoded text documented upstream


def test_jdec_raw_iso2022jp_headers_no_charset() -> None:
    # kanety/mail-jdec spec/mail/jdec/decode_spec.rb ('decodes iso-2022-jp', no Content-Type).
    m = _read(MAIL / "ja/jdec_iso2022jp_raw_headers_no_charset.eml")
    assert "差出人" in (m.header("From") or "")
    assert "宛先" in (m.header("To") or "")
    assert "宛先CC" in (m.header("Cc") or "")
    assert "宛先BCC" in (m.header("Bcc") or "")
    assert "テストメールの件名" in m.subject
    assert "テストメールの本文" in m.text


def test_jdec_multipart_no_charset() -> None:
    # kanety/mail-jdec spec/mail/jdec/decode_spec.rb ('decodes iso-2022-jp multipart').
    m = _read(MAIL / "ja/jdec_iso2022jp_multipart_no_charset.eml")
    assert "テストメールの本文" in m.parts[0].text
    assert not m.parts[0].attachment


def test_jdec_split_q_value() -> None:
    # kanety/mail-jdec spec/mail/jdec/decode_qb_spec.rb ('decodes q value splitted in bytes').
    m = _read(MAIL / "ja/jdec_iso2022jp_split_Q_encoded_word.eml")
    assert "テストメールの件名" in m.subject


def test_jdec_shift_jis_labelled_7bit() -> None:
    # kanety/mail-jdec spec/mail/jdec/decode_spec.rb ('decodes shift_jis').
    m = _read(MAIL / "ja/jdec_shift_jis_labelled_7bit.eml")
    assert "差出人" in m.from_display
    assert "宛先" in (m.header("To") or "")
    assert "テストメールの件名" in m.subject
    assert "テストメールの本文" in m.text
    assert m.parts[0].charset == "shift_jis"


def test_mikel_japanese_iso_2022() -> None:
    # ikvk/imap_tools tests/messages_data/multi_charset/japanese_iso_2022.py
    m = _read(MAIL / "ja/mikel_japanese_iso_2022.eml")
    assert m.subject == "まみむめも"
    assert m.parts[0].text == "すみません。\n\n"
    assert (m.from_display, m.from_address) == ("Mikel Lindsaar", "raasdnil@gmail.com")
    assert parse_address(m.header("To") or "") == ("みける", "raasdnil@gmail.com")


def test_mikel_japanese_utf8_base64() -> None:
    # ikvk/imap_tools tests/messages_data/multi_charset/japanese.py
    m = _read(MAIL / "ja/mikel_japanese_utf8_base64.eml")
    assert m.subject == "まみむめも"
    assert (
        m.parts[0].text
        == "かきくえこ\n\n-- \nhttp://lindsaar.net/\nRails, RSpec and Life blog....\n"
    )


def test_mikel_long_encoded_subject_and_attachment() -> None:
    # ikvk/imap_tools tests/messages_data/multi_charset/japanese_attachment_long_name.py
    m = _read(MAIL / "ja/mikel_japanese_long_encoded_subject_attachment.eml")
    assert m.subject == "まみむめも" * 10
    assert [(p.text, p.attachment) for p in m.parts] == [("this is the data\n", True)]
    assert m.text == ""


def test_mikel_example14_odd_folding() -> None:
    # ikvk/imap_tools tests/messages_data/rfc2822/example14.py gives 'Re: TESTテストテスト';
    # RFC 2047 keeps the folding white space before the first encoded word, as one blank.
    m = _read(MAIL / "ja/mikel_example14_iso2022jp_subject_odd_folding.eml")
    assert m.subject == "Re: TEST テストテスト"
    assert m.parts[0].text == "Hello\n"
    assert (m.from_display, m.from_address) == ("Atsushi Yoshida", "atsushi@example.com")


def test_mikel_must_supply_encoding_8bit_headers() -> None:
    # ikvk/imap_tools tests/messages_data/error_emails/must_supply_encoding.py
    m = _read(MAIL / "structure/mikel_must_supply_encoding_8bit_headers.eml")
    assert m.subject == "Impress your clients with a business phone\ufffd\ufffd\ufffd"
    assert m.from_address == "info@here2there-travelers-msgs.net"


def test_stalwart_005_utf16_euc_jp_invalid_utf8() -> None:
    # stalwartlabs/mail-parser resources/eml/thirdparty/005.json
    m = _read(MAIL / "ja/stalwart_euc-jp_base64_utf16_invalid_utf8.eml")
    texts = [p.text for p in m.parts]
    assert texts[:4] == ["Test message\n"] * 3 + ["『世界人権宣言』"]
    assert m.parts[3].charset == "euc-jp"
    assert texts[4].startswith("invalid")


def test_email2slack_three_japanese_charsets() -> None:
    # The body text is stated in each fixture's name and mikoim/email2slack tests/data.
    for name, codec in [("euc-jp_8bit", "euc-jp"), ("shift_jis_8bit", "shift_jis")]:
        m = _read(MAIL / f"ja/email2slack_{name}.eml")
        assert m.parts[0].charset == codec
        assert "でエンコードされています" in m.parts[0].text
    m = _read(MAIL / "ja/email2slack_iso-2022-jp.eml")
    assert m.parts[0].text.startswith("このメールはISO-2022-JPでエンコードされています")


def test_rfc6532_utf8_headers() -> None:
    # mikel/mail spec/fixtures/emails/rfc6532/utf8_headers.eml: raw UTF-8 in the header.
    m = _read(MAIL / "structure/mikel_rfc6532_utf8_headers.eml")
    assert m.subject == "Säying Hello"
    assert (m.from_display, m.from_address) == ("Jöhn Doe", "jdöe@mächine.example")


def test_letters_euc_jp_without_hostile_header() -> None:
    # MANIFEST 3: strip letters' hostile header to use the file as an encoding sample.
    raw = (MAIL / "ja/letters_plaintext_euc-jp_base64.eml").read_bytes()
    kept = b"".join(line for line in raw.splitlines(keepends=True) if b"X-Script" not in line)
    m = parse(kept)
    assert m.parts[0].charset == "euc-jp"
    assert "色は匂えど" in m.text
    assert m.from_display == "郵便アリス"


def test_hostile_header_does_not_raise() -> None:
    m = _read(MAIL / "ja/letters_multipart_mixed_iso-2022-jp_qp.eml")
    assert "MissingHeaderBodySeparatorDefect" in m.defects


def test_multipart_without_boundary_read_as_text() -> None:
    m = _read(MAIL / "structure/dovecot_malformed_017_missing_semicolon_boundary.eml")
    assert m.parts[0].content_type == "text/plain"
    assert any("without parts" in d for d in m.defects)


# ---- the 14 example mails

EXAMPLE_PHRASES = {
    "01_ad_compliant_iso2022jp.eml": (
        "扇屋商店",
        ["配信の停止", "https://www.ogiya.example/mail/stop"],
    ),
    "02_ad_no_optout.eml": ("週末限定セール", ["扇屋商店", "〒100-0013 東京都千代田区霞が関9-1-1"]),
    "03_ad_optout_statement_far.eml": ("テイスティング会", ["今後のご案内が不要な場合"]),
    "04_ad_no_postal_address.eml": ("新入荷", ["配信停止をご希望の方はこちら"]),
    "05_ad_address_on_linked_page.eml": ("秋の試飲会", ["https://www.ogiya.example/company/"]),
    "06_bill_with_incidental_ad.eml": ("ご利用料金のお知らせ", ["ご請求額：6,380円（税込）"]),
    "07_transactional_password_reset.eml": ("パスワード再設定", ["ひかり通信株式会社"]),
    "08_ad_html_only_utf8_qp.eml": ("年末セール開催中", ["〒530-0001 大阪府大阪市北区梅田1-2-3"]),
    "09_ad_alternative_shift_jis.eml": ("みなと電子", ["株式会社みなと電子 メールマガジン 12月号"]),
    "10_ad_footer_other_charset.eml": ("営業日のご案内", ["メール配信の停止", "扇屋商店"]),
    "11_ad_forged_from.eml": ("ポイント失効", ["扇屋商店"]),
    "12_ad_many_recipients.eml": ("今月のおすすめワイン", ["お客様各位"]),
    "13_ad_display_hidden_in_html.eml": ("年末セール", ["株式会社みなと電子"]),
    "14_ad_english_compliant.eml": ("Winter sale", ["Minato Denshi Co., Ltd."]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_PHRASES))
def test_example_subject_and_body(name: str) -> None:
    subject, phrases = EXAMPLE_PHRASES[name]
    m = _read(EXAMPLES / name)
    assert subject in m.subject
    for phrase in phrases:
        assert phrase in m.text


def test_example_01_from_inside_one_encoded_word() -> None:
    m = _read(EXAMPLES / "01_ad_compliant_iso2022jp.eml")
    assert (m.from_display, m.from_address, m.from_domain) == (
        "扇屋商店",
        "news@ogiya.example",
        "ogiya.example",
    )
    assert link_urls(m) == [
        "https://www.ogiya.example/wine/",
        "https://www.ogiya.example/mail/stop",
    ]


def link_urls(m: ParsedMessage) -> list[str]:
    return [link.url for part in m.parts for link in part.links]


def test_example_09_shift_jis_8bit_alternative() -> None:
    m = _read(EXAMPLES / "09_ad_alternative_shift_jis.eml")
    plain, html = m.parts
    assert (plain.content_type, plain.charset, plain.transfer_encoding) == (
        "text/plain",
        "shift_jis",
        "8bit",
    )
    assert (html.content_type, html.charset, html.transfer_encoding) == (
        "text/html",
        "shift_jis",
        "base64",
    )
    assert plain.alternative is not None and plain.alternative == html.alternative
    assert ("mailto:support@minato.example", "support@minato.example") in [
        (link.url, link.text) for link in html.links
    ]


def test_example_10_two_charsets() -> None:
    m = _read(EXAMPLES / "10_ad_footer_other_charset.eml")
    assert [p.charset for p in m.parts] == ["iso-2022-jp", "utf-8"]
    assert "https://www.ogiya.example/mail/stop" in m.parts[1].text


def test_example_13_display_none_hidden() -> None:
    (part,) = _read(EXAMPLES / "13_ad_display_hidden_in_html.eml").parts
    assert "株式会社みなと電子" in part.text
    assert "〒530-0001" not in part.text
    assert "〒530-0001" in part.source
    assert "https://shop.minato.example/unsubscribe" not in [link.url for link in part.links]
    assert ("https://shop.minato.example/sale", "セール会場はこちら") in [
        (link.url, link.text) for link in part.links
    ]
    # The hidden div is still there for a finding to quote, with why it is not seen.
    assert part.hidden == (
        HiddenText(
            "配信停止をご希望の方は こちら。 〒530-0001 大阪府大阪市北区梅田1-2-3 "
            "お問い合わせ：06-6123-4567",
            "display:none",
            ("https://shop.minato.example/unsubscribe",),
        ),
    )


def test_html_part_hidden_text_and_plain_part_has_none() -> None:
    raw = _mime(
        "From: a@example.com",
        'Content-Type: multipart/alternative; boundary="A"',
        "",
        "--A",
        "Content-Type: text/plain",
        "",
        "plain",
        "--A",
        "Content-Type: text/html",
        "",
        '<p>shown</p><p style="color:#fefefe">faint '
        '<a href="https://x.example/" style="color:inherit">x</a></p>',
        "--A--",
    )
    plain, html = parse(raw).parts
    assert plain.hidden == ()
    assert html.text == "shown"
    assert html.links == ()
    assert html.hidden == (
        HiddenText("faint x", "colour #fefefe on background #ffffff", ("https://x.example/",)),
    )


# ---- structure and robustness


def _mime(*lines: str) -> bytes:
    return "\r\n".join(lines).encode()


def test_attachment_alternative_and_nested_message() -> None:
    raw = _mime(
        "From: a@example.com",
        'Content-Type: multipart/mixed; boundary="M"',
        "",
        "--M",
        'Content-Type: multipart/alternative; boundary="A"',
        "",
        "--A",
        "Content-Type: text/plain",
        "",
        "plain",
        "--A",
        "Content-Type: text/html",
        "",
        "<p>html</p>",
        "--A--",
        "--M",
        'Content-Type: text/plain; name="a.txt"',
        "",
        "named",
        "--M",
        "Content-Type: text/plain",
        "Content-Disposition: attachment",
        "",
        "attached",
        "--M",
        "Content-Type: message/rfc822",
        "",
        "Subject: inner",
        "Content-Type: text/plain",
        "",
        "forwarded",
        "--M--",
        "",
    )
    m = parse(raw)
    assert [(p.text.strip(), p.attachment, p.alternative) for p in m.parts] == [
        ("plain", False, 1),
        ("html", False, 1),
        ("named", True, None),
        ("attached", True, None),
        ("forwarded", True, None),
    ]
    assert m.text.split() == ["plain", "html"]


def test_cut_base64_utf8_stays_utf8() -> None:
    body = base64.b64encode("配信停止".encode()).decode()[:-1] + "!!"
    raw = _mime("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "")
    m = parse(raw + b"\r\n" + body.encode())
    assert m.parts[0].text.startswith("配信停")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 100,
        b"Subject: =?x?B?@@@?=\r\n\r\n",
        b"Content-Type: multipart/mixed\r\n\r\n",
    ],
)
def test_never_raises(raw: bytes) -> None:
    m = parse(raw)
    assert m.raw == raw
    assert m.from_address == ""


def test_parse_address_decoded_comma_in_name() -> None:
    assert parse_address("Minato Denshi Co., Ltd. <news@minato.example>") == (
        "Minato Denshi Co., Ltd.",
        "news@minato.example",
    )
    assert parse_address('"Doe, J." <j@example.com>, other@example.com') == (
        "Doe, J.",
        "j@example.com",
    )
    assert parse_address("j@example.com (John)") == ("John", "j@example.com")
    assert parse_address("undisclosed") == ("undisclosed", "")


def test_plain_links() -> None:
    text = "停止はhttps://a.example/stop?u=1。(see http://b.example/x) mail info@c.example."
    assert [link.url for link in plain_links(text)] == [
        "https://a.example/stop?u=1",
        "http://b.example/x",
        "mailto:info@c.example",
    ]


def test_normalized_view_is_nfkc_of_the_visible_text() -> None:
    # 09_ad_alternative_shift_jis has full-width digits and half-width kana in both parts.
    m = _read(EXAMPLES / "09_ad_alternative_shift_jis.eml")
    assert m.normalized == unicodedata.normalize("NFKC", m.text)
    assert all(p.normalized == unicodedata.normalize("NFKC", p.text) for p in m.parts)


def test_nfkc_equals_unicodedata_on_every_text_of_the_corpora() -> None:
    from gateway.message import nfkc

    texts = [
        p.text
        for path in [
            *EXAMPLES.glob("*.eml"),
            *(Path(__file__).parent / "data").rglob("*.eml"),
            *MAIL.rglob("*.eml"),
            *(SHARED / "corpora" / "spam").rglob("*.eml"),
        ]
        for p in _read(path).parts
    ]
    assert len(texts) > 100
    assert all(nfkc(t) == unicodedata.normalize("NFKC", t) for t in texts)


def test_nfkc_equals_unicodedata_where_full_width_forms_meet_combining_marks() -> None:
    # Random strings from the characters that interact: full-width letters followed by
    # combining marks (Ａ + U+0301 is Á), half-width kana with their voicing marks (ｶﾞ is ガ),
    # kana with combining voicing marks, Hangul jamo, ㈱, the ideographic space.
    from gateway.message import nfkc

    pool = (
        "Ａａ０！～\u3000\u0301\u0308\u0323ｶﾞﾟｱﾊか\u3099\u309aは\u1100\u1161\u11a8가㈱①ｶ\uff9eAa 。"
    )
    rng = random.Random(15)
    for _ in range(5000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), text


def test_a_large_mail_parsed_as_its_skeleton_reads_as_the_whole_mail() -> None:
    # What a policy reads must not depend on whether the attachments' bodies were parsed:
    # every mail of the corpora, parsed whole and as its skeleton, gives the same headers,
    # text parts and defects.
    from gateway.message import _parse, skeleton

    paths = [
        *EXAMPLES.glob("*.eml"),
        *(Path(__file__).parent / "data").rglob("*.eml"),
        *MAIL.rglob("*.eml"),
        *(SHARED / "corpora" / "spam").rglob("*.eml"),
    ]
    smaller = 0
    for path in paths:
        raw = path.read_bytes()
        bones = skeleton(raw)
        smaller += len(bones) < len(raw)
        whole, light = _parse(raw, raw), _parse(raw, bones)
        assert (light.headers, light.parts, light.defects) == (
            whole.headers,
            whole.parts,
            whole.defects,
        ), path
    assert smaller > 5  # mails with attachments were among them


def test_the_skeleton_keeps_the_text_and_drops_the_attachment_body() -> None:
    from gateway.message import LARGE_BYTES, skeleton

    text = "お知らせ本文です。\n".encode("iso-2022-jp")
    raw = (
        b"From: a@example.jp\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n" + text + b"\r\n--b\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"QUJD" * 19 * (1 << 14)  # 1.2 MB
        + b"\r\n--b--\r\n"
    )
    assert len(raw) > LARGE_BYTES  # parse() reads this one as its skeleton
    bones = skeleton(raw)
    assert len(bones) < 400 and b"QUJD" not in bones
    assert bones.startswith(raw[: raw.index(b"QUJD")]) and bones.endswith(b"\r\n--b--\r\n")
    m = parse(raw)
    assert [p.text for p in m.parts] == ["お知らせ本文です。\n"]
    assert m.raw is raw
