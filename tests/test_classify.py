"""Classification: the client's header, then the profile, then content cues (LAW.md S1, O3)."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from gateway.api import Category, ParsedMessage, SenderProfile, TextPart
from gateway.classify import CATEGORY_HEADER, classify
from gateway.message import parse
from tests.conftest import SHARED

EXAMPLES = SHARED / "examples"
CASES: list[dict[str, Any]] = tomllib.loads((EXAMPLES / "cases.toml").read_text("utf-8"))["case"]

NO_DEFAULT = SenderProfile(name="ogiya", consignor="ogiya")
BILLS_ONLY = SenderProfile(
    name="hikari-billing", consignor="hikari", default_category=Category.NON_ADVERTISING
)
AD_TEXT = "年末セール開催中！全品 20%OFF"
BILL_TEXT = "ご請求額：6,380円　お支払期日：2026年12月25日"


def mail(body: str, subject: str = "", headers: tuple[tuple[str, str], ...] = ()) -> ParsedMessage:
    """A parsed mail as the parser hands it over: one plain text part."""
    part = TextPart(
        index=0,
        content_type="text/plain",
        charset="utf-8",
        declared_charset="utf-8",
        transfer_encoding="8bit",
        text=body,
        source=body,
    )
    return ParsedMessage(raw=b"", headers=[("Subject", subject), *headers], parts=(part,))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["file"])
def test_examples_get_the_category_of_cases_toml(case: dict[str, Any]) -> None:
    message = parse((EXAMPLES / case["file"]).read_bytes())
    result = classify(message, NO_DEFAULT)
    assert (result.category, result.decided_by) == (Category(case["category"]), "content")


def test_header_wins_over_profile_and_content() -> None:
    message = mail(AD_TEXT, headers=((CATEGORY_HEADER, "incidental"),))
    result = classify(message, BILLS_ONLY)
    assert (result.category, result.decided_by) == (Category.INCIDENTAL, "header")
    assert "incidental" in result.reason


def test_header_value_is_case_insensitive() -> None:
    message = mail(BILL_TEXT, headers=((CATEGORY_HEADER.lower(), " Advertising "),))
    result = classify(message, BILLS_ONLY)
    assert (result.category, result.decided_by) == (Category.ADVERTISING, "header")


def test_profile_wins_over_content() -> None:
    result = classify(mail(AD_TEXT), BILLS_ONLY)
    assert (result.category, result.decided_by) == (Category.NON_ADVERTISING, "profile")
    assert "hikari-billing" in result.reason


def test_invalid_header_is_ignored_with_a_reason() -> None:
    message = mail(BILL_TEXT, headers=((CATEGORY_HEADER, "transactional"),))
    by_profile = classify(message, BILLS_ONLY)
    by_content = classify(message, NO_DEFAULT)
    assert (by_profile.category, by_profile.decided_by) == (Category.NON_ADVERTISING, "profile")
    assert (by_content.category, by_content.decided_by) == (Category.NON_ADVERTISING, "content")
    for result in (by_profile, by_content):
        assert "invalid" in result.reason
        assert "transactional" in result.reason


def test_conflicting_headers_are_ignored() -> None:
    headers = ((CATEGORY_HEADER, "non_advertising"), (CATEGORY_HEADER, "advertising"))
    result = classify(mail(AD_TEXT, headers=headers), NO_DEFAULT)
    assert (result.category, result.decided_by) == (Category.ADVERTISING, "content")
    assert "conflicting" in result.reason


def test_transactional_cues_alone_make_non_advertising() -> None:
    result = classify(mail(BILL_TEXT, subject="2026年11月分 ご利用料金のお知らせ"), NO_DEFAULT)
    assert result.category is Category.NON_ADVERTISING
    assert "ご請求" in result.reason


def test_an_ad_riding_on_a_bill_is_incidental() -> None:
    result = classify(mail(BILL_TEXT + "\n新規ご契約でクーポン進呈"), NO_DEFAULT)
    assert result.category is Category.INCIDENTAL
    assert "クーポン" in result.reason


def test_a_mail_with_no_cue_is_advertising() -> None:
    """S1: a commercial sender's mail with no other purpose shown gets the stricter duties."""
    result = classify(mail("いつもありがとうございます。"), NO_DEFAULT)
    assert result.category is Category.ADVERTISING


def test_a_weak_cue_does_not_add_an_ad_to_a_transactional_mail() -> None:
    """「パスワード再設定のご案内」 is a notice, not an advert."""
    result = classify(mail("再設定してください。", subject="パスワード再設定のご案内"), NO_DEFAULT)
    assert result.category is Category.NON_ADVERTISING


def test_english_cues() -> None:
    assert classify(mail("Invoice for December"), NO_DEFAULT).category is Category.NON_ADVERTISING
    assert classify(mail("Invoice. Shop now!"), NO_DEFAULT).category is Category.INCIDENTAL


def test_latin_cues_match_whole_words_only() -> None:
    result = classify(mail("Your invoice from our wholesale department"), NO_DEFAULT)
    assert result.category is Category.NON_ADVERTISING


def test_cues_match_after_nfkc() -> None:
    """Half-width kana and full-width letters are the same words to a reader."""
    text = BILL_TEXT + "\nｾｰﾙ会場 ２０％ＯＦＦ"
    result = classify(mail(text), NO_DEFAULT)
    assert result.category is Category.INCIDENTAL
    assert "セール" in result.reason
    assert "%OFF" in result.reason


def test_cues_found_in_one_pass_are_those_each_cue_finds_alone() -> None:
    # The one-pass search must report exactly what testing every cue on its own reports,
    # also where cues overlap ("お支払期日" inside "お支払期日のご案内", "sale" in "sales").
    from gateway import classify as c

    texts = [
        c._fold(parse(path.read_bytes()).text)
        for path in [*EXAMPLES.glob("*.eml"), *(SHARED / "corpora" / "mail").rglob("*.eml")]
    ]
    texts += [
        "お支払期日のご案内とセールのお知らせ",
        "sale sales wholesale % off",
        "ご請求額のご案内",
    ]
    lexicon = c._LEXICON
    for text in texts:
        for cues in (lexicon.transactional, lexicon.promotional, lexicon.weak_promotional):
            assert c._found(cues, text) == [cue.word for cue in cues if cue.found_in(text)]
