"""The text a reader sees in an HTML part, and the links they can follow.

Display items (sender name, postal address, opt-out link) only count when a
reader can see them, so hidden markup is dropped here, in one place:
``is_hidden`` is the single visibility decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree, html

_INVISIBLE_TAGS = frozenset(
    ("script", "style", "head", "title", "template", "meta", "link", "object", "iframe")
)
# <hr> as a reader sees it: a rule between two blocks (the display policy stops there).
RULE_LINE = "――――――――――"

_BLOCK_TAGS = frozenset(
    (
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    )
)
_CELL_TAGS = frozenset(("td", "th"))
_SPACE = re.compile(r"[ \t\n\r\f]+")
_ZERO = re.compile(r"^[+-]?0*\.?0*(?:px|pt|em|rem|%|ex|ch|vw|vh)?$")


@dataclass(frozen=True)
class HiddenRule:
    """A simple selector (``tag``, ``.class``, ``#id`` or a compound of them) that hides."""

    tag: str | None
    element_id: str | None
    classes: frozenset[str]

    def matches(self, element: html.HtmlElement) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        if self.element_id is not None and element.get("id") != self.element_id:
            return False
        return not self.classes or self.classes <= set((element.get("class") or "").split())


@dataclass(frozen=True)
class RenderedHtml:
    """Visible text (one line per block) and the (href, visible text) of followable anchors."""

    text: str
    links: tuple[tuple[str, str], ...]


def hides(style: str) -> bool:
    """Whether CSS declarations make an element invisible to a reader."""
    for declaration in style.split(";"):
        prop, _, value = declaration.partition(":")
        prop = prop.strip().lower()
        value = value.lower().replace("!important", "").strip()
        if (
            (prop == "display" and value == "none")
            or (prop == "visibility" and value in ("hidden", "collapse"))
            or (prop in ("font-size", "opacity") and _ZERO.match(value) is not None and value)
        ):
            return True
    return False


def is_hidden(element: html.HtmlElement, rules: Iterable[HiddenRule] = ()) -> bool:
    """The one visibility decision: tag, ``hidden`` attribute, inline style, <style> rules."""
    if not isinstance(element.tag, str) or element.tag in _INVISIBLE_TAGS:
        return True  # comments and processing instructions too
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    if style and hides(style):
        return True
    return any(rule.matches(element) for rule in rules)


def hidden_rules(css: str) -> list[HiddenRule]:
    """Top-level rules of a stylesheet whose simple selectors hide elements.

    Rules inside @media and other at-rules are conditional (often mobile-only)
    and are left out; complex selectors (descendant, attribute) are ignored.
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules: list[HiddenRule] = []
    depth, start, selector = 0, 0, ""
    for pos, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                selector = css[start:pos]
                start = pos + 1
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                if not selector.strip().startswith("@") and hides(css[start:pos]):
                    rules.extend(_simple_selectors(selector))
                start = pos + 1
    return rules


def _simple_selectors(selectors: str) -> Iterable[HiddenRule]:
    for selector in selectors.split(","):
        match = re.fullmatch(r"\s*([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)\s*", selector)
        if match is None or not (match.group(1) or match.group(2)):
            continue
        parts = re.findall(r"([.#])([\w-]+)", match.group(2))
        ids = [name for kind, name in parts if kind == "#"]
        if len(ids) > 1:
            continue
        yield HiddenRule(
            tag=match.group(1).lower() if match.group(1) else None,
            element_id=ids[0] if ids else None,
            classes=frozenset(name for kind, name in parts if kind == "."),
        )


def render(markup: str) -> RenderedHtml:
    """Render HTML to the text a reader sees; never raises."""
    root = _parse(markup)
    if root is None:
        return RenderedHtml("", ())
    rules = [rule for style in root.iter("style") for rule in hidden_rules(style.text or "")]
    return _Renderer(rules).run(root)


# Without huge_tree libxml2 drops the whole document past 256 levels of nesting:
# an easy way for spam to hide its text from policies while browsers show it.
_PARSER = html.HTMLParser(huge_tree=True)
_BYTES_PARSER = html.HTMLParser(huge_tree=True, encoding="utf-8")


def _parse(markup: str) -> html.HtmlElement | None:
    if not markup.strip():
        return None
    try:
        return html.document_fromstring(markup, parser=_PARSER)
    except (ValueError, etree.ParserError):
        # A str with an XML encoding declaration, or a document libxml2 gives up on.
        try:
            return html.document_fromstring(markup.encode("utf-8", "replace"), parser=_BYTES_PARSER)
        except (ValueError, etree.ParserError):
            return None


class _Renderer:
    """One walk over the tree: visible text in document order, block breaks, anchors."""

    def __init__(self, rules: list[HiddenRule]) -> None:
        self.rules = rules
        self.out: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.pre = 0

    def run(self, root: html.HtmlElement) -> RenderedHtml:
        self.walk(root)
        lines = (_SPACE.sub(" ", line).strip() for line in "".join(self.out).split("\n"))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        return RenderedHtml(text, tuple(self.links))

    def emit(self, text: str | None) -> None:
        if not text:
            return
        if self.pre:
            self.out.append(text.replace("\r\n", "\n"))
        else:
            self.out.append(_SPACE.sub(" ", text))

    def block_break(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def walk(self, element: html.HtmlElement) -> None:
        # Iterative: spam nests thousands of <div>s deep.
        stack: list[tuple[html.HtmlElement, bool, int]] = [(element, False, 0)]
        while stack:
            node, leaving, mark = stack.pop()
            if leaving:
                self.leave(node, mark)
                continue
            if node is not element and is_hidden(node, self.rules):
                self.emit(node.tail)
                continue
            tag = node.tag
            if tag in _BLOCK_TAGS:
                self.block_break()
                if tag == "hr":
                    self.out.append(RULE_LINE + "\n")
            elif tag in _CELL_TAGS:
                self.emit(" ")
            elif tag == "br":
                self.out.append("\n")
            if tag == "pre":
                self.pre += 1
            stack.append((node, True, len(self.out)))
            self.emit(node.text)
            stack.extend((child, False, 0) for child in reversed(node))

    def leave(self, node: html.HtmlElement, mark: int) -> None:
        tag = node.tag
        if tag == "a" and node.get("href"):
            text = _SPACE.sub(" ", "".join(self.out[mark:])).strip()
            if not text:
                text = " ".join(img.get("alt", "").strip() for img in node.iter("img")).strip()
            self.links.append((node.get("href", "").strip(), text))
        if tag == "pre":
            self.pre -= 1
        if tag in _BLOCK_TAGS:
            self.block_break()
        self.emit(node.tail)
