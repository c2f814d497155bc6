"""The display items every advertising mail must show (LAW.md D1–D7, Art. 4).

A finding names the rule, the part it looked in, what it looked for and what
it found instead; the decision module, not this policy, decides what a
finding does to the mail.

The mail is read as a reader sees it: the visible text of its non-attachment
parts (hidden HTML is not in ``TextPart.text`` and ``.links``; it is read only
to say, in a finding, that an item is there but hidden), one line at a time,
NFKC-folded. Under multipart/alternative a reader sees one alternative, so
each one must carry every item on its own.
"""

from __future__ import annotations

import bisect
import codecs
import dataclasses
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.api import (
    Action,
    Category,
    Finding,
    Link,
    ParsedMessage,
    PolicyContext,
    SenderProfile,
    TextPart,
    nfkc,
)

ADJACENT_LINES = 2
"""The D3 window. 直前又は直後 ("immediately before or after" the opt-out URL or
address) is read on the rendered text as: the statement is in the link's anchor
text, on the URL's own line, or on one of the 2 nearest non-empty lines above
or below it, in the same block (lines between blank lines) or the adjacent
block. So a statement wrapped over two lines, or a heading over a URL and an
address (the ministry's example display), counts; a statement two paragraphs
or three lines away does not. The walk also stops at a rule (a line of only
marks, such as ――― or ----), which separates the footer from the text, and
at a line that labels another item (お問い合わせ：…), so that the enquiry
address under the opt-out URL is not taken for an opt-out target.

Two more rules say which URL a statement is next to. A statement that says
where its link is (下記, 以下, 末尾, "below"; 上記, "above": the lexicon's
[direction] lists) speaks of a URL on that side only: 「配信停止は末尾のリンク
から」 under a sale URL does not make the sale URL an opt-out target. And when
the view shows the sender profile's own optout_url or optout_address, that is
the D2 target the law speaks of: the statement must stand next to it, and
another URL next to opt-out wording is no second opt-out target (a decoy)."""

LEXICON_LISTS = (
    "optout_terms",
    "optout_patterns",
    "optout_negations",
    "direction_below",
    "direction_above",
    "reply_terms",
    "reply_negations",
    "pointer_terms",
    "address_terms",
    "contact_terms",
)
"""The word lists of optout_lexicon.toml: option ``TABLE_KEY`` is ``[TABLE] KEY``."""

# Searched on folded (lower-case) text only, so with no case flag: sre then skips ahead to
# the literal "h" or "w" (a case-insensitive pattern is tried at every character).
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}、。「」『』【】]+")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_TRAILING = ".,;:!?>"
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uff0d]")
# ー between digits is a hyphen typed in kana mode (０３ー１２３４); elsewhere it is a vowel.
# The mark first, its digit before it tested by a look-behind over both: sre skips to ー.
_LONG_VOWEL_HYPHEN = re.compile(r"\u30fc(?<=\d\u30fc)(?=\d)")
# Japanese numbers, national (0 + area code) or +81 with an optional (0); brackets,
# hyphens, dots or spaces between the groups; 10 or 11 digits once national.
# Not after a digit, +, . or -: tested once its first mark is read ((?<!X.)), so that the
# search skips ahead to a "+", "(" or "0" (a leading look-behind is tried everywhere).
_PHONE = re.compile(
    r"(?:\+(?<![\d+.-].)81[\s.()-]{0,3}(?:0[\s.()-]{0,2})?|\((?<![\d+.-].)0|0(?<![\d+.-].))"
    r"\d{1,4}[\s.()-]{0,2}\d{1,4}[\s.()-]{0,2}\d{3,4}(?![\d-])"
)
_POSTCODE = re.compile(r"〒\s*\d{3}-?\d{4}")
_LEADING_POSTCODE = re.compile(r"^\d{3}-?\d{4}")
_PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|"
    "東京都|神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|"
    "滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|"
    "香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_LEADING_PREFECTURE = re.compile("^(?:" + _PREFECTURES + ")")
