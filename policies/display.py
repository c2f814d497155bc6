"""The display items every advertising mail must show (LAW.md D1–D7, Art. 4).

A finding names what is missing and where it was looked for; the decision
module, not this policy, decides what a finding does to the mail.

The mail is read as a reader sees it: the visible text of its non-attachment
parts (hidden HTML is already gone from ``TextPart.text`` and ``.links``), one
line at a time, NFKC-folded. Under multipart/alternative a reader sees one
alternative, so each one must carry every item on its own.
"""

from __future__ import annotations

import codecs
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
    ParsedMessage,
    PolicyContext,
    SenderProfile,
    TextPart,
)

ADJACENT_LINES = 2
"""D3 "immediately before or after" (直前又は直後): the opt-out wording must be on
the URL's own line or within the 2 nearest non-empty lines above or below it,
so that a statement wrapped over two lines, or a heading over a URL and an
address (the ministry's example display), still counts. Blank lines are
skipped; a rule (a line of only marks, such as ――― or ----) ends the search,
since it separates the footer from the text above it."""

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}、。「」『』【】]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_TRAILING = ".,;:!?>"
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff0d\uff70]")
_SPACES = re.compile(r"\s+")
# Japanese numbers: 0 + area code, or +81 without the 0; 10 or 11 digits in all.
_PHONE = re.compile(
    r"(?<![0-9+-])(?:\+81[\s()-]{0,2}|\(?0)\d{1,4}[\s()-]{0,2}\d{1,4}[\s()-]{0,2}\d{3,4}(?![0-9-])"
)
_POSTCODE = re.compile(r"〒\s*\d{3}-?\d{4}")
_LEADING_POSTCODE = re.compile(r"^\s*〒?\s*\d{3}-?\d{4}\s*")
_PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|"
    "東京都|神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|"
    "滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|"
    "香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
# A prefecture, then a city, ward, town, village or district, then a block number;
# or a 所在地/住所 label before the municipality, as in the ministry's example display
# (所在地：〒100-000 千代田区霞が関9-1-1).
_JP_ADDRESS = re.compile(
    "(?:" + _PREFECTURES + r")[^\s、。:]{1,12}?[市区町村郡][^\s、。:]{0,20}?\d"
    r"|(?:所在地|住所)\s*:[^\n]{0,20}?[市区町村郡][^\s、。:]{0,20}?\d"
)
# A Western street address: a house number, then a postal code (JP, US ZIP, UK).
# Bounded repeats keep a long rendered HTML line linear.
_WESTERN_ADDRESS = re.compile(
    r"\b\d+[\w-]{0,10},?\s+[A-Za-z][\w .,'-]{0,80}?"
    r"(?:\b\d{3}-\d{4}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b)"
)
_CORPORATE = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社"}


@dataclass(frozen=True)
class _Wording:
    """The lexicon, compiled: what to look for in a line (see optout_lexicon.toml)."""

    optout: re.Pattern[str]
    locators: re.Pattern[str]
    address_topics: re.Pattern[str]
    contact_topics: re.Pattern[str]
    labels: re.Pattern[str]  # address and contact topics together
    optout_terms: tuple[str, ...]

    @classmethod
    def load(cls, path: Path | None) -> _Wording:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else files("policies").joinpath("optout_lexicon.toml").read_text(encoding="utf-8")
        )
        data = tomllib.loads(text)
        optout = tuple(data["optout"]["terms"])
        pointer = data["pointer"]
        return cls(
            optout=_terms_pattern(optout),
            locators=_terms_pattern(pointer["locators"]),
            address_topics=_terms_pattern(pointer["address"]["topics"]),
            contact_topics=_terms_pattern(pointer["contact"]["topics"]),
            labels=_terms_pattern(pointer["address"]["topics"] + pointer["contact"]["topics"]),
            optout_terms=optout,
        )


