"""The display policy's whole-text searches answer exactly as line-by-line ones would.

The policy searches a part's text once per item instead of once per line, and
writes some patterns with their first character ahead of a look-behind so that
the regex engine can skip ahead. The reference here is the plain form of each
pattern, as one would write it from its description, run line by line over
every text line of the example mails, the corpora and our labelled sets.
"""

from __future__ import annotations

import re
import sys
from functools import cache

import pytest

from gateway.message import parse
from policies import display
from tests.conftest import SHARED

SOURCES = [
    *sorted((SHARED / "examples").glob("*.eml")),
    *sorted((SHARED / "corpora" / "mail").rglob("*.eml")),
    *sorted((SHARED / "corpora" / "spam").rglob("*.eml")),
    *sorted((display.Path(__file__).parent.parent / "data").rglob("*.eml")),
]


@cache
def nfkc_lines() -> tuple[tuple[str, ...], ...]:
    """Every part's lines in NFKC (what the Western address is matched on), and some of ours
    with the numbers the patterns are for."""
    texts = [
        ("お電話：０３ー１２３４ー５６７８（平日）", "TEL (03) 1234-5678 / +81 3-1234-5678"),
        ("1-2-3 Marunouchi, Chiyoda-ku, Tokyo 100-0005", "12 Baker Street, London NW1 6XE"),
    ]
    for path in SOURCES:
        for part in parse(path.read_bytes()).parts:
            texts.append(tuple(part.normalized.splitlines()))
    return tuple(t for t in texts if t)


@cache
def lines() -> tuple[tuple[str, ...], ...]:
    """Every part's folded lines, as the policy folds them."""
    return tuple(tuple(display._fold(line, normalized=True) for line in t) for t in nfkc_lines())


def test_inline_space_is_every_white_space_character_that_does_not_end_a_line() -> None:
    expected = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if chr(c).isspace() and len(f"a{chr(c)}b".splitlines()) == 1
    }
    assert set(re.findall(f"[{display.INLINE_SPACE}]", "".join(expected))) == expected
    assert re.fullmatch(f"[{display.INLINE_SPACE}]+", "".join(sorted(expected)))


PLAIN = {
    "phone": (
        display._PHONE,
        re.compile(
            r"(?<![\d+.-])(?:\+81[\s.()-]{0,3}(?:0[\s.()-]{0,2})?|\(?0)"
            r"\d{1,4}[\s.()-]{0,2}\d{1,4}[\s.()-]{0,2}\d{3,4}(?![\d-])"
        ),
        lines,
    ),
    "western address": (
        display._WESTERN_ADDRESS,
        re.compile(
            r"\b\d+[\w-]{0,10},?\s+[A-Za-z][\w .,'-]{0,80}?"
            r"(?:\b\d{3}-\d{4}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b)"
        ),
        nfkc_lines,
    ),
}


@pytest.mark.parametrize("name", list(PLAIN))
def test_patterns_written_for_speed_match_their_plain_form(name: str) -> None:
    fast, plain, source = PLAIN[name]
    checked = found = 0
    for text in source():
        for line in text:
            want = [m.span() for m in plain.finditer(line)]
            assert [m.span() for m in fast.finditer(line)] == want, (name, line)
            checked += 1
            found += bool(want)
    assert checked > 3000 and found > 5  # many lines, and some that match


def test_long_vowel_between_digits_is_a_hyphen_as_the_plain_look_behind_says() -> None:
    plain = re.compile(r"(?<=\d)\u30fc(?=\d)")
    checked = 0
    for text in nfkc_lines():
        for line in text:
            assert display._LONG_VOWEL_HYPHEN.sub("-", line) == plain.sub("-", line), line
            checked += "ー" in line
    assert checked > 10
    assert display._fold("０３ー１２３４ーー５ ラーメン") == "03-1234ーー5 ラーメン"


def test_lexicon_terms_with_latin_edges_match_whole_words_only() -> None:
    policy = display.DisplayPolicy({})
    optout = policy._wording.optout
    assert optout.search("please unsubscribe here")
    assert optout.search("unsubscribe")
    assert optout.search("(unsubscribe)")
    assert not optout.search("xunsubscribe")
    assert not optout.search("unsubscribed")
    assert not optout.search("9unsubscribe")
    assert optout.search("opt-out") and optout.search("opt out") and not optout.search("adopt out")


@pytest.mark.parametrize(
    "pattern",
    [display._PHONE, *display._JP_ADDRESSES, display._POSTCODE, re.compile(r"\d+\s+\d+")],
)
def test_first_line_of_a_whole_text_search_is_the_first_line_that_matches_alone(
    pattern: re.Pattern[str],
) -> None:
    # \s in these patterns spans a line break in the joined text; the answer must not.
    for text in [*lines(), ("03", "1234 5678", "x"), ("1", "2", "3 4")]:
        joined = display._Lines("\n".join(text))
        expected = next((i for i, line in enumerate(text) if pattern.search(line)), None)
        assert joined.first(pattern) == expected


def test_every_western_address_line_has_the_postal_code_it_is_looked_for_by() -> None:
    # _Lines.first(code, then=_WESTERN_ADDRESS) tries only lines with one of the codes.
    found = 0
    for text in nfkc_lines():
        for line in text:
            if display._WESTERN_ADDRESS.search(line):
                found += 1
                assert any(code.search(line) for code in display._WESTERN_CODES), line
    assert found > 5