# A prefecture, then a city, ward, town, village or district, then a block number;
# or a 所在地/住所 label before the municipality, as in the ministry's example display
# (所在地：〒100-000 千代田区霞が関9-1-1).
# Two searches: each begins with words, so that sre skips ahead to them (one alternation
# of both is ten times slower).
_JP_ADDRESSES = (
    re.compile(
        "(?:"
        + _PREFECTURES
        + r")[^\s、。:]{1,12}?[市区町村郡][^\s、。:]{0,20}?[\d一二三四五六七八九十]"
    ),
    re.compile(
        r"(?:所在地|住所)\s*:[^\n]{0,20}?[市区町村郡][^\s、。:]{0,20}?[\d一二三四五六七八九十]"
    ),
)
# A Western street address: a house number, then a postal code (JP, US ZIP, UK).
# Bounded repeats keep a long rendered HTML line linear.
# Its postal code alone, which every Western address ends with: where to look for one.
# Two searches, each from a character sre can skip to: the "-" of a Japanese code
# (nnn-nnnn, its digits then tested behind it) and the capital of a US or UK one.
_WESTERN_CODES = (
    re.compile(r"-(?<=\d\d\d-)(?<!\w\d\d\d-)\d{4}\b"),
    re.compile(r"[A-Z](?<!\w.)(?:[A-Z]\s+\d{5}(?:-\d{4})?\b|[A-Z]?\d[A-Z\d]?\s+\d[A-Z]{2}\b)"),
)
_WESTERN_ADDRESS = re.compile(  # \d(?<!\w.) is \b\d, with the digit first (see _PHONE)
    r"\d(?<!\w.)\d*[\w-]{0,10},?\s+[A-Za-z][\w .,'-]{0,80}?"
    r"(?:\b\d{3}-\d{4}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b)"
)
_KANJI_DIGITS = {ch: n for n, ch in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile("[〇一二三四五六七八九十百千]+")
# 9丁目1番1号, 1番地の2 → 9-1-1, 1-2 (after kanji numerals became digits).
_BLOCK_JOINT = re.compile(r"(\d)(?:(?:丁目|番地|番|号)の?|の)(?=\d)")
_BLOCK_END = re.compile(r"(\d)(?:丁目|番地|番|号)")
# White space within a line: every str.isspace() character that does not end a line
# (tests/policies/test_display.py checks the list against Python's own tables).
INLINE_SPACE = "\t\x1f \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
_ADDRESS_MARKS = re.compile(f"[{INLINE_SPACE},、〒]+")  # a line break stays: keys of many lines
_CORPORATE = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社"}
_LATIN_SUFFIXES = {"company": "co", "limited": "ltd", "incorporated": "inc", "corporation": "corp"}
_LATIN_SUFFIX = re.compile(r"\b(?:" + "|".join(_LATIN_SUFFIXES) + r")\b")
_NAME_MARKS = re.compile(f"[{INLINE_SPACE}.,・']+")
# Where a sentence of folded words ends, and where a "but" splits it into two clauses
# (「返信できませんが、配信停止は…」): a negation reaches to the end of its clause, a
# pointing word (下記, above) speaks for its whole sentence.
_SENTENCE_END = re.compile(r"[。!?;]|\.(?=\s|$)")
_CLAUSE_BREAK = re.compile(r"(?:が|けれども?|けど)[、,]|\b(?:but|however)\b", re.IGNORECASE)
# A remark in brackets is a clause of its own, and the text around it one clause.
_REMARK = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class _Wording:
    """The lexicon, compiled: what to look for in a line (see optout_lexicon.toml)."""

    optout: re.Pattern[str]
    negations: re.Pattern[str]  # what takes opt-out wording back (配信停止はできません)
    below: re.Pattern[str]  # a statement saying its link is further down (下記, 末尾)
    above: re.Pattern[str]  # ... or further up (上記)
    reply: re.Pattern[str]
    reply_negations: re.Pattern[str]
    pointers: re.Pattern[str]
    address_topics: re.Pattern[str]
    contact_topics: re.Pattern[str]
    labels: re.Pattern[str]  # address and contact topics together
    optout_terms: tuple[str, ...]  # quoted in a D3 finding's evidence

    @classmethod
    def build(cls, lists: Mapping[str, list[str]]) -> _Wording:
        return cls(
            optout=_pattern(lists["optout_terms"], lists["optout_patterns"]),
            negations=_pattern(lists["optout_negations"]),
            below=_pattern(lists["direction_below"]),
            above=_pattern(lists["direction_above"]),
            reply=_pattern(lists["reply_terms"]),
            reply_negations=_pattern(lists["reply_negations"]),
            pointers=_pattern(lists["pointer_terms"]),
            address_topics=_pattern(lists["address_terms"]),
            contact_topics=_pattern(lists["contact_terms"]),
            labels=_pattern(lists["address_terms"] + lists["contact_terms"]),
            optout_terms=tuple(lists["optout_terms"]),
        )

    def states(self, words: str, toward: str | None = None) -> bool:
        """Whether the words say that the reader may opt out (D3), of a URL ``toward`` them.

        Some opt-out wording must stand in a clause where no negation takes it
        back: one that ends after the wording begins (配信停止はできません, "cannot
        unsubscribe"). A negation in another clause (「返信できませんが、配信停止は
        下記から」, 「配信停止は下記から（ご返信では承れません）」) is about something else.
        With ``toward`` ("below" or "above": where the URL is), a sentence that
        points the other way (「末尾のリンクから」 of a URL above it) does not count.
        """
        remarks = [_REMARK.sub(" ", words), *_REMARK.findall(words)]
        for sentence in (s for remark in remarks for s in _SENTENCE_END.split(remark)):
            if toward is not None and self.points(sentence) not in (None, toward):
                continue
            for clause in _CLAUSE_BREAK.split(sentence):
                ends = [n.end() for n in self.negations.finditer(clause)]
                if any(all(e <= m.start() for e in ends) for m in self.optout.finditer(clause)):
                    return True
        return False

    def points(self, sentence: str) -> str | None:
        """Where a sentence says its link is: "below", "above", or None (not said, or both)."""
        below, above = bool(self.below.search(sentence)), bool(self.above.search(sentence))
        return "below" if below and not above else "above" if above and not below else None

    def denies(self, words: str) -> bool:
        """Opt-out wording that says the reader cannot opt out, and nothing saying they may."""
        return bool(self.optout.search(words)) and not self.states(words)


def _read_lexicon(path: Path | None) -> dict[str, list[str]]:
    """The word lists of a lexicon file (the built-in one when ``path`` is None)."""
    source = str(path) if path else "optout_lexicon.toml"
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else files("policies").joinpath("optout_lexicon.toml").read_text(encoding="utf-8")
        )
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"lexicon {source}: {exc}") from None
    lists: dict[str, list[str]] = {name: [] for name in LEXICON_LISTS}
    for table, entries in data.items():
        if not isinstance(entries, dict):
            raise ValueError(f"lexicon {source}: {table} must be a table ([{table}])")
        for key, value in entries.items():
            name = f"{table}_{key}"
            if name not in lists:
                raise ValueError(
                    f"lexicon {source}: unknown list [{table}] {key}"
                    f" (known: {', '.join(n.replace('_', ' ', 1) for n in LEXICON_LISTS)})"
                )
            lists[name] = _strings(value, f"lexicon {source}: [{table}] {key}")
    return lists


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{what}: must be a list of non-empty strings")
    return list(value)


