"""What a mail is for the law: advertising, an ad riding on another mail, or neither (S1, O3).

The client may declare it (``X-Tokuden-Category``), the sender profile may fix
it, and only then do content cues decide. Cues fail safe: a commercial sender's
mail that shows no transactional purpose is advertising, so the stricter
duties apply.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from gateway.api import Category, Classification, ParsedMessage, SenderProfile, nfkc

CATEGORY_HEADER = "X-Tokuden-Category"
CUES_FILE = "classify_cues.toml"


@dataclass(frozen=True)
class _Cue:
    """A lexicon word as written (for the reason) and the pattern that finds it."""

    word: str
    folded: str  # what the pattern looks for, so that ``in`` can rule most cues out first
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, word: str) -> _Cue:
        """Latin-edged cues match whole words only, so "sale" does not fire on "wholesale"."""
        folded = _fold(word)
        head = r"(?<![a-z0-9])" if folded[:1].isascii() and folded[:1].isalnum() else ""
        tail = r"(?![a-z0-9])" if folded[-1:].isascii() and folded[-1:].isalnum() else ""
        return cls(word, folded, re.compile(head + re.escape(folded) + tail))

    def found_in(self, text: str) -> bool:
        """A substring test first: most cues are absent, and ``in`` is ten times a search."""
        return self.folded in text and self.pattern.search(text) is not None


@dataclass(frozen=True)
class _Lexicon:
    transactional: tuple[_Cue, ...]
    promotional: tuple[_Cue, ...]
    weak_promotional: tuple[_Cue, ...]


def _fold(text: str, *, normalized: bool = False) -> str:
    """NFKC folds full-width letters and half-width kana; case and spacing do not matter.

    ``normalized`` says the text is NFKC already (the message's own view, made once).
    """
    return " ".join((text if normalized else nfkc(text)).casefold().split())


def _cues(table: object, key: str) -> tuple[_Cue, ...]:
    words = table.get(key) if isinstance(table, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"{CUES_FILE}: {key!r} must be a list of non-empty strings")
    return tuple(_Cue.of(w) for w in words)


def _load_lexicon() -> _Lexicon:
    data = tomllib.loads(resources.files("gateway").joinpath(CUES_FILE).read_text("utf-8"))
    return _Lexicon(
        transactional=_cues(data.get("transactional"), "cues"),
        promotional=_cues(data.get("promotional"), "cues"),
        weak_promotional=_cues(data.get("promotional"), "weak"),
    )


_LEXICON = _load_lexicon()


def classify(message: ParsedMessage, profile: SenderProfile) -> Classification:
    """Header first (the client knows its mail), then the profile, then content cues."""
    declared, rejected = _declared(message)
    if declared is not None:
        return Classification(declared, "header", f"{CATEGORY_HEADER}: {declared}")
    note = f"; ignored {rejected}" if rejected else ""
    if profile.default_category is not None:
        return Classification(
            profile.default_category,
            "profile",
            f"profile {profile.name} declares {profile.default_category}{note}",
        )
    category, reason = _by_content(message)
    return Classification(category, "content", reason + note)


def _declared(message: ParsedMessage) -> tuple[Category | None, str]:
    """The declared category, or None and why the header was not taken."""
    low = CATEGORY_HEADER.lower()
    values = [value.strip() for name, value in message.headers if name.lower() == low]
    if not values:
        return None, ""
    found = {value.lower() for value in values}
    shown = ", ".join(repr(v) for v in values)
    if len(found) > 1:
        return None, f"conflicting {CATEGORY_HEADER} values {shown}"
    try:
        return Category(found.pop()), ""
    except ValueError:
        return None, f"invalid {CATEGORY_HEADER} value {shown}"


def _by_content(message: ParsedMessage) -> tuple[Category, str]:
    text = _fold(message.subject) + " " + _fold(message.normalized, normalized=True)
    transactional = _found(_LEXICON.transactional, text)
    promotional = _found(_LEXICON.promotional, text)
    weak = _found(_LEXICON.weak_promotional, text)
    cues = [
        *_describe("transactional", transactional),
        *_describe("promotional", promotional),
        *_describe("weak promotional", weak),
    ]
    if transactional and not promotional:
        return Category.NON_ADVERTISING, "; ".join(cues)
    if transactional:
        return Category.INCIDENTAL, "; ".join(cues)
    if not cues:
        return (
            Category.ADVERTISING,
            "no transactional cue: a commercial sender's mail is advertising",
        )
    return Category.ADVERTISING, "; ".join([*cues, "no transactional cue"])


def _found(cues: tuple[_Cue, ...], text: str) -> list[str]:
    """The cues in ``text``: one pass finds the words that stand in it, then only those
    cues (and any a found word may have hidden by overlapping it) are checked in full."""
    words, hidden_by = _any_of(cues)
    seen = {m[0] for m in words.finditer(text)}
    if not seen:
        return []
    return [
        cue.word
        for cue in cues
        if (cue.folded in seen or not hidden_by[cue.folded].isdisjoint(seen)) and cue.found_in(text)
    ]


@cache
def _any_of(cues: tuple[_Cue, ...]) -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """One pattern for where any cue's words stand (edges aside), and for each word the
    others that may hide it from that pass: it stands inside one of them, or runs on from
    its end (a suffix of the other is a prefix of the word). Nowhere else can it hide."""
    words = [cue.folded for cue in cues]
    hidden_by = {
        word: frozenset(
            other
            for other in words
            if other != word
            and (word in other or any(other.endswith(word[:k]) for k in range(1, len(word))))
        )
        for word in words
    }
    return re.compile("|".join(map(re.escape, words)) or "(?!)"), hidden_by


def _describe(kind: str, words: list[str]) -> list[str]:
    return [f"{kind} cues: {', '.join(words)}"] if words else []
