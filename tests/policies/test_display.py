"""policies.display: the display items of Art. 4 (LAW.md D1–D7).

The example mails carry their expected rules in cases.toml; the unit tests
below build a few lines of mail each and cite the rule they exercise.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from gateway.api import (
    Action,
    Category,
    Classification,
    Envelope,
    Finding,
    HiddenText,
    Link,
    ParsedMessage,
    PolicyContext,
    SenderProfile,
    TextPart,
)
from gateway.message import parse
from policies.display import DisplayPolicy
from tests.conftest import SHARED

EXAMPLES = SHARED / "examples"
CASES = tomllib.loads((EXAMPLES / "cases.toml").read_text(encoding="utf-8"))
DISPLAY_RULES = {"D1", "D2", "D3", "D4", "D5", "D6", "D7"}
POLICY = DisplayPolicy({})


def _profile(key: str) -> SenderProfile:
    sender: dict[str, Any] = CASES["senders"][key]
    return SenderProfile(
        name=key,
        consignor=key,
        names=tuple(sender["names"]),
        postal_addresses=tuple(sender["postal_addresses"]),
        optout_url=sender.get("optout_url"),
        optout_address=sender.get("optout_address"),
        contact=tuple(sender["contact"]),
        info_url=sender.get("info_url"),
        from_domains=tuple(sender["from_domains"]),
    )


OGIYA = _profile("ogiya")
MINATO = _profile("minato")


def _context(
    profile: SenderProfile = OGIYA, category: Category = Category.ADVERTISING
) -> PolicyContext:
    return PolicyContext(
        profile=profile,
        envelope=Envelope("news@ogiya.example", ("yoshida@example.jp",)),
        classification=Classification(category, "test"),
    )


def _part(
    text: str,
    *,
    index: int = 0,
    content_type: str = "text/plain",
    charset: str = "iso-2022-jp",
    links: Iterable[Link] = (),
    alternative: int | None = None,
    attachment: bool = False,
    hidden: Iterable[HiddenText] = (),
) -> TextPart:
    return TextPart(
        index=index,
        content_type=content_type,
        charset=charset,
        declared_charset=charset,
        transfer_encoding="7bit",
        text=text,
        source=text,
        links=tuple(links),
        attachment=attachment,
        alternative=alternative,
        hidden=tuple(hidden),
    )


def _check(
    *parts: TextPart,
    context: PolicyContext | None = None,
    sender: str = "news@ogiya.example",
    policy: DisplayPolicy = POLICY,
) -> list[Finding]:
    message = ParsedMessage(raw=b"", headers=[("From", sender)] if sender else [], parts=parts)
    findings = policy.check(message, context or _context())
    assert all(f.message.isascii() for f in findings)  # quoted in SMTP replies
    return findings


def _rules(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


# The ministry's example display (LAW.md D1–D5), in 扇屋商店's words.
FOOTER = """\
■メール配信の停止をご希望の方は、下記URLよりお手続きください。
https://www.ogiya.example/mail/stop
■お問い合わせ：03-1234-5678
扇屋商店
〒100-0013 東京都千代田区霞が関9-1-1"""
BODY = "今月のおすすめワインをご案内いたします。\nhttps://www.ogiya.example/wine/\n\n――――――――\n"


# The ministry's example display (seeds/000, 表示の具体例), in 扇屋商店's name.
MINISTRY = """\
キャンペーン実施中！

【配信停止手続】
http://www.example.com/customer/
teishi@example.com

【各種問合せ先】
http://www.example.com/customer/ を参照

扇屋商店

所在地：〒100-000 千代田区霞が関9-1-1"""


def test_ministry_example_display_is_compliant() -> None:
    assert _check(_part(MINISTRY)) == []


def test_ministry_example_optout_address_is_not_the_enquiry_contact() -> None:
    """D5: teishi@ sits under 【配信停止手続】; without the 問合せ先 link nothing is left."""
    text = MINISTRY.replace("http://www.example.com/customer/ を参照", "")
    assert _rules(_check(_part(text))) == {"D5"}


# --- the example mails -------------------------------------------------------


@pytest.mark.parametrize("case", CASES["case"], ids=lambda case: case["file"])
def test_example_mail(case: dict[str, Any]) -> None:
    message = parse((EXAMPLES / case["file"]).read_bytes())
    context = _context(_profile(case["sender"]), Category(case["category"]))
    found = _rules(POLICY.check(message, context))
    assert set(case["rules"]) & DISPLAY_RULES <= found
    assert not found & set(case["not_rules"])
    if case["category"] == "advertising" and set(case["outcome"].values()) == {"pass"}:
        assert found == set()


def test_example_10_names_every_item_in_the_other_charset() -> None:
    """D6: the footer's items are all in the UTF-8 part, the text is ISO-2022-JP."""
    message = parse((EXAMPLES / "10_ad_footer_other_charset.eml").read_bytes())
    (finding,) = POLICY.check(message, _context())
    assert finding.code == "display.charset_mismatch"
    for rule in ("D2", "D3", "D4", "D5"):
        assert f"{rule} in text/plain part #1" in finding.evidence
    assert "D1 in" not in finding.evidence  # 扇屋商店 is also in the ISO-2022-JP text
    assert "(iso-2022-jp, text/plain part #0)" in finding.message
    assert "D2 in text/plain part #1 (utf-8)" in finding.message


# --- every finding -----------------------------------------------------------


def test_finding_shape() -> None:
    """DESIGN.md: rule id, stable code, action, both messages, evidence, all recipients."""
    findings = _check(_part("本日のおすすめ商品です。"))
    assert [(f.rule, f.code) for f in findings] == [
        ("D1", "display.sender_name_missing"),
        ("D2", "display.optout_missing"),
        ("D3", "display.optout_statement_missing"),
        ("D4", "display.postal_address_missing"),
        ("D5", "display.contact_missing"),
    ]
    for finding in findings:
        assert finding.action is Action.BLOCK
        assert finding.recipients is None
        assert finding.message and finding.message_ja and finding.evidence
        assert "text/plain part #0" in finding.message