def _pattern(terms: Iterable[str], patterns: Iterable[str] = ()) -> re.Pattern[str]:
    """One regex for a term list and raw patterns.

    Latin edges of a term match whole words, a space matches a hyphen too; a
    pattern is taken as written (NFKC-folded, like the text it runs on), and
    case-insensitive. Terms are folded as the text is, so they need no flag;
    every alternative begins with a character, never with a look-behind or a
    word boundary (a first letter followed by a look-behind over it and the
    character before is the same test), so that a search skips ahead to where a
    term may start: four times faster on a long mail.
    """
    alternatives = []
    for term in sorted({_fold(t) for t in terms}, key=len, reverse=True):
        body = r"[\s-]+".join(re.escape(word) for word in term.split())
        if term[0].isascii() and term[0].isalnum():
            body = body[0] + r"(?<!\w.)" + body[1:]
        tail = r"\b" if term[-1].isascii() and term[-1].isalnum() else ""
        alternatives.append(body + tail)
    for pattern in patterns:
        folded = unicodedata.normalize("NFKC", pattern)
        try:
            re.compile(folded)
        except re.error as exc:
            raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
        alternatives.append(f"(?i:{folded})")
    return re.compile("|".join(alternatives) or "(?!)")


def _fold(text: str, *, normalized: bool = False) -> str:
    """NFKC, case-folded, every hyphen variant a hyphen: the one view every match runs on.

    ``normalized`` says the text is NFKC already (a part's own view, made once).
    """
    folded = (text if normalized else nfkc(text)).casefold()
    return _LONG_VOWEL_HYPHEN.sub("-", _DASHES.sub("-", folded))


def _words(folded: str) -> str:
    """A folded text with its URLs and e-mail addresses blanked: the words that may state an item.

    Words inside a URL or address (``.../unsubscribe``, ``contact@``) are no
    statement, whether the URL stands in the text or is an anchor's visible text.
    """
    if "http" in folded or "www." in folded:  # folded: the scheme is lower case
        folded = _URL.sub(" ", folded)
    return _EMAIL.sub(" ", folded) if "@" in folded else folded


def _name_key(text: str) -> str:
    """A name with spacing, dots and commas gone and corporate forms spelt one way.

    ㈱, (株) and 株式会社 are one; so are "Co., Ltd.", "Co.,Ltd" and "Company Limited".
    """
    return _name_keys(_fold(" ".join(text.splitlines())))


def _name_keys(folded: str) -> str:
    """``_name_key`` of each line of a folded text, in one pass; the line breaks stay."""
    if any(suffix in folded for suffix in _LATIN_SUFFIXES):
        folded = _LATIN_SUFFIX.sub(lambda m: _LATIN_SUFFIXES[m[0]], folded)
    folded = _NAME_MARKS.sub("", folded)
    for short, long in _CORPORATE.items():
        if short in folded:
            folded = folded.replace(short, long)
    return folded


_GA = (("ヶ", "が"), ("ケ", "が"), ("ヵ", "か"), ("カ", "か"))  # str.replace beats translate


def _address_key(text: str, *, drop_lead: bool = False) -> str:
    """An address or line in one spelling: 九丁目一番一号 and ９－１－１ are both 9-1-1.

    With ``drop_lead`` (for the profile's address) the leading postal code and
    prefecture go too, so that 「千代田区霞が関9-1-1」 alone still matches.
    """
    return _address_keys(_fold(" ".join(text.splitlines())), drop_lead=drop_lead)


def _address_keys(folded: str, *, drop_lead: bool = False) -> str:
    """``_address_key`` of each line of a folded text, in one pass; the line breaks stay."""
    # 霞が関 = 霞ヶ関 = 霞ケ関: place names write the particle either way.
    folded = _ADDRESS_MARKS.sub("", folded)
    for small, particle in _GA:
        if small in folded:
            folded = folded.replace(small, particle)
    if drop_lead:
        folded = _LEADING_PREFECTURE.sub("", _LEADING_POSTCODE.sub("", folded))
    folded = _KANJI_NUMBER.sub(_kanji_number, folded)
    return _BLOCK_END.sub(r"\1", _BLOCK_JOINT.sub(r"\1-", folded))


def _kanji_number(match: re.Match[str]) -> str:
    """一二三 → 123 read digit by digit; 二十三 → 23 and 百五 → 105 read with their units."""
    run = match[0]
    if not any(ch in _KANJI_UNITS for ch in run):
        return "".join(str(_KANJI_DIGITS[ch]) for ch in run)
    total = current = 0
    for ch in run:
        if ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return str(total + current)


def _national_number(phone: str) -> str:
    """The digits of a phone number as dialled in Japan: +81 (0)3… becomes 03…."""
    digits = re.sub(r"\D", "", phone)
    if phone.lstrip().startswith("+81"):
        digits = digits[2:]
        return digits if digits.startswith("0") else "0" + digits
    return digits


def _url_key(url: str) -> str:
    """A URL without scheme, query, fragment and trailing slash; host lower-cased."""
    url = url.strip()
    if url.lower().startswith("www."):
        url = "http://" + url
    parts = urlsplit(url)
    return (parts.netloc.lower() + parts.path.rstrip("/")).casefold()


def _mailto(url: str) -> str | None:
    """The address of a mailto: link, else None."""
    if url.lower().startswith("mailto:"):
        return url[7:].split("?", 1)[0].strip().lower()
    return None