def _terms_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One regex for a term list; Latin edges match whole words, a space matches a hyphen too."""
    alternatives = []
    for term in sorted({_fold(t) for t in terms}, key=len, reverse=True):
        body = r"[\s-]+".join(re.escape(word) for word in term.split())
        head = r"\b" if term[0].isascii() and term[0].isalnum() else ""
        tail = r"\b" if term[-1].isascii() and term[-1].isalnum() else ""
        alternatives.append(head + body + tail)
    return re.compile("|".join(alternatives))


def _fold(text: str) -> str:
    """NFKC, case-folded, every dash variant a hyphen: the one view every match runs on."""
    return _DASHES.sub("-", unicodedata.normalize("NFKC", text)).casefold()


def _compact(text: str) -> str:
    """_fold without white space and 〒, with (株)/㈱ spelt out: for names and addresses."""
    folded = _SPACES.sub("", _fold(text)).replace("〒", "")
    for short, long in _CORPORATE.items():
        folded = folded.replace(short, long)
    return folded


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


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", _fold(phone))
    return "0" + digits[2:] if phone.strip().startswith("+81") else digits


def _canonical_charset(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


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


class _Reading:
    """One part read for display items: lines, located targets, and which serve opt-out."""

    def __init__(self, part: TextPart, wording: _Wording, profile: SenderProfile) -> None:
        self.part = part
        self.wording = wording
        self.lines = part.text.splitlines()
        self.folded = [_fold(line) for line in self.lines]
        self.words = [_EMAIL.sub(" ", _URL.sub(" ", line)) for line in self.folded]
        self.targets = self._targets()
        own_url = _url_key(profile.optout_url) if profile.optout_url else None
        own_address = (profile.optout_address or "").strip().lower() or None
        # The D2 targets, each with its D3 statement (None when no wording is next to it).
        self.optout: dict[_Target, _Hit | None] = {}
        for target in self.targets:
            statement = self._statement_near(target)
            own = (
                target.address == own_address if target.address else _url_key(target.url) == own_url
            )
            if statement is not None or own:
                self.optout[target] = statement

    @property
    def label(self) -> str:
        return f"{self.part.content_type} part #{self.part.index}"

    def quote(self, line: int | None) -> str:
        if line is None:
            return self.label
        return f"{self.label} line {line + 1}: {self.lines[line].strip()!r}"

    def hit(self, target: _Target) -> _Hit:
        return _Hit(self.part, f"{self.quote(target.line)} ({target.shown})")

    def _targets(self) -> list[_Target]:
        found: dict[tuple[str, int | None], _Target] = {}
        for i, folded in enumerate(self.folded):
            for match in _URL.finditer(folded):
                url = match.group().rstrip(_TRAILING)
                found.setdefault((_url_key(url), i), _Target(url, i, ""))
            for match in _EMAIL.finditer(folded):
                url = "mailto:" + match.group().rstrip(_TRAILING)
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
            if probe:
                for i, line in enumerate(self.folded):
                    if probe in line:
                        return i
        return None

    def neighbourhood(self, line: int, stop: Callable[[int], bool] | None = None) -> list[int]:
        """The line and up to ADJACENT_LINES non-empty lines on either side.

        A rule ends the walk in its direction, and so does a line for which
        ``stop`` holds; if ``stop`` holds for the line itself, it stands alone.
        """
        around = [line]
        if stop and stop(line):
            return around
        for step in (-1, 1):
            i, taken = line + step, 0
            while 0 <= i < len(self.lines) and taken < ADJACENT_LINES:
                if not any(ch.isalnum() for ch in self.lines[i]):
                    if self.lines[i].strip():
                        break
                elif stop and stop(i):
                    break
                else:
                    around.append(i)
                    taken += 1
                i += step
        return around

    def _other_item(self, line: int) -> bool:
        """A line that labels another display item (お問い合わせ：…, 所在地：…) and not opt-out."""
        words = self.words[line]
        return bool(self.wording.labels.search(words)) and not self.wording.optout.search(words)

    def _statement_near(self, target: _Target) -> _Hit | None:
        """The opt-out wording next to the target (D3): its anchor text or a line around it.

        The walk does not cross a line that labels another item, so the
        enquiry address right under the opt-out URL is not taken for opt-out.
        """
        if self.wording.optout.search(_fold(target.anchor)):
            return _Hit(self.part, f"{self.quote(target.line)} (anchor text {target.anchor!r})")
        if target.line is None:
            return None
        for i in self.neighbourhood(target.line, self._other_item):
            if self.wording.optout.search(self.words[i]):
                return _Hit(self.part, self.quote(i))
        return None

    def pointers(self, topics: re.Pattern[str], info_key: str | None) -> list[_Hit]:
        """Links whose surrounding words say the item is on that page (D4/D5 by link).

        The words must name the item (a topic) and say the link holds it (a
        locator), or name the item next to the profile's info_url.
        """
        hits = []
        for target in self.targets:
            if target.address is not None or target.line is None or target in self.optout:
                continue
            around = [self.words[i] for i in self.neighbourhood(target.line)]
            text = " ".join([_fold(target.anchor), *around])
            if topics.search(text) and (
                self.wording.locators.search(text) or _url_key(target.url) == info_key
            ):
                hits.append(self.hit(target))
        return hits


class DisplayPolicy:
    """Checks Art. 4 display items: D1–D6 for advertising, D1 alone for incidental ads (D7)."""

    name = "display"

    def __init__(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"lexicon"}
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        lexicon = options.get("lexicon")
        self._wording = _Wording.load(Path(lexicon) if lexicon else None)

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        if context.category is Category.NON_ADVERTISING:
            return []
        full = context.category is Category.ADVERTISING
        findings: list[Finding] = []
        for view in _views(message.body_parts):
            readings = [_Reading(part, self._wording, context.profile) for part in view]
            findings.extend(_judge(readings, context.profile, full))
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


def _judge(readings: list[_Reading], profile: SenderProfile, full: bool) -> list[Finding]:
    """Findings for one view; ``full`` is False for an incidental ad (D7: D1 only)."""
    where = ", ".join(r.label for r in readings) or "no text part"
    shown = readings[0].part.charset if readings else ""
    main = _canonical_charset(shown)
    found: dict[str, list[_Hit]] = {"D1": _names(readings, profile)}
    if full:
        optout = _optout(readings)
        found["D2"] = [hit for hit, _ in optout]
        found["D3"] = [stated for _, stated in optout if stated is not None]
        found["D4"] = _addresses(readings, profile)
        found["D5"] = _contacts(readings, profile)

    findings: list[Finding] = []
    elsewhere: list[str] = []
    for rule, hits in found.items():
        if any(_canonical_charset(h.part.charset) == main for h in hits):
            continue
        if hits:
            elsewhere.append(f"{rule} in {hits[0].evidence}")
        elif rule == "D3" and found["D2"]:
            findings.append(_not_adjacent(found["D2"], where, readings[0].wording))
        elif rule != "D3":
            findings.append(_missing(rule, where, profile))
    if elsewhere:
        findings.append(
            Finding(
                rule="D6",
                code="display.charset_mismatch",
                action=Action.BLOCK,
                message=f"display items are encoded in another charset than the text ({shown})",
                message_ja=f"表示事項が本文（{shown}）と異なる文字コードで符号化されています",
                evidence=f"text charset {shown} ({readings[0].label}); " + "; ".join(elsewhere),
            )
        )
    return findings


_MISSING = {
    "D1": (
        "display.sender_name_missing",
        "the sender's name is not shown",
        "送信者の氏名又は名称が表示されていません",
    ),
    "D2": (
        "display.optout_missing",
        "no opt-out URL or e-mail address is shown",
        "オプトアウトの通知先（電子メールアドレス又はURL）が表示されていません",
    ),
    "D4": (
        "display.postal_address_missing",
        "the sender's postal address is not shown, nor where it is published",
        "送信者の住所が表示されていません（リンク先で表示する場合はその場所の表示もありません）",
    ),
    "D5": (
        "display.contact_missing",
        "no phone number, e-mail address or URL for enquiries is shown",
        "苦情・問合せを受け付ける電話番号、電子メールアドレス又はURLが表示されていません",
    ),
}


def _missing(rule: str, where: str, profile: SenderProfile) -> Finding:
    code, message, message_ja = _MISSING[rule]
    looked_for = {
        "D1": f"one of {list(profile.names)}",
        "D2": f"{profile.optout_url or profile.optout_address or 'a URL or address'}"
        " or a URL/address next to opt-out wording",
        "D4": "the profile's address, 〒NNN-NNNN, prefecture+municipality, a Western address,"
        " or a URL with words saying the address is there",
        "D5": "a phone number, an e-mail address, the profile's contact,"
        " or a URL with words saying enquiries are taken there",
    }[rule]
    return Finding(
        rule=rule,
        code=code,
        action=Action.BLOCK,
        message=f"{message} ({where})",
        message_ja=f"{message_ja}（{where}）",
        evidence=f"looked in {where} for {looked_for}",
    )


def _not_adjacent(targets: list[_Hit], where: str, wording: _Wording) -> Finding:
    return Finding(
        rule="D3",
        code="display.optout_statement_not_adjacent",
        action=Action.BLOCK,
        message=f"no opt-out statement immediately before or after the opt-out URL ({where})",
        message_ja=f"オプトアウトの通知先の直前又は直後に、通知ができる旨の表示がありません（{where}）",
        evidence="; ".join(h.evidence for h in targets)
        + f"; looked for opt-out wording ({', '.join(wording.optout_terms[:3])}, …) on that line"
        f" or within {ADJACENT_LINES} non-empty line(s) above or below",
    )


def _names(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D1: one of the profile's names, corporate forms and widths folded."""
    names = [_compact(name) for name in profile.names if name.strip()]
    return [
        _Hit(r.part, r.quote(i))
        for r in readings
        for i, line in enumerate(r.lines)
        if any(name in _compact(line) for name in names)
    ]