# --- D1 sender name ----------------------------------------------------------


def test_d1_name_present() -> None:
    assert "D1" not in _rules(_check(_part(BODY + FOOTER)))


def test_d1_name_missing() -> None:
    findings = _check(_part(BODY + FOOTER.replace("扇屋商店", "当店")))
    (d1,) = [f for f in findings if f.rule == "D1"]
    assert "扇屋商店" in d1.evidence


def test_d1_circled_kabu_equals_kabushiki_kaisha() -> None:
    """D1: ㈱ and (株) are the same name as 株式会社 (NFKC)."""
    for shown in ("㈱みなと電子", "(株)みなと電子", "（株）みなと電子", "株式会社 みなと電子"):
        findings = _check(_part(f"{shown}\n本日のおすすめ"), context=_context(MINATO))
        assert "D1" not in _rules(findings), shown


def test_d1_half_width_katakana_and_full_width_latin() -> None:
    profile = SenderProfile(name="k", consignor="k", names=("カナ商事", "Kana Corp."))
    for shown in ("ｶﾅ商事", "Ｋａｎａ　Ｃｏｒｐ．"):
        assert "D1" not in _rules(_check(_part(shown), context=_context(profile))), shown


# --- D2 opt-out URL or address -----------------------------------------------


def test_d2_d3_missing_when_no_optout_target_nor_wording() -> None:
    """Art. 4 asks for both the opt-out target (D2) and the statement (D3): both are absent."""
    footer = "■お問い合わせ：03-1234-5678\n扇屋商店\n〒100-0013 東京都千代田区霞が関9-1-1"
    findings = _check(_part(BODY + footer))
    assert _rules(findings) == {"D2", "D3"}


def test_d2_missing_with_a_statement_but_no_target() -> None:
    """The statement is shown (D3); nothing says where to send the request (D2)."""
    footer = "配信停止をご希望の方はお申し付けください。\n" + ADDRESS_AND_PHONE
    assert _rules(_check(_part(BODY + footer))) == {"D2"}


def test_d2_profile_url_compared_without_query_and_trailing_slash() -> None:
    text = BODY + FOOTER.replace("/mail/stop", "/mail/stop/?u=42")
    assert _rules(_check(_part(text))) == set()


def test_d2_other_url_next_to_optout_wording() -> None:
    """D2: any URL works when the words next to it say it takes opt-out requests."""
    text = BODY + FOOTER.replace("https://www.ogiya.example/mail/stop", "https://esp.example/u/9")
    assert _rules(_check(_part(text))) == set()


def test_d2_profile_optout_address_without_wording() -> None:
    """D2 is met by the profile's opt-out address alone; D3 then asks for the statement."""
    profile = SenderProfile(
        name="o", consignor="o", names=("扇屋商店",), optout_address="teishi@ogiya.example"
    )
    text = "扇屋商店\nteishi@ogiya.example\nTEL 03-1234-5678\n東京都千代田区霞が関9-1-1"
    assert _rules(_check(_part(text), context=_context(profile))) == {"D3"}
    html = _part(
        text.replace("teishi@ogiya.example", "メールで停止"),
        content_type="text/html",
        links=[Link("mailto:Teishi@ogiya.example?subject=stop", "メールで停止")],
    )
    assert _check(html, context=_context(profile)) == []


# --- D3 statement immediately before or after -------------------------------


def test_d3_statement_on_the_line_after_the_url() -> None:
    """D3: 直前又は直後 — the line right after the URL counts."""
    footer = FOOTER.replace(
        "■メール配信の停止をご希望の方は、下記URLよりお手続きください。\n"
        "https://www.ogiya.example/mail/stop",
        "https://www.ogiya.example/mail/stop\n↑配信停止はこちらのページから",
    )
    assert _rules(_check(_part(BODY + footer))) == set()


def test_d3_bare_kochira_is_not_a_statement() -> None:
    """D3: 「詳しくはこちら」 next to the opt-out URL does not say that one may opt out."""
    footer = FOOTER.replace(
        "■メール配信の停止をご希望の方は、下記URLよりお手続きください。", "詳しくはこちら"
    )
    (d3,) = _check(_part(BODY + footer))
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_not_adjacent")
    assert "https://www.ogiya.example/mail/stop" in d3.evidence


def test_d3_words_inside_the_url_are_not_a_statement() -> None:
    """D3: ".../unsubscribe" is the address, not a statement that one may opt out."""
    text = "株式会社みなと電子\nhttps://shop.minato.example/unsubscribe\n06-6123-4567\n大阪府大阪市北区梅田1-2-3"
    assert _rules(_check(_part(text), context=_context(MINATO))) == {"D3"}


def _html_mail(markup: str, charset: str = "utf-8") -> ParsedMessage:
    """A one-part HTML mail, rendered by the gateway as a reader's client would show it."""
    return parse(
        b"From: news@minato.example\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/html; charset={charset}\r\n".encode()
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + markup.replace("\n", "\r\n").encode(charset)
    )


def _check_mail(message: ParsedMessage, profile: SenderProfile = MINATO) -> list[Finding]:
    findings = POLICY.check(message, _context(profile))
    assert all(f.message.isascii() for f in findings)
    return findings