def _canonical_charset(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _ascii(text: str) -> str:
    """For a finding's message, which is quoted in SMTP replies."""
    return text.encode("ascii", "replace").decode("ascii")


@dataclass(frozen=True)
class _Target:
    """A URL or e-mail address a reader can use, located on a line of its part."""

    url: str  # the URL, or "mailto:" + address
    line: int | None  # index into the part's lines; None when it cannot be located
    anchor: str  # the visible text of an HTML anchor ("" for a bare URL)

    @property
    def address(self) -> str | None:
        return _mailto(self.url)

    @property
    def shown(self) -> str:
        return self.address or self.url


@dataclass(frozen=True)
class _Hit:
    """Where one display item was found: the part and the evidence line."""

    part: TextPart
    evidence: str


class _Lines:
    """A text of many lines, searched at once: one search of the text, not one per line."""

    def __init__(self, text: str) -> None:
        self.text = text  # the lines joined by "\n"
        self.lines = text.split("\n")
        # where each line starts: the running sum of the line lengths plus their breaks
        line_and_break = map((1).__add__, map(len, self.lines[:-1]))
        self._starts = list(itertools.accumulate(line_and_break, initial=0))

    def line_of(self, at: int) -> int:
        """The line holding offset ``at`` of the text."""
        return bisect.bisect_right(self._starts, at) - 1

    def first(
        self, pattern: re.Pattern[str], start: int = 0, then: re.Pattern[str] | None = None
    ) -> int | None:
        """The first line from ``start`` on which ``pattern`` (or ``then``) matches.

        A match in the text may run over a line break where a line alone would
        not match, so the line of each match is tried on its own before it
        counts: the answer is the line-by-line one. With ``then``, ``pattern``
        only says where to look: ``then`` must match no line that it does not.
        """
        then = then or pattern
        if start >= len(self.lines):
            return None
        at = self._starts[start]
        while (match := pattern.search(self.text, at)) is not None:
            line = self.line_of(match.start())
            if then.search(self.lines[line]):
                return line
            if line + 1 >= len(self.lines):
                return None
            at = self._starts[line + 1]
        return None


class _Reading:
    """One part (or one hidden piece of it) read for display items.

    Its lines, the targets located on them, and which targets serve opt-out.
    """

    def __init__(
        self, part: TextPart, wording: _Wording, profile: SenderProfile, hidden: str = ""
    ) -> None:
        self.part = part
        self.hidden = hidden  # the reason a reader does not see this text ("" if visible)
        self.wording = wording
        self.lines = part.text.splitlines()
        # Each view is made once for the whole text, one line per "\n"; an item is then
        # found by one search of the text, not one per line (see _Lines.first).
        shown = part.normalized.splitlines()
        if len(shown) != len(self.lines):  # never seen: NFKC keeps line breaks as they are
            shown = [nfkc(line) for line in self.lines]
        self.nfkc = _Lines("\n".join(shown))
        self.view = _Lines(_fold(self.nfkc.text, normalized=True))
        self.text = self.view.text
        self.folded = self.view.lines
        self.words_text = _words(self.text)
        self.words = self.words_text.split("\n")
        self.targets = self._targets()
        own_url = _url_key(profile.optout_url) if profile.optout_url else None
        own_address = (profile.optout_address or "").strip().lower() or None
        # The profile's own opt-out targets, as shown here.
        self.own = {
            t
            for t in self.targets
            if (t.address == own_address if t.address else _url_key(t.url) == own_url)
        }
        # The D2 targets, each with its D3 statement (None when no wording is next to it).
        self.optout: dict[_Target, _Hit | None] = {}
        for target in self.targets:
            statement = self._statement_near(target)
            if statement is not None or target in self.own:
                self.optout[target] = statement
        # Other URLs next to opt-out wording once the view shows the profile's (judge_at_own).
        self.decoys: dict[_Target, _Hit] = {}

    def judge_at_own(self) -> None:
        """The view shows the profile's own opt-out target: D2 and D3 are judged at it alone.

        Another URL next to opt-out wording becomes a decoy: no opt-out target,
        and no enquiry contact either (the words beside it speak of opting out).
        """
        self.decoys = {t: s for t, s in self.optout.items() if t not in self.own and s is not None}
        self.optout = {t: s for t, s in self.optout.items() if t in self.own}

    def send_only(self, target: _Target) -> bool:
        """An address the mail says takes no replies (no-reply@…, 「送信専用アドレス（…）」).

        Its own line must say so (the [reply] negations) and not label it an
        enquiry contact; an address that is itself a no-reply one needs no words.
        """
        if target.address is None:
            return False
        if self.wording.reply_negations.search(target.address):
            return True
        if target.line is None:
            return False
        words = self.words[target.line]
        return bool(self.wording.reply_negations.search(words)) and not (
            self.wording.contact_topics.search(words)
        )

    def serves_optout(self, target: _Target) -> bool:
        """An opt-out target, or a URL the mail's opt-out wording stands next to."""
        return target in self.optout or target in self.decoys

    @property
    def label(self) -> str:
        label = f"{self.part.content_type} part #{self.part.index}"
        return f"{label} hidden text ({self.hidden})" if self.hidden else label

    def quote(self, line: int | None) -> str:
        """A line for a finding's evidence; for an unplaced link, its part (hidden: the text)."""
        if line is None:
            return f"{self.label}: {self.part.text.strip()[:120]!r}" if self.hidden else self.label
        return f"{self.label} line {line + 1}: {self.lines[line].strip()!r}"

    def hit(self, target: _Target) -> _Hit:
        return _Hit(self.part, f"{self.quote(target.line)} ({target.shown})")

    def first_keyed(self, kept: Iterable[str], holds: Callable[[str], bool]) -> int | None:
        """The first line for which ``holds(its folded text)``: a key of it holds a key.

        ``kept`` are the characters the key keeps as they are (a line that lacks
        one cannot hold the key), so only lines holding all of them are keyed.
        """
        kept = list(kept)
        if not kept:
            return next((i for i, line in enumerate(self.folded) if holds(line)), None)
        rarest = min(kept, key=self.text.count)  # the fewest lines to try
        lines, at = set(), self.text.find(rarest)
        while at >= 0:
            lines.add(self.view.line_of(at))
            at = self.text.find(rarest, at + 1)
        return next(
            (
                i
                for i in sorted(lines)
                if all(ch in self.folded[i] for ch in kept) and holds(self.folded[i])
            ),
            None,
        )

    def _targets(self) -> list[_Target]:
        found: dict[tuple[str, int | None], _Target] = {}
        # Line by line, URLs before addresses on each line: neither can span a line break.
        line_of, text = self.view.line_of, self.text
        urls = _URL.finditer(text) if "http" in text or "www." in text else ()
        emails = _EMAIL.finditer(text) if "@" in text else ()
        matches = sorted(
            [(line_of(m.start()), 0, m.start(), m.group()) for m in urls]
            + [(line_of(m.start()), 1, m.start(), m.group()) for m in emails]
        )
        for i, kind, _, text in matches:
            if kind == 0:
                url = text.rstrip(_TRAILING)
                found.setdefault((_url_key(url), i), _Target(url, i, ""))
            else:
                url = "mailto:" + text.rstrip(_TRAILING)
                found.setdefault((url, i), _Target(url, i, ""))
        for link in self.part.links:
            anchor = link.text.strip()
            line = self._locate(link.url, _fold(anchor))
            address = _mailto(link.url)
            key = ("mailto:" + address if address is not None else _url_key(link.url), line)
            if key not in found or anchor:
                found[key] = _Target(link.url, line, anchor)
        return list(found.values())

    def _locate(self, url: str, anchor: str) -> int | None:
        """The line a link sits on: where its URL or address is written, else its anchor text."""
        for probe in (_mailto(url) or _fold(url), anchor):
            if probe and probe.splitlines() == [probe]:  # a probe of two lines is on no line
                at = self.text.find(probe)
                if at >= 0:
                    return self.view.line_of(at)
        return None

    def _rule(self, line: int) -> bool:
        """A separator line (――――, ----, ☆★☆★): marks only, no letters or digits."""
        return bool(self.lines[line].strip()) and not any(ch.isalnum() for ch in self.lines[line])

    def walk(
        self, line: int, step: int, stop: Callable[[int], bool] | None, reach: int
    ) -> tuple[list[int], tuple[str, int] | None]:
        """Up to ``reach`` non-empty lines next to ``line`` one way, and what ended the walk early.

        It crosses at most one block break and ends before a rule or a line
        for which ``stop`` holds (see ADJACENT_LINES); the end is a key of
        _BARRIERS and the line it is at.
        """
        taken: list[int] = []
        gap = crossed = False
        i = line + step
        while 0 <= i < len(self.lines) and len(taken) < reach:
            if not self.lines[i].strip():
                gap = True
            elif self._rule(i):
                return taken, ("rule", i)
            elif stop and stop(i):
                return taken, ("label", i)
            elif gap and crossed:
                return taken, ("paragraph", i)
            else:
                crossed = crossed or gap
                gap = False
                taken.append(i)
            i += step
        return taken, None

    def neighbourhood(
        self, line: int, stop: Callable[[int], bool] | None = None, reach: int = ADJACENT_LINES
    ) -> list[int]:
        """The line and its D3 window (see ADJACENT_LINES) on either side.

        If ``stop`` holds for the line itself, it stands alone.
        """
        if stop and stop(line):
            return [line]
        return [line, *self.walk(line, -1, stop, reach)[0], *self.walk(line, 1, stop, reach)[0]]

    def _other_item(self, line: int) -> bool:
        """A line that labels another display item (お問い合わせ：…, 所在地：…) and not opt-out."""
        words = self.words[line]
        return bool(self.wording.labels.search(words)) and not self.wording.states(words)

    def _statement_near(self, target: _Target) -> _Hit | None:
        """The opt-out wording next to the target (D3): its anchor text or a line around it.

        An anchor that names another item (お問い合わせはこちら) says what its link
        is, whatever else stands on its line.
        """
        anchor = _words(_fold(target.anchor))
        if self.wording.states(anchor):
            return _Hit(self.part, f"{self.quote(target.line)} (anchor text {target.anchor!r})")
        if target.line is None or self.wording.labels.search(anchor):
            return None
        for i in self.neighbourhood(target.line, self._other_item):
            if self._speaks_of(i, target):
                return _Hit(self.part, self.quote(i))
        return None

    def _speaks_of(self, line: int, target: _Target) -> bool:
        """Whether ``line`` states opt-out, without pointing away from the target (located).

        On the target's own line the words before it may point below and the
        words after it above (「配信停止は下記から：URL」, 「URL ←配信停止はこちら」).
        """
        if target.line is None:
            return False
        if line != target.line:
            return self.wording.states(self.words[line], "below" if target.line > line else "above")
        folded = self.folded[line]
        for probe in (target.address or _fold(target.url), _fold(target.anchor)):
            at = folded.find(probe) if probe else -1
            if at >= 0:
                before, after = _words(folded[:at]), _words(folded[at + len(probe) :])
                return self.wording.states(before, "below") or self.wording.states(after, "above")
        return self.wording.states(self.words[line])

    def nearest_statement(self, target: _Target) -> tuple[str, str, str]:
        """Why a target has no D3 statement: short reasons (English, Japanese) and evidence."""
        wording = [i for i, words in enumerate(self.words) if self.wording.states(words)]
        line = target.line
        if line is None:
            return (
                "the link's place in the text is unknown",
                "リンクの本文中の位置が分かりません",
                f"{self.label}: link {target.shown} (anchor text {target.anchor!r})",
            )
        window = self.neighbourhood(line, self._other_item)
        away = [
            i
            for i in window
            if self.wording.states(self.words[i]) and not self._speaks_of(i, target)
        ]
        if away and not self.wording.labels.search(_words(_fold(target.anchor))):
            # Wording in the window that says its link is on the other side, or elsewhere.
            return (
                "the opt-out wording next to it says its link is elsewhere",
                "隣の文言は、別の場所のリンクを指しています",
                f"opt-out wording {self.quote(away[0])} says its link is elsewhere (the lexicon's"
                f" [direction] terms: 下記, 末尾, above, …), not at {self.quote(line)}",
            )
        denials = [i for i in window if self.wording.denies(self.words[i])]
        if self.wording.denies(_words(_fold(target.anchor))) or denials:
            denial = self.quote(denials[0]) if denials else f"the anchor text {target.anchor!r}"
            return (
                "the opt-out wording next to it says the reader cannot opt out",
                "隣の文言は、配信停止ができない旨を述べています",
                f"opt-out wording next to {self.quote(line)} is negated: {denial}"
                " (the lexicon's [optout] negations: a statement that one cannot stop the mail"
                " is not one that one may)",
            )
        if not wording:
            return (
                f"no opt-out wording in {self.label}",
                "オプトアウトできる旨の文言が本文にありません",
                f"no opt-out wording anywhere in {self.label}",
            )
        nearest = min(wording, key=lambda i: abs(i - line))
        step = 1 if nearest > line else -1
        apart = sum(1 for i in range(line + step, nearest + step, step) if self.lines[i].strip())
        side, side_ja = ("below", "下") if step > 0 else ("above", "上")
        reason = f"nearest opt-out wording is {apart} lines {side}"
        reason_ja = f"最も近い文言は{apart}行{side_ja}"
        evidence = (
            f"nearest opt-out wording {self.quote(nearest)} is {apart} non-empty line(s) {side}"
            f" {self.quote(line)}"
        )
        if apart > ADJACENT_LINES:
            return reason, reason_ja, f"{evidence}, beyond the D3 window of {ADJACENT_LINES} lines"
        kind, at = (
            ("own", line)
            if self._other_item(line)
            else self.walk(line, step, self._other_item, apart)[1] or ("own", line)
        )
        english, japanese = _BARRIERS[kind]
        return (
            f"{reason}, past {english} at line {at + 1}",
            f"{reason_ja}、{at + 1}行目の{japanese}を挟んでいます",
            f"{evidence}, past {english} at {self.quote(at)}",
        )

    def reply_statements(self) -> list[int]:
        """Lines saying opt-out is by replying to this mail (D3: anywhere, D2: the From address).

        Reply wording with opt-out wording on its line or the line before or
        after, and no wording saying replies are not read.
        """
        if not self.wording.reply.search(self.words_text):  # no line has reply wording
            return []
        return [
            i
            for i, words in enumerate(self.words)
            if self.wording.reply.search(words)
            and not self.wording.reply_negations.search(words)
            and any(self.wording.states(self.words[j]) for j in self.neighbourhood(i, reach=1))
        ]

    def pointers(self, topics: re.Pattern[str], info_key: str | None) -> list[_Hit]:
        """Links whose surrounding words say the item is on that page (D4/D5 by link).

        The words must name the item (a topic) and either say the link holds it
        (a pointer term), or label the link itself (its anchor, its line, or the
        line right above), or sit next to the profile's info_url.
        """
        hits = []
        for target in self.targets:
            if target.address is not None or target.line is None or self.serves_optout(target):
                continue
            anchor = _words(_fold(target.anchor))
            around = " ".join([anchor, *(self.words[i] for i in self.neighbourhood(target.line))])
            if not topics.search(around):
                continue
            above = self.words[target.line - 1] if target.line > 0 else ""
            if (
                self.wording.pointers.search(around)
                or topics.search(" ".join([anchor, self.words[target.line], above]))
                or _url_key(target.url) == info_key
            ):
                hits.append(self.hit(target))
        return hits


class DisplayPolicy:
    """Checks Art. 4 display items: D1–D6 for advertising, D1 alone for incidental ads (D7).

    Options: ``lexicon`` (a TOML file replacing optout_lexicon.toml) and any of
    LEXICON_LISTS (word lists added to the lexicon's).
    """

    name = "display"

    def __init__(self, options: Mapping[str, Any]) -> None:
        known = {"lexicon", *LEXICON_LISTS}
        unknown = set(options) - known
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(sorted(unknown))}"
                f" (known: {', '.join(sorted(known))})"
            )
        lexicon = options.get("lexicon")
        if lexicon is not None and not isinstance(lexicon, str):
            raise ValueError("lexicon: must be the path of a TOML file")
        lists = _read_lexicon(Path(lexicon) if lexicon else None)
        for name in LEXICON_LISTS:
            if name in options:
                lists[name] += _strings(options[name], name)
        self._wording = _Wording.build(lists)

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        if context.category is Category.NON_ADVERTISING:
            return []
        full = context.category is Category.ADVERTISING
        findings: list[Finding] = []
        for view in _views(message.body_parts):
            seen = [_Reading(part, self._wording, context.profile) for part in view]
            if any(r.own for r in seen):
                for reading in seen:
                    reading.judge_at_own()
            hidden = [
                _Reading(
                    dataclasses.replace(
                        part, text=h.text, links=tuple(Link(url) for url in h.links), hidden=()
                    ),
                    self._wording,
                    context.profile,
                    hidden=h.reason,
                )
                for part in view
                for h in part.hidden
            ]
            findings.extend(
                _judge(seen, hidden, context.profile, message.from_address, full, self._wording)
            )
        return findings