def _optout(readings: list[_Reading]) -> list[tuple[_Hit, _Hit | None]]:
    """D2 targets, each with the D3 statement next to it (None when there is none)."""
    return [(r.hit(t), statement) for r in readings for t, statement in r.optout.items()]


def _addresses(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D4: the postal address, or words saying which linked page shows it."""
    known = {_compact(a) for a in profile.postal_addresses if a.strip()}
    known |= {_compact(_LEADING_POSTCODE.sub("", _fold(a))) for a in profile.postal_addresses}
    known.discard("")
    info_key = _url_key(profile.info_url) if profile.info_url else None
    hits = []
    for r in readings:
        if any(a in _compact(r.part.text) for a in known):
            hits.append(_Hit(r.part, f"{r.label}: the profile's postal address"))
        for i, line in enumerate(r.lines):
            if (
                _POSTCODE.search(r.folded[i])
                or _JP_ADDRESS.search(r.folded[i])
                or _WESTERN_ADDRESS.search(unicodedata.normalize("NFKC", line))
            ):
                hits.append(_Hit(r.part, r.quote(i)))
        hits += r.pointers(r.wording.address_topics, info_key)
    return hits


def _contacts(readings: list[_Reading], profile: SenderProfile) -> list[_Hit]:
    """D5: a phone number, an enquiry address or URL, or words saying which page has them.

    A URL or address that serves opt-out (D2) is not also the enquiry contact.
    """
    phones = {_digits(c) for c in profile.contact if "@" not in c and "/" not in c}
    phones.discard("")
    urls = {_url_key(c) for c in profile.contact if "/" in c}
    info_key = _url_key(profile.info_url) if profile.info_url else None
    hits = []
    for r in readings:
        for i, line in enumerate(r.folded):
            numbers = [_digits(m.group()) for m in _PHONE.finditer(line)]
            if any(10 <= len(n) <= 11 for n in numbers) or any(
                p in re.sub(r"\D", "", line) for p in phones
            ):
                hits.append(_Hit(r.part, r.quote(i)))
        for target in r.targets:
            if target not in r.optout and (
                target.address is not None or _url_key(target.url) in urls
            ):
                hits.append(r.hit(target))
        hits += r.pointers(r.wording.contact_topics, info_key)
    return hits