def test_d3_url_shown_as_its_own_anchor_text_is_no_statement() -> None:
    """D3: <a href=…/unsubscribe>https://…/unsubscribe</a> shows the address, and words inside
    a URL say nothing; the only statement is white on white. As in plain text, D3 is missing."""
    markup = (
        '<p><span style="color:#ffffff">配信停止をご希望の方は下記からお手続きください。</span><br>'
        '<a href="https://shop.minato.example/unsubscribe">https://shop.minato.example/unsubscribe'
        "</a><br>株式会社みなと電子　〒530-0001 大阪府大阪市北区梅田1-2-3<br>"
        "お問い合わせ：06-6123-4567</p>"
    )
    [d3] = _check_mail(_html_mail(markup))
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_not_adjacent")
    assert "opt-out wording present only in hidden text" in d3.evidence
    plain = _part(
        "https://shop.minato.example/unsubscribe\n株式会社みなと電子　〒530-0001 大阪府大阪市北区"
        "梅田1-2-3\nお問い合わせ：06-6123-4567",
        charset="utf-8",
    )
    assert _rules(_check(plain, context=_context(MINATO))) == {"D3"}


def test_d5_url_shown_as_its_own_anchor_text_names_no_topic() -> None:
    """D5 by link needs words saying enquiries are taken there; ".../contact/" inside the URL
    that an anchor shows as its text is no such word, in HTML as in plain text."""
    contact = "https://www.minato.example/company/contact/"
    head = "配信停止は下記から\nhttps://shop.minato.example/unsubscribe\n株式会社みなと電子\n"
    head += "〒530-0001 大阪府大阪市北区梅田1-2-3\n"
    html = _part(
        head + contact,
        content_type="text/html",
        charset="utf-8",
        links=[
            Link(
                "https://shop.minato.example/unsubscribe", "https://shop.minato.example/unsubscribe"
            ),
            Link(contact, contact),
        ],
    )
    [d5] = _check(html, context=_context(MINATO))
    assert (d5.rule, d5.code) == ("D5", "display.contact_missing")
    assert _rules(_check(_part(head + contact, charset="utf-8"), context=_context(MINATO))) == {
        "D5"
    }
    labelled = dataclasses.replace(html, links=(html.links[0], Link(contact, "お問い合わせ窓口")))
    assert _check(labelled, context=_context(MINATO)) == []


def test_footer_after_closing_html_is_displayed() -> None:
    """Mail clients parse HTML as HTML5 does and show what follows </html> in the body: a
    complete footer written there displays D1-D5."""
    markup = (
        "<html><body><p>冬のセール開催中です。</p></body></html>\n"
        '<p>配信停止をご希望の方は<a href="https://shop.minato.example/unsubscribe">こちら</a>'
        "からお手続きください。<br>株式会社みなと電子 〒530-0001 大阪府大阪市北区梅田1-2-3 "
        "06-6123-4567</p>\n"
    )
    assert _check_mail(_html_mail(markup)) == []


def test_d3_statement_wrapped_over_two_lines() -> None:
    text = "扇屋商店\n配信停止をご希望の方は\n下記のページからお手続きください。\n"
    text += (
        "https://www.ogiya.example/mail/stop\n03-1234-5678\n〒100-0013 東京都千代田区霞が関9-1-1"
    )
    assert _rules(_check(_part(text))) == set()


def test_d3_statement_that_also_names_enquiries() -> None:
    text = "扇屋商店\n配信停止・お問い合わせは下記のページへ\nhttps://www.ogiya.example/mail/stop\n"
    text += "03-1234-5678\n〒100-0013 東京都千代田区霞が関9-1-1"
    assert _rules(_check(_part(text))) == set()


def test_d3_statement_three_lines_away_is_not_adjacent() -> None:
    text = "扇屋商店\n配信停止をご希望の方は\n下記の一覧のリンクから\nお手続きください。\n"
    text += (
        "https://www.ogiya.example/mail/stop\n03-1234-5678\n〒100-0013 東京都千代田区霞が関9-1-1"
    )
    assert _rules(_check(_part(text))) == {"D3"}


def test_d3_blank_lines_are_skipped_but_a_rule_separates() -> None:
    statement = "配信停止をご希望の方は下記URLから"
    rest = "\n03-1234-5678\n扇屋商店\n〒100-0013 東京都千代田区霞が関9-1-1"
    url = "https://www.ogiya.example/mail/stop"
    assert _rules(_check(_part(f"{statement}\n\n{url}{rest}"))) == set()
    assert _rules(_check(_part(f"{statement}\n――――――\n{url}{rest}"))) == {"D3"}


def test_d5_contact_link_on_the_optout_line_is_not_an_optout_target() -> None:
    """<a>メール配信の停止はこちら</a> ｜ <a href=mailto:…>お問い合わせはこちら</a>: the anchor
    says the second link takes enquiries (D5), whatever else stands on its line."""
    html = _part(
        "株式会社みなと電子\nメール配信の停止はこちら ｜ お問い合わせはこちら\n"
        "〒530-0001 大阪府大阪市北区梅田1-2-3",
        content_type="text/html",
        charset="utf-8",
        links=[
            Link("https://shop.minato.example/unsubscribe", "メール配信の停止はこちら"),
            Link("mailto:support@minato.example", "お問い合わせはこちら"),
        ],
    )
    assert _check(html, context=_context(MINATO)) == []


def test_d3_anchor_text_is_wording_next_to_its_own_url() -> None:
    """D3 in HTML: <a href=…/unsubscribe>配信停止ページ</a> states it at the URL itself."""
    html = _part(
        "株式会社みなと電子\nお手続きは配信停止ページから\n"
        "〒530-0001 大阪府大阪市北区梅田1-2-3\n06-6123-4567",
        content_type="text/html",
        charset="utf-8",
        links=[Link("https://shop.minato.example/unsubscribe?u=1", "配信停止ページ")],
    )
    assert _check(html, context=_context(MINATO)) == []


# --- D4 postal address -------------------------------------------------------


def _without_address(extra: str) -> str:
    return BODY + FOOTER.replace("〒100-0013 東京都千代田区霞が関9-1-1", extra)