def _views(parts: Sequence[TextPart]) -> list[tuple[TextPart, ...]]:
    """What a reader may see: everything, with one member of each alternative group.

    A mail client shows the plain or the HTML alternative throughout, so the views
    are "plain where there is a choice" and "HTML where there is a choice".
    """
    groups: dict[int, list[TextPart]] = {}
    for part in parts:
        if part.alternative is not None:
            groups.setdefault(part.alternative, []).append(part)
    if not groups:
        return [tuple(parts)]
    views: list[tuple[TextPart, ...]] = []
    for preferred in ("text/plain", "text/html"):
        chosen = {
            group: next((p for p in reversed(members) if p.content_type == preferred), members[-1])
            for group, members in groups.items()
        }
        view = tuple(p for p in parts if p.alternative is None or chosen[p.alternative] is p)
        if view not in views:
            views.append(view)
    return views


def _items(
    readings: list[_Reading], profile: SenderProfile, sender: str, full: bool
) -> dict[str, list[_Hit]]:
    """Where each display item is shown; ``full`` is False for an incidental ad (D7: D1 only)."""
    found = {"D1": _names(readings, profile)}
    if full:
        optout = [(r.hit(t), stated) for r in readings for t, stated in r.optout.items()]
        by_reply = [
            _Hit(r.part, f"{r.quote(i)}: opt-out by reply to the From address {sender}")
            for r in readings
            for i in r.reply_statements()
            if sender
        ]
        found["D2"] = [hit for hit, _ in optout] + by_reply
        found["D3"] = [stated for _, stated in optout if stated is not None] + by_reply
        found["D4"] = _addresses(readings, profile)
        found["D5"] = _contacts(readings, profile)
    return found


def _judge(
    readings: list[_Reading],
    hidden: list[_Reading],
    profile: SenderProfile,
    sender: str,
    full: bool,
    wording: _Wording,
) -> list[Finding]:
    """Findings for one view: what is missing, not adjacent, or in another charset."""
    where = ", ".join(r.label for r in readings) or "no text part"
    shown = readings[0].part.charset if readings else ""
    main = _canonical_charset(shown)
    found = _items(readings, profile, sender, full)
    unseen: dict[str, tuple[str, _Hit]] = {}  # rule: (why hidden, where) for items only hidden
    for piece in hidden:
        for rule, hits in _items([piece], profile, sender, full).items():
            if hits:
                unseen.setdefault(rule, (piece.hidden, hits[0]))

    findings: list[Finding] = []
    elsewhere: dict[str, _Hit] = {}  # rule: where it is, in another charset
    for rule, hits in found.items():
        if any(_canonical_charset(h.part.charset) == main for h in hits):
            continue
        if hits:
            elsewhere[rule] = hits[0]
        elif rule == "D3" and found["D2"]:
            findings.append(_not_adjacent(readings, hidden, where, wording))
        elif rule == "D3":
            if not any(wording.states(w) for r in readings for w in r.words):
                findings.append(_missing(rule, where, profile, unseen.get(rule), full))
        else:
            findings.append(_missing(rule, where, profile, unseen.get(rule), full))
    if elsewhere:
        parts = ", ".join(
            f"{rule} in {h.part.content_type} part #{h.part.index} ({h.part.charset})"
            for rule, h in elsewhere.items()
        )
        findings.append(
            Finding(
                rule="D6",
                code="display.charset_mismatch",
                action=Action.BLOCK,
                message="display items are encoded in another charset than the text"
                f" ({shown}, {readings[0].label}): {parts}",
                message_ja=f"表示事項が本文（{shown}、{readings[0].label}）と異なる文字コードで"
                f"符号化されています：{parts}",
                evidence=f"text charset {shown} ({readings[0].label}); "
                + "; ".join(f"{rule} in {h.evidence}" for rule, h in elsewhere.items()),
            )
        )
    return findings