def test_d4_missing() -> None:
    assert _rules(_check(_part(_without_address("")))) == {"D4"}


@pytest.mark.parametrize(
    "address",
    [
        "〒１００－００１３　東京都千代田区霞が関９－１－１",  # the profile's, full width
        "所在地：東京都千代田区霞が関9‐1‐1",  # the profile's, no postcode, another hyphen
        "〒060-0001 札幌の本店",  # a postcode
        "神奈川県横浜市中区山下町1番地",  # prefecture and municipality
        "123 Main St, Springfield, IL 62704",  # a Western address
    ],
)
def test_d4_address_forms(address: str) -> None:
    assert _rules(_check(_part(_without_address(address)))) == set()


def test_d4_pointer_phrase_and_url() -> None:
    """D4 on a linked page: the mail says where (表示場所を示す情報), as in case 05."""
    pointer = "■当店の所在地は、こちらのページに掲載しています。\nhttps://www.ogiya.example/about/"
    assert _rules(_check(_part(_without_address(pointer)))) == set()


def test_d4_topic_next_to_info_url() -> None:
    pointer = "会社概要 https://www.ogiya.example/company/"
    assert _rules(_check(_part(_without_address(pointer)))) == set()


def test_d4_bare_url_does_not_say_where() -> None:
    """D4: a URL with no words saying the address is there is not a display."""
    assert _rules(_check(_part(_without_address("https://www.ogiya.example/company/")))) == {"D4"}


# --- D5 phone, e-mail or URL for enquiries -----------------------------------


def _without_phone(extra: str) -> str:
    return BODY + FOOTER.replace("■お問い合わせ：03-1234-5678", extra)


def test_d5_missing() -> None:
    assert _rules(_check(_part(_without_phone("")))) == {"D5"}


@pytest.mark.parametrize(
    "contact",
    [
        "ＴＥＬ：０３－１２３４－５６７８",  # full-width digits and hyphens
        "電話06(6123)4567",
        "フリーダイヤル 0120-000-111",
        "+81-3-9876-5432",
        "090 1234 5678",
        "お問い合わせ：info@ogiya.example",
        "お問い合わせ窓口は次のページをご覧ください https://www.ogiya.example/help/",
    ],
)
def test_d5_contact_forms(contact: str) -> None:
    assert _rules(_check(_part(_without_phone(contact)))) == set()


def test_d5_postcode_and_date_are_not_phone_numbers() -> None:
    assert _rules(_check(_part(_without_phone("2026-12-25 受付 100-0013")))) == {"D5"}


def test_d5_the_optout_address_is_not_the_enquiry_contact() -> None:
    text = "扇屋商店\n配信停止はこちらへ：stop@ogiya.example\n〒100-0013 東京都千代田区霞が関9-1-1"
    assert _rules(_check(_part(text))) == {"D5"}


# --- D6 same charset as the text ----------------------------------------------


def test_d5_send_only_address_is_not_an_enquiry_contact() -> None:
    """D5 is where complaints and enquiries are taken; an address the mail says takes no
    replies (送信専用, no-reply@) takes none, wherever it stands."""
    head = "株式会社みなと電子\n配信停止は下記から\nhttps://shop.minato.example/unsubscribe\n"
    head += "〒530-0001 大阪府大阪市北区梅田1-2-3\n\n"
    for line in (
        "※このメールは送信専用アドレス（info@minato.example）からお送りしています。",
        "差出人：no-reply@minato.example",
    ):
        [d5] = _check(_part(head + line, charset="utf-8"), context=_context(MINATO))
        assert d5.rule == "D5", line
    labelled = "お問い合わせ：support@minato.example（本メールは送信専用です）"
    assert _check(_part(head + labelled, charset="utf-8"), context=_context(MINATO)) == []


def test_d6_footer_in_other_charset() -> None:
    findings = _check(_part(BODY + "扇屋商店"), _part(FOOTER, index=1, charset="utf-8"))
    assert [(f.rule, f.code) for f in findings] == [("D6", "display.charset_mismatch")]


def test_d6_same_charset_under_another_label() -> None:
    """D6 compares codecs: "SJIS" and "shift_jis" are one encoding."""
    findings = _check(_part(BODY, charset="shift_jis"), _part(FOOTER, index=1, charset="SJIS"))
    assert findings == []


# --- parts a reader does or does not see --------------------------------------


def test_attachment_does_not_display() -> None:
    findings = _check(_part(BODY + "扇屋商店"), _part(FOOTER, index=1, attachment=True))
    assert _rules(findings) == {"D2", "D3", "D4", "D5"}


def test_each_alternative_must_comply_on_its_own() -> None:
    """multipart/alternative: the HTML reader never sees the plain footer."""
    plain = _part(BODY + FOOTER, alternative=1)
    html = _part(BODY + "扇屋商店", index=1, content_type="text/html", alternative=1)
    findings = _check(plain, html)
    assert _rules(findings) == {"D2", "D3", "D4", "D5"}
    assert all("text/html part #1" in f.message for f in findings)


def test_alternatives_both_compliant() -> None:
    plain = _part(BODY + FOOTER, alternative=1)
    html = _part(BODY + FOOTER, index=1, content_type="text/html", alternative=1)
    assert _check(plain, html) == []


def test_no_text_at_all() -> None:
    assert _rules(_check()) == {"D1", "D2", "D3", "D4", "D5"}


# --- categories (S1, O3, D7) ------------------------------------------------


def test_incidental_needs_only_the_name() -> None:
    """D7: an ad riding on a bill (O3) shows the sender's name only."""
    incidental = _context(category=Category.INCIDENTAL)
    assert _check(_part("ご請求額：6,380円\n扇屋商店"), context=incidental) == []
    (d1,) = _check(_part("ご請求額：6,380円"), context=incidental)
    assert d1.rule == "D1"
    assert "only the sender's name is required (D7)" in d1.evidence