_MISSING = {
    "D1": (
        "display.sender_name_missing",
        "the sender's name",
        "the sender's name is not shown",
        "送信者の氏名又は名称が表示されていません",
    ),
    "D2": (
        "display.optout_missing",
        "opt-out URL or address",
        "no opt-out URL or e-mail address is shown",
        "オプトアウトの通知先（電子メールアドレス又はURL）が表示されていません",
    ),
    "D3": (
        "display.optout_statement_missing",
        "opt-out statement",
        "no statement that the recipient may opt out is shown",
        "オプトアウトの通知ができる旨が表示されていません",
    ),
    "D4": (
        "display.postal_address_missing",
        "postal address",
        "the sender's postal address is not shown, nor where it is published",
        "送信者の住所が表示されていません（リンク先で表示する場合はその場所の表示もありません）",
    ),
    "D5": (
        "display.contact_missing",
        "enquiry contact",
        "no phone number, e-mail address or URL for enquiries is shown",
        "苦情・問合せを受け付ける電話番号、電子メールアドレス又はURLが表示されていません",
    ),
}


def _missing(
    rule: str, where: str, profile: SenderProfile, unseen: tuple[str, _Hit] | None, full: bool
) -> Finding:
    """An item not shown; ``unseen`` says why and where it is in hidden text, if anywhere."""
    code, item, message, message_ja = _MISSING[rule]
    looked_for = {
        "D1": f"one of {list(profile.names)} (NFKC; 株式会社/(株)/㈱ and Co., Ltd./Inc. variants)",
        "D2": f"{profile.optout_url or profile.optout_address or 'a URL or address'}"
        " or a URL/address next to opt-out wording, or wording saying opt-out is by reply",
        "D3": "opt-out wording (the lexicon's [optout] terms and patterns) anywhere",
        "D4": f"{list(profile.postal_addresses)} (any spelling), 〒NNN-NNNN,"
        " prefecture+municipality, a Western address, or a URL with words saying the address"
        " is there",
        "D5": "a phone number, an e-mail address, the profile's contact,"
        " or a URL with words saying enquiries are taken there",
    }[rule]
    evidence = f"looked in {where} for {looked_for}"
    if not full:
        evidence += "; incidental ad (LAW.md O3): only the sender's name is required (D7)"
    if unseen:
        reason, hit = unseen
        message += f" ({where}); {item} present only in hidden text ({_ascii(reason)})"
        message_ja += f"（{where}）。非表示のテキスト（{reason}）にのみあります"
        evidence += f"; {item} present only in hidden text ({reason}): {hit.evidence}"
    else:
        message += f" ({where})"
        message_ja += f"（{where}）"
    return Finding(
        rule=rule,
        code=code,
        action=Action.BLOCK,
        message=message,
        message_ja=message_ja,
        evidence=evidence,
    )


_BARRIERS = {  # what ends the D3 window before the wording: (English, Japanese)
    "rule": ("a rule", "罫線"),
    "label": ("another item's label", "別の表示事項の見出し"),
    "paragraph": ("a second paragraph break", "2つ目の段落区切り"),
    "own": ("the URL's own line, which labels another item", "別の表示事項の見出しの行"),
}


def _not_adjacent(
    readings: list[_Reading], hidden: list[_Reading], where: str, wording: _Wording
) -> Finding:
    """D3: opt-out targets without a statement next to them, with the nearest wording."""
    reasons: list[tuple[str, str]] = []
    evidence: list[str] = []
    for r in readings:
        for target in r.optout:
            reason, reason_ja, why = r.nearest_statement(target)
            reasons.append((reason, reason_ja))
            evidence.append(f"opt-out target {target.shown}: {why}")
        for decoy, statement in r.decoys.items():
            evidence.append(
                f"opt-out wording {statement.evidence} stands next to {decoy.shown}, which is not"
                " the sender's opt-out URL or address; the sender's is shown, so the statement"
                " must stand next to it"
            )
    unseen = [r.quote(i) for r in hidden for i, w in enumerate(r.words) if wording.states(w)]
    if unseen:
        evidence.append(f"opt-out wording present only in hidden text: {unseen[0]}")
    return Finding(
        rule="D3",
        code="display.optout_statement_not_adjacent",
        action=Action.BLOCK,
        message="no opt-out statement immediately before or after the opt-out URL"
        f" ({where}; {_ascii(reasons[0][0])})",
        message_ja="オプトアウトの通知先の直前又は直後に、通知ができる旨の表示がありません"
        f"（{where}。{reasons[0][1]}）",
        evidence="; ".join(evidence)
        + f"; looked for opt-out wording ({', '.join(wording.optout_terms[:3])}, …) in the anchor"
        f" text, on the URL's line or within {ADJACENT_LINES} non-empty lines above or below"
        " (same or adjacent paragraph)",
    )


def _names(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D1: one of the profile's names, corporate forms, widths and spacing folded.

    One hit per part at most (the first line): a part shows the item or does not.
    """
    names = {key for key in (_name_key(name) for name in profile.names) if key}
    hits = []
    for r in readings:
        lines = [
            r.first_keyed(
                (ch for ch in name if ch not in _NAME_MADE),
                lambda line, name=name: name in _name_keys(line),  # type: ignore[misc]
            )
            for name in names
        ]
        shown = [line for line in lines if line is not None]
        if shown:
            hits.append(_Hit(r.part, r.quote(min(shown))))
    return hits


# What _name_keys may write that the line did not: 株式会社 for (株), co for company.
_NAME_MADE = frozenset("".join((*_CORPORATE.values(), *_LATIN_SUFFIXES.values())))


def _addresses(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D4: the postal address (the profile's in any spelling, or any address), or a pointer.

    One hit per part at most: its first address line, else its first pointer.
    """
    known = {_address_key(a, drop_lead=True) for a in profile.postal_addresses}
    info_key = _url_key(profile.info_url) if profile.info_url else None
    hits = []
    for r in readings:
        lines = [_known_address_line(r, key) for key in known if key]
        lines += [
            text.first(pattern)
            for pattern, text in (
                (_POSTCODE, r.view),
                *((a, r.view) for a in _JP_ADDRESSES),
            )
        ]
        lines += [r.nfkc.first(code, then=_WESTERN_ADDRESS) for code in _WESTERN_CODES]
        shown = [line for line in lines if line is not None]
        if shown:
            hits.append(_Hit(r.part, r.quote(min(shown))))
        else:
            hits += r.pointers(r.wording.address_topics, info_key)[:1]
    return hits


# What _address_keys makes of other characters: the rest of a key stands in the line as is.
_KEY_MADE = frozenset("がか-0123456789")


def _known_address_line(r: _Reading, key: str) -> int | None:
    """The first line whose address key holds ``key`` (the profile's address, any spelling).

    Only lines holding every character of the key that _address_keys does not
    make (霞, 区, 関: not digits, が, か or -) can; only those are keyed.
    """
    pattern = re.compile(re.escape(key) + r"(?!\d)")
    return r.first_keyed(
        (ch for ch in key if ch not in _KEY_MADE),
        lambda line: pattern.search(_address_keys(line)) is not None,
    )


def _contacts(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D5: a phone number, an enquiry address or URL, or words saying which page has them.

    A URL or address that serves opt-out (D2) is not also the enquiry contact,
    nor is an address the mail says takes no replies. One hit per part at most:
    its first phone line, else its first contact link, else its first pointer.
    """
    phones = {_national_number(_fold(c)) for c in profile.contact if "@" not in c and "/" not in c}
    phones.discard("")
    urls = {_url_key(c) for c in profile.contact if "/" in c}
    info_key = _url_key(profile.info_url) if profile.info_url else None
    hits = []
    for r in readings:
        line = _phone_line(r, phones)
        if line is not None:
            hits.append(_Hit(r.part, r.quote(line)))
            continue
        link = next(
            (
                t
                for t in r.targets
                if not r.serves_optout(t)
                and ((t.address is not None and not r.send_only(t)) or _url_key(t.url) in urls)
            ),
            None,
        )
        if link is not None:
            hits.append(r.hit(link))
        else:
            hits += r.pointers(r.wording.contact_topics, info_key)[:1]
    return hits


def _phone_line(r: _Reading, phones: set[str]) -> int | None:
    """The first line with a Japanese phone number, or one of the profile's (its digits)."""
    lines = []
    line: int | None = -1
    while line is not None and (line := r.view.first(_PHONE, line + 1)) is not None:
        numbers = [_national_number(m[0]) for m in _PHONE.finditer(r.folded[line])]
        if any(10 <= len(n) <= 11 and not n.startswith("00") for n in numbers):
            lines.append(line)
            break
    for digits in phones:
        # The profile's number in a line's digits: those digits with only non-digits between.
        line = r.view.first(re.compile(r"[^\d\n]*".join(map(re.escape, digits))))
        if line is not None:
            lines.append(line)
    return min(lines) if lines else None