def test_non_advertising_needs_nothing() -> None:
    context = _context(category=Category.NON_ADVERTISING)
    assert _check(_part("パスワード再設定のご案内"), context=context) == []


# --- options ------------------------------------------------------------------


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValueError, match="lexicn"):
        DisplayPolicy({"lexicn": "x.toml"})


def test_own_lexicon(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text(
        '[optout]\nterms = ["お断り"]\n[pointer]\nterms = ["ご覧"]\n'
        '[address]\nterms = ["所在地"]\n[contact]\nterms = ["窓口"]\n',
        encoding="utf-8",
    )
    policy = DisplayPolicy({"lexicon": str(lexicon)})
    text = BODY + FOOTER.replace(
        "■メール配信の停止をご希望の方は、下記URLよりお手続きください。", "今後のメールお断りは"
    )
    message = ParsedMessage(raw=b"", headers=[], parts=(_part(text),))
    assert policy.check(message, _context()) == []
    assert "D3" in _rules(_check(_part(text)))


# --- D3: what counts as a statement that one may opt out -----------------------

STATEMENT = "■メール配信の停止をご希望の方は、下記URLよりお手続きください。"


@pytest.mark.parametrize(
    "statement",
    [
        "配信解除はこちら",
        "受信停止をご希望の方",
        "購読解除の手続き",
        "メール不要の方は下記へ",
        "今後のご案内が不要な方は下記より",
        "メールマガジンの解除",
        "メールの配信を停止する",  # (配信|送信|メール|案内).{0,10}(停止|解除|中止|不要)
        "ご案内メールの送付を中止するには",
        "メール配信設定の変更・解除はこちら",
        "To unsubscribe, visit",
        "Opt-out:",
        "To stop receiving these emails:",
    ],
)
def test_d3_statements_that_speak_of_stopping_this_mail(statement: str) -> None:
    assert _rules(_check(_part(BODY + FOOTER.replace(STATEMENT, statement)))) == set()


@pytest.mark.parametrize(
    "words",
    [
        "詳しくはこちら",
        "こちら",
        "Click here",
        "サービス停止のお知らせ",  # 停止, but of a service, not of this mail
        "メンテナンスに伴うサービス停止",
        "お手続きは下記URLから",
    ],
)
def test_d3_words_that_do_not_say_one_may_opt_out(words: str) -> None:
    """D3: オプトアウトの通知ができる旨 — the words must say the reader can stop the mail."""
    findings = _check(_part(BODY + FOOTER.replace(STATEMENT, words)))
    assert [f.rule for f in findings] == ["D3"]


@pytest.mark.parametrize(
    "denial",
    [
        "本メールは会員向けのため、配信停止はできません。",
        "このお知らせの配信停止は受け付けておりません。",
        "メール配信の停止はお受けいたしかねます。",
        "You cannot unsubscribe from these member notices.",
    ],
)
def test_d3_negated_statement_that_one_cannot_opt_out(denial: str) -> None:
    """D3 asks for a statement that the reader may opt out (オプトアウトの通知ができる旨); one
    that says they cannot, right above the opt-out URL, is the opposite."""
    [d3] = _check(_part(BODY + FOOTER.replace(STATEMENT, denial)))
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_not_adjacent")
    assert "says the reader cannot opt out" in d3.message
    assert "is negated" in d3.evidence


@pytest.mark.parametrize(
    "statement",
    [
        # The negation is about replying, in another clause or a remark: opt-out is stated.
        "このメールは送信専用のため返信できませんが、配信停止は下記URLから承ります。",
        "配信停止は下記URLからお手続きください。なお、本メールへの返信はできません。",
        "配信停止をご希望の方は下記よりお手続きください（ご返信では承れません）",
        "To unsubscribe, use the link below. You cannot reply to this email.",
    ],
)
def test_d3_negation_of_something_else_leaves_the_statement(statement: str) -> None:
    assert _check(_part(BODY + FOOTER.replace(STATEMENT, statement))) == []


def test_d2_d3_missing_when_the_only_wording_denies_opt_out() -> None:
    """No opt-out target, and only 「配信停止はできません」: neither D2 nor D3 is shown."""
    footer = "本メールは会員向けのため、配信停止はできません。" + ADDRESS_AND_PHONE
    assert _rules(_check(_part(BODY + footer))) == {"D2", "D3"}


def test_optout_negations_option_adds_to_the_lexicon() -> None:
    denial = "配信停止は承りかねます。"  # not a built-in negation
    text = BODY + FOOTER.replace(STATEMENT, denial)
    assert _check(_part(text)) == []
    policy = DisplayPolicy({"optout_negations": ["承りかねます"]})
    assert _rules(_check(_part(text), policy=policy)) == {"D3"}


SALE_ABOVE_STATEMENT = """\
株式会社みなと電子の冬のセールのご案内です。
セール会場：https://shop.minato.example/sale
配信停止をご希望の方は、{where}リンクからどうぞ。
・USB-C ハブ 7ポート
・ワイヤレス充電スタンド
・モバイルバッテリー 10000mAh
・ノイズキャンセリングイヤホン
・スマートウォッチ
・Bluetooth スピーカー
・ケーブル 3本セット
https://shop.minato.example/unsubscribe
〒530-0001 大阪府大阪市北区梅田1-2-3
お問い合わせ：06-6123-4567"""


def test_d3_statement_pointing_to_the_end_does_not_adopt_the_url_above_it() -> None:
    """D3: 「末尾のリンクから」 says where its link is, at the end: the sale URL on the line above
    is not the one it speaks of, and the opt-out URL at the end stands alone, far below."""
    text = SALE_ABOVE_STATEMENT.format(where="末尾の")
    [d3] = _check(_part(text, charset="utf-8"), context=_context(MINATO))
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_not_adjacent")
    assert "nearest opt-out wording is 8 lines above" in d3.message
    assert "https://shop.minato.example/unsubscribe" in d3.evidence


def test_d2_statement_pointing_down_does_not_make_the_url_above_it_a_target() -> None:
    """D2 by adjacency, for a sender with no opt-out URL of its own: 「下記のリンクから」 under a
    sale URL does not say the sale URL takes opt-out requests; nothing else does (D2)."""
    profile = dataclasses.replace(MINATO, optout_url=None)
    text = "株式会社みなと電子\nセール会場：https://shop.minato.example/sale\n"
    text += "配信停止をご希望の方は、下記のリンクからどうぞ。\n"
    text += "〒530-0001 大阪府大阪市北区梅田1-2-3\nお問い合わせ：06-6123-4567"
    assert _rules(_check(_part(text, charset="utf-8"), context=_context(profile))) == {"D2"}
    above = text.replace("下記のリンク", "上記のリンク")  # now it does point at the sale URL
    assert _check(_part(above, charset="utf-8"), context=_context(profile)) == []


def test_d3_finding_says_the_statement_points_elsewhere() -> None:
    """The opt-out URL right above 「配信停止は下記のリンクから」, and no link below it: the
    statement speaks of a link further down, not of the URL above it."""
    text = "株式会社みなと電子\nhttps://shop.minato.example/unsubscribe\n"
    text += (
        "配信停止をご希望の方は、下記のリンクからどうぞ。\n\n〒530-0001 大阪府大阪市北区梅田1-2-3\n"
    )
    text += "06-6123-4567"
    [d3] = _check(_part(text, charset="utf-8"), context=_context(MINATO))
    assert d3.code == "display.optout_statement_not_adjacent"
    assert "says its link is elsewhere" in d3.message
    assert "line 3: '配信停止をご希望の方は、下記のリンクからどうぞ。'" in d3.evidence


@pytest.mark.parametrize(
    "line",
    [
        "配信停止は下記のページから：https://shop.minato.example/unsubscribe",
        "https://shop.minato.example/unsubscribe ←配信停止は上記URLから",
        "https://shop.minato.example/unsubscribe （配信停止はこちら）",
    ],
)
def test_d3_statement_on_the_url_line_pointing_at_it(line: str) -> None:
    text = f"株式会社みなと電子\n{line}\n〒530-0001 大阪府大阪市北区梅田1-2-3\n06-6123-4567"
    assert _check(_part(text, charset="utf-8"), context=_context(MINATO)) == []


def test_d3_statement_next_to_a_decoy_url_when_the_profile_url_stands_alone() -> None:
    """D3 is judged at the D2 target the profile names when the mail shows it: wording that
    points nowhere in particular, next to a sale URL, makes the sale URL no second opt-out
    target, and the sender's opt-out URL at the end has no statement next to it."""
    text = SALE_ABOVE_STATEMENT.format(where="")
    [d3] = _check(_part(text, charset="utf-8"), context=_context(MINATO))
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_not_adjacent")
    assert "stands next to https://shop.minato.example/sale, which is not" in d3.evidence
    # Without the profile's URL in the mail, the URL next to the statement is its target (D2).
    alone = text.replace("https://shop.minato.example/unsubscribe\n", "")
    assert _check(_part(alone, charset="utf-8"), context=_context(MINATO)) == []


def test_d3_decoy_rule_is_per_view() -> None:
    """The text alternative shows the profile's URL with its statement; the HTML one only an
    ESP's tracking link whose anchor says 配信停止: each view complies on its own."""
    footer = "\n株式会社みなと電子\n〒530-0001 大阪府大阪市北区梅田1-2-3\n06-6123-4567"
    plain = _part(
        "配信停止は下記から\nhttps://shop.minato.example/unsubscribe" + footer,
        charset="utf-8",
        alternative=1,
    )
    html = _part(
        "配信停止はこちら" + footer,
        index=1,
        content_type="text/html",
        charset="utf-8",
        alternative=1,
        links=[Link("https://click.esp.example/u/8f2c01", "配信停止はこちら")],
    )
    assert _check(plain, html, context=_context(MINATO)) == []


def test_d3_statement_two_paragraphs_away_is_not_adjacent() -> None:
    """D3 window: the same block or the adjacent one, not one paragraph further."""
    url = "https://www.ogiya.example/mail/stop"
    rest = "\n03-1234-5678\n扇屋商店\n〒100-0013 東京都千代田区霞が関9-1-1"
    near = f"配信停止は下記から\n\n{url}{rest}"
    far = f"配信停止は下記から\n\n今月のおすすめです。\n\n{url}{rest}"
    assert _rules(_check(_part(near))) == set()
    (d3,) = _check(_part(far))
    assert "paragraph break" in d3.message


def test_d3_finding_names_the_far_line_and_its_distance() -> None:
    """Example 03: the wording is the last line (19), 9 non-empty lines under the URL (line 7)."""
    message = parse((EXAMPLES / "03_ad_optout_statement_far.eml").read_bytes())
    (d3,) = POLICY.check(message, _context())
    assert d3.rule == "D3"
    assert "text/plain part #0" in d3.message
    assert "9 lines below" in d3.message
    assert "line 19: '※今後のご案内が不要な場合は" in d3.evidence
    assert "9 non-empty line(s) below text/plain part #0 line 7" in d3.evidence


def test_d3_finding_says_another_items_label_separates() -> None:
    """The enquiry line between wording and URL ends the window: the URL is not its subject."""
    text = (
        f"扇屋商店\n{STATEMENT}\nお問い合わせ：03-1234-5678\nhttps://www.ogiya.example/mail/stop\n"
    )
    (d3,) = _check(_part(text + "〒100-0013 東京都千代田区霞が関9-1-1"))
    assert "2 lines above, past another item's label at line 3" in d3.message
    assert "最も近い文言は2行上、3行目の別の表示事項の見出しを挟んでいます" in d3.message_ja


def test_d3_finding_says_a_rule_separates() -> None:
    text = f"扇屋商店\n{STATEMENT}\n――――\nhttps://www.ogiya.example/mail/stop\n03-1234-5678\n"
    (d3,) = _check(_part(text + "〒100-0013 東京都千代田区霞が関9-1-1"))
    assert "2 lines above, past a rule at line 3" in d3.message


# --- D2/D3 by mail and by reply ------------------------------------------------

ADDRESS_AND_PHONE = "\n扇屋商店\n03-1234-5678\n〒100-0013 東京都千代田区霞が関9-1-1"


@pytest.mark.parametrize(
    "statement",
    [
        "配信停止をご希望の方は stop@ogiya.example までメールを送信してください。",
        "stop@ogiya.example 宛に空メールをお送りいただくと、配信を停止します。",
    ],
)
def test_d2_optout_by_mail_to_an_address(statement: str) -> None:
    """LAW.md O2/D2: the request may come by e-mail to the displayed address."""
    assert _check(_part(BODY + statement + ADDRESS_AND_PHONE)) == []


@pytest.mark.parametrize(
    "statement",
    [
        "本メールへのご返信で配信停止を承ります。",
        "配信停止をご希望の方は、このメールに「停止」とご返信ください。",
        "Reply to this email with STOP to unsubscribe.",
        "このお知らせが不要な方は、このメールに返信してお知らせください。\n"
        "次回から配信を止めさせていただきます。",
    ],
)
def test_d2_d3_optout_by_reply_anywhere(statement: str) -> None:
    """LAW.md D3: opt-out by reply to the sending address — D2 is the From address and the
    statement may stand anywhere (here at the top, far from every other item)."""
    text = statement + "\n\n" + BODY + "\n\n\n" + ADDRESS_AND_PHONE
    assert _check(_part(text)) == []


def test_reply_opt_out_needs_a_from_address() -> None:
    text = "本メールへのご返信で配信停止を承ります。" + ADDRESS_AND_PHONE
    assert _rules(_check(_part(text), sender="")) == {"D2"}


def test_replies_not_read_is_not_reply_opt_out() -> None:
    """No opt-out by reply (D2), and 「配信停止はできません」 says one cannot opt out, so no D3
    statement (オプトアウトの通知ができる旨) is shown either."""
    text = "このメールは送信専用です。返信いただいても配信停止はできません。" + ADDRESS_AND_PHONE
    assert _rules(_check(_part(text))) == {"D2", "D3"}


# --- D4/D5 on a linked page ------------------------------------------------------


def test_d4_d5_pointer_phrase_to_one_page() -> None:
    """D4/D5: 「所在地・お問い合わせ先は … をご覧ください」 says where both are."""
    footer = FOOTER.replace("■お問い合わせ：03-1234-5678\n", "").replace(
        "〒100-0013 東京都千代田区霞が関9-1-1",
        "所在地・お問い合わせ先は https://www.ogiya.example/about/ をご覧ください",
    )
    assert _rules(_check(_part(BODY + footer))) == set()


def test_d4_label_on_the_url_line() -> None:
    """ "Company information: URL" says what is on the page."""
    pointer = "Company information: https://www.ogiya.example/about/"
    assert _rules(_check(_part(_without_address(pointer)))) == set()


def test_d4_heading_right_above_the_url() -> None:
    pointer = "■会社概要\nhttps://www.ogiya.example/about/"
    assert _rules(_check(_part(_without_address(pointer)))) == set()


def test_d4_anchor_text_labels_the_link() -> None:
    """<a href="…/about/">会社概要</a>: the rendered text shows only the anchor."""
    html = _part(
        _without_address("会社概要"),
        content_type="text/html",
        links=[Link("https://www.ogiya.example/about/", "会社概要")],
    )
    assert _rules(_check(html)) == set()


def test_d4_info_url_without_words_is_not_a_pointer() -> None:
    """The profile's info_url, shown with words that do not name the address, is a bare URL."""
    pointer = "詳しくはこちら https://www.ogiya.example/company/"
    assert _rules(_check(_part(_without_address(pointer)))) == {"D4"}


def test_d5_bare_url_is_not_an_enquiry_contact() -> None:
    assert _rules(_check(_part(_without_phone("https://www.ogiya.example/help/")))) == {"D5"}


# --- recognising names, addresses and numbers --------------------------------------


@pytest.mark.parametrize(
    "shown",
    [
        "Minato Denshi Co.,Ltd",
        "MINATO DENSHI CO., LTD.",
        "Minato Denshi Company Limited",
        "Ｍｉｎａｔｏ　Ｄｅｎｓｈｉ　Ｃｏ．，Ｌｔｄ．",
        "株式会社　みなと電子",
        "㈱ みなと電子",
    ],
)
def test_d1_corporate_suffix_variants(shown: str) -> None:
    assert "D1" not in _rules(_check(_part(shown), context=_context(MINATO))), shown


@pytest.mark.parametrize(
    "shown", ["(有)さくら商会", "㈲さくら商会", "Sakura Shokai, Inc.", "Sakura Shokai Incorporated"]
)
def test_d1_yugen_and_inc(shown: str) -> None:
    profile = SenderProfile(
        name="s", consignor="s", names=("有限会社さくら商会", "Sakura Shokai Inc.")
    )
    assert "D1" not in _rules(_check(_part(shown), context=_context(profile))), shown


def test_d1_another_company_is_not_the_sender() -> None:
    assert "D1" in _rules(_check(_part("みなと電気株式会社"), context=_context(MINATO)))


@pytest.mark.parametrize(
    "address",
    [
        "千代田区霞が関九丁目一番一号",  # kanji numerals, 丁目・番・号
        "千代田区 霞が関 ９丁目１番１号",
        "千代田区霞が関9ー1ー1",  # long-vowel mark typed for a hyphen
        "千代田区霞が関9−1−1",  # minus sign
        "千代田区霞ヶ関九丁目一番一号",  # 霞ヶ関 and 霞が関 are one place name
        "千代田区霞ケ関9-1-1",
    ],
)
def test_d4_profile_address_in_other_spellings(address: str) -> None:
    """D4: the profile's address; no 〒, prefecture or 所在地 label, so only the profile says so."""
    assert _rules(_check(_part(_without_address(address)))) == set()


def test_d4_profile_address_written_with_kanji_numerals() -> None:
    profile = dataclasses.replace(MINATO, postal_addresses=("大阪府大阪市北区梅田一丁目二番三号",))
    text = "株式会社みなと電子\n配信停止：https://shop.minato.example/unsubscribe\n06-6123-4567\n"
    assert _check(_part(text + "大阪市北区梅田1-2-3"), context=_context(profile)) == []


def test_d4_another_block_number_is_not_the_address() -> None:
    assert _rules(_check(_part(_without_address("千代田区霞が関9-1-10")))) == {"D4"}


@pytest.mark.parametrize("address", ["霞が関9-1-1", "所在地：霞が関九丁目一番一号"])
def test_d4_an_address_without_its_municipality_is_not_an_address(address: str) -> None:
    """D4 asks for the sender's 住所: a street and number with no city or ward is not one."""
    assert _rules(_check(_part(_without_address(address)))) == {"D4"}


@pytest.mark.parametrize(
    "contact",
    [
        "ナビダイヤル 0570-012-345",
        "0800-123-4567",
        "IP電話 050-1234-5678",
        "+81 3 1234 5678",
        "+81 (0)3-1234-5678",
        "TEL 03.1234.5678",
        "(03)1234-5678",
        "０１２０－９８７－６５４",
        "03ー9876ー5432",
    ],
)
def test_d5_phone_formats(contact: str) -> None:
    assert _rules(_check(_part(_without_phone(contact)))) == set()


@pytest.mark.parametrize("text", ["注文番号 12345678901", "発売日 2026.12.25", "価格 1,234,567円"])
def test_d5_other_numbers_are_not_phone_numbers(text: str) -> None:
    assert _rules(_check(_part(_without_phone(text)))) == {"D5"}


# --- hidden text ------------------------------------------------------------------


def test_d2_optout_only_in_hidden_text() -> None:
    """Art. 4: 正しく表示される — a display:none opt-out link is not shown."""
    url = "https://www.ogiya.example/mail/stop"
    footer = FOOTER.replace(f"{STATEMENT}\n{url}\n", "")
    html = _part(
        BODY + footer,
        content_type="text/html",
        hidden=[HiddenText(f"配信停止はこちら {url}", "display:none", (url,))],
    )
    d2, d3 = _check(html)
    assert (d2.rule, d2.code) == ("D2", "display.optout_missing")
    assert "text/html part #0" in d2.message
    assert "opt-out URL or address present only in hidden text (display:none)" in d2.message
    assert "hidden text (display:none)" in d2.evidence and url in d2.evidence
    assert (d3.rule, d3.code) == ("D3", "display.optout_statement_missing")
    assert "opt-out statement present only in hidden text (display:none)" in d3.message


def test_d4_address_only_in_hidden_text() -> None:
    hidden = HiddenText("〒100-0013 東京都千代田区霞が関9-1-1", "font-size:1px")
    (d4,) = _check(_part(_without_address(""), content_type="text/html", hidden=[hidden]))
    assert d4.rule == "D4"
    assert "postal address present only in hidden text (font-size:1px)" in d4.message


def test_d3_statement_only_in_hidden_text() -> None:
    hidden = HiddenText(STATEMENT, "colour #ffffff on background #ffffff")
    html = _part(BODY + FOOTER.replace(STATEMENT, ""), content_type="text/html", hidden=[hidden])
    (d3,) = _check(html)
    assert d3.rule == "D3"
    assert "opt-out wording present only in hidden text" in d3.evidence


# --- extending the lexicon from the config ---------------------------------------


def test_optout_terms_option_adds_to_the_lexicon() -> None:
    text = BODY + FOOTER.replace(STATEMENT, "今後のメールお断りは")
    assert _rules(_check(_part(text))) == {"D3"}
    policy = DisplayPolicy({"optout_terms": ["お断り"]})
    assert _check(_part(text), policy=policy) == []


def test_pointer_terms_option_adds_to_the_lexicon() -> None:
    pointer = "所在地など当店の情報を\nまとめました\nhttps://www.ogiya.example/about/"
    text = _without_address("") + "\n\n" + pointer
    assert _rules(_check(_part(text))) == {"D4"}
    assert _check(_part(text), policy=DisplayPolicy({"pointer_terms": ["まとめ"]})) == []


def test_contact_terms_option_adds_to_the_lexicon() -> None:
    text = _without_phone("ヘルプデスク https://www.ogiya.example/help/")
    assert _rules(_check(_part(text))) == {"D5"}
    assert _check(_part(text), policy=DisplayPolicy({"contact_terms": ["ヘルプデスク"]})) == []


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"optout_term": ["x"]}, r"unknown option\(s\) optout_term \(known: .*optout_terms"),
        ({"optout_terms": "配信停止"}, "optout_terms: must be a list of non-empty strings"),
        ({"optout_patterns": ["(停止"]}, r"bad pattern '\(停止'"),
        ({"lexicon": 3}, "lexicon: must be the path of a TOML file"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        DisplayPolicy(options)


def test_lexicon_with_an_unknown_list_is_rejected(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('[optout]\nwords = ["停止"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown list \[optout\] words"):
        DisplayPolicy({"lexicon": str(lexicon)})
