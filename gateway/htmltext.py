"""The text a reader sees in an HTML part, the links they can follow, and what is hidden.

Display items (sender name, postal address, opt-out link) only count when a
reader can see them, so hidden markup is sorted out here, in one walk over the
tree: the computed style of each element (what visibility needs of it: colour,
background, font size, opacity, visibility, and whether its box is hidden) is
derived from its parent's, and ``hidden_reason`` is the single decision on it.
Hidden text is not thrown away but returned with its reason, as evidence.

CSS comes from inline ``style`` attributes, ``<style>`` blocks (simple
selectors: tag, ``.class``, ``#id``, compounds and descendant chains of them)
and the legacy attributes (``<font color size>``, ``bgcolor``, ``background``,
``<body text link>``), cascaded by importance, origin, specificity and order.
Rules inside ``@media`` (and other at-rules) are left out: whether they apply
depends on the reader's screen and client (many drop them), and responsive
mails use them to hide one of two copies of the same content per device, so
counting them would hide both copies.
"""

from __future__ import annotations

import colorsys
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from lxml import etree, html

# <hr> as a reader sees it: a rule between two blocks (the display policy stops there).
RULE_LINE = "――――――――――"

# Not display text, and no trick either: never rendered nor reported as hidden.
_SKIPPED_TAGS = frozenset(
    (
        "script",
        "style",
        "head",
        "title",
        "template",
        "noscript",
        "meta",
        "link",
        "object",
        "iframe",
    )
)
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
_BGCOLOR_TAGS = frozenset(("body", "table", "thead", "tbody", "tfoot", "tr", "td", "th"))
_SPACE = re.compile(r"[ \t\n\r\f]+")

# Thresholds, each the point below which a reader does not see the text:
# - 6px (4.5pt, 0.375em of the usual 16px) is below any legible font size;
#   <font size=1> is 10px, small but readable.
MIN_FONT_PX = 6.0
# - WCAG contrast ratio 1.5:1 is half its minimum for large text (3:1): #fefefe
#   or #eeeeee on white are under it, #cccccc (1.6) and #777777 (4.5) over.
#   The law asks for display items that are easy to see.
MIN_CONTRAST = 1.5
# - opacity (multiplied down the tree) under 0.1 leaves a ghost of the text.
MIN_OPACITY = 0.1
# - a box at 999px or more to the left of or above the page is off-screen.
OFFSCREEN_PX = -999.0
# - a box 1px or less high or wide, with overflow hidden, shows nothing.
MAX_CLIP_PX = 1.0

Color = tuple[float, float, float, float]  # r, g, b in 0-255, alpha in 0-1
_BLACK: Color = (0.0, 0.0, 0.0, 1.0)
_WHITE: Color = (255.0, 255.0, 255.0, 1.0)
_LINK_BLUE: Color = (0.0, 0.0, 238.0, 1.0)  # the browsers' a:link colour
_TRANSPARENT: Color = (0.0, 0.0, 0.0, 0.0)

# CSS Color Module Level 4 named colours.
_NAMED_COLOR_TABLE = """
    aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff
    beige:f5f5dc bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff
    blueviolet:8a2be2 brown:a52a2a burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00
    chocolate:d2691e coral:ff7f50 cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c
    cyan:00ffff darkblue:00008b darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9
    darkgreen:006400 darkgrey:a9a9a9 darkkhaki:bdb76b darkmagenta:8b008b
    darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc darkred:8b0000
    darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b darkslategray:2f4f4f
    darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 deeppink:ff1493
    deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222
    floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc
    ghostwhite:f8f8ff gold:ffd700 goldenrod:daa520 gray:808080 green:008000
    greenyellow:adff2f grey:808080 honeydew:f0fff0 hotpink:ff69b4 indianred:cd5c5c
    indigo:4b0082 ivory:fffff0 khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5
    lawngreen:7cfc00 lemonchiffon:fffacd lightblue:add8e6 lightcoral:f08080
    lightcyan:e0ffff lightgoldenrodyellow:fafad2 lightgray:d3d3d3 lightgreen:90ee90
    lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a lightseagreen:20b2aa
    lightskyblue:87cefa lightslategray:778899 lightslategrey:778899
    lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6
    magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd
    mediumorchid:ba55d3 mediumpurple:9370db mediumseagreen:3cb371
    mediumslateblue:7b68ee mediumspringgreen:00fa9a mediumturquoise:48d1cc
    mediumvioletred:c71585 midnightblue:191970 mintcream:f5fffa mistyrose:ffe4e1
    moccasin:ffe4b5 navajowhite:ffdead navy:000080 oldlace:fdf5e6 olive:808000
    olivedrab:6b8e23 orange:ffa500 orangered:ff4500 orchid:da70d6 palegoldenrod:eee8aa
    palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093 papayawhip:ffefd5
    peachpuff:ffdab9 peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6
    purple:800080 rebeccapurple:663399 red:ff0000 rosybrown:bc8f8f royalblue:4169e1
    saddlebrown:8b4513 salmon:fa8072 sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee
    sienna:a0522d silver:c0c0c0 skyblue:87ceeb slateblue:6a5acd slategray:708090
    slategrey:708090 snow:fffafa springgreen:00ff7f steelblue:4682b4 tan:d2b48c
    teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0 violet:ee82ee
    wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 yellow:ffff00 yellowgreen:9acd32
    """
_NAMED_COLORS = dict(
    (name, "#" + rgb) for name, rgb in (p.split(":") for p in _NAMED_COLOR_TABLE.split())
)
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNCTION = re.compile(r"(rgba?|hsla?)\(([^)]*)\)")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_LENGTH = re.compile(rf"({_NUMBER})([a-z%]*)")
_LENGTH_UNITS = {
    "": 1.0,  # unitless: px in the quirks mode most mail renders in
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
    "rem": 16.0,
}
_FONT_UNITS = {"em": 1.0, "ex": 0.5, "ch": 0.5}  # times the font size
_FONT_KEYWORDS = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}
# <font size=N>, HTML's legacy font sizes 1-7.
_LEGACY_FONT_SIZES = ("x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large")
# The browsers' own rules that make text smaller.
_SMALLER_TAGS = frozenset(("small", "sub", "sup"))
_FONT_SHORTHAND = re.compile(
    r"(?:^|\s)(0|[\d.]+(?:px|pt|pc|em|rem|ex|ch|in|cm|mm|q|%)|[a-z]+-?[a-z]*)"
    r"(?:\s*/\s*([^\s]+))?(?=\s)"
)
_IMPORTANT = re.compile(r"!\s*important\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_COMPOUND = re.compile(r"(\*|[a-z][\w-]*)?((?:[.#][\w-]+)*)", re.IGNORECASE)
_PROPS = frozenset(
    (
        "display",
        "visibility",
        "mso-hide",
        "opacity",
        "font-size",
        "line-height",
        "color",
        "background-color",
        "background-image",
        "position",
        "left",
        "top",
        "text-indent",
        "margin-left",
        "margin-top",
        "overflow",
        "overflow-x",
        "overflow-y",
        "height",
        "max-height",
        "width",
        "max-width",
        "clip",
        "clip-path",
    )
)
# Cascade origins, weakest first: browser defaults, legacy attributes, <style>, style="".
_UA, _HINT, _SHEET, _INLINE = range(4)
_Key = tuple[bool, int, tuple[int, int, int], int, int]  # important, origin, specificity, order
_Cascaded = dict[str, tuple[_Key, str]]
_Declaration = tuple[str, str, bool]  # property, value, !important


@dataclass(frozen=True, slots=True)
class Style:
    """What visibility needs of an element's computed style, inherited values resolved."""

    color: Color = _BLACK
    background: Color | None = _WHITE  # the colour behind the element; None: an image
    font_px: float = 16.0
    opacity: float = 1.0  # its own times its ancestors'
    visibility: str = "visible"
    box: str | None = None  # why its box, contents and all, is not seen (its own or an ancestor's)
    rendered: bool = True  # False when it or an ancestor makes no box (display:none)


def hidden_reason(style: Style, *, text: bool = True) -> str | None:
    """The one visibility decision: why a reader cannot see an element, None if they can.

    ``text=False`` asks about an image: colour and font size do not hide those.
    """
    if style.box is not None:
        return style.box
    if style.visibility in ("hidden", "collapse"):
        return "visibility:hidden"
    if not text:
        return None
    if style.font_px < MIN_FONT_PX:
        return f"font-size:{_px(style.font_px)}"
    if style.color[3] == 0:
        return "color:transparent"
    if style.background is not None and _faint(style.color, style.background):
        return f"colour {_hex(style.color)} on background {_hex(style.background)}"
    return None


@functools.lru_cache(maxsize=4096)
def _faint(color: Color, background: Color) -> bool:
    """Too little contrast to read; cached, as a mail uses a handful of colour pairs."""
    return contrast_ratio(_over(color, background), background) < MIN_CONTRAST


@functools.lru_cache(maxsize=4096)
def parse_color(value: str) -> Color | None:
    """A CSS colour (hex, rgb(), rgba(), hsl(), a name, transparent); None if it is none."""
    value = value.strip().lower()
    if value in _NAMED_COLORS:
        value = _NAMED_COLORS[value]
    if value == "transparent":
        return _TRANSPARENT
    match = _HEX.fullmatch(value)
    if match is not None:
        digits = match.group(1)
        if len(digits) <= 4:
            digits = "".join(d * 2 for d in digits)
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (
            float(int(digits[0:2], 16)),
            float(int(digits[2:4], 16)),
            float(int(digits[4:6], 16)),
            alpha,
        )
    match = _FUNCTION.fullmatch(value)
    if match is None:
        return None
    args = [a for a in re.split(r"[\s,/]+", match.group(2).strip()) if a]
    if len(args) not in (3, 4):
        return None
    try:
        alpha = _fraction(args[3]) if len(args) == 4 else 1.0
        if match.group(1).startswith("rgb"):
            r, g, b = (float(a[:-1]) * 255 / 100 if a.endswith("%") else float(a) for a in args[:3])
        else:
            hue = float(args[0].removesuffix("deg")) / 360 % 1
            light, sat = _fraction(args[2]), _fraction(args[1])
            r, g, b = (c * 255 for c in colorsys.hls_to_rgb(hue, light, sat))
    except ValueError:
        return None
    return (_clamp(r, 255), _clamp(g, 255), _clamp(b, 255), _clamp(alpha, 1))


def contrast_ratio(first: Color, second: Color) -> float:
    """WCAG 2 contrast ratio of two opaque colours, 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class RenderedHtml:
    """Visible text (one line per block), followable anchors, and the hidden text.

    ``links`` are (href, visible text); ``hidden`` are (text, reason, hrefs), one
    per outermost hidden element, in document order.
    """

    text: str
    links: tuple[tuple[str, str], ...]
    hidden: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


def render(markup: str) -> RenderedHtml:
    """Render HTML to the text a reader sees; never raises."""
    root = _parse(markup)
    if root is None:
        return RenderedHtml("", ())
    rules: list[_Rule] = []
    for style in root.iter("style"):
        rules.extend(_parse_sheet(style.text or "", len(rules)))
    return _Renderer(rules, root).run(root)


# Without huge_tree libxml2 drops the whole document past 256 levels of nesting:
# an easy way for spam to hide its text from policies while browsers show it.
_PARSER = html.HTMLParser(huge_tree=True)
_BYTES_PARSER = html.HTMLParser(huge_tree=True, encoding="utf-8")


def _parse(markup: str) -> html.HtmlElement | None:
    if not markup.strip():
        return None
    try:
        root = html.document_fromstring(markup, parser=_PARSER)
    except (ValueError, etree.ParserError):
        # A str with an XML encoding declaration, or a document libxml2 gives up on.
        try:
            root = html.document_fromstring(markup.encode("utf-8", "replace"), parser=_BYTES_PARSER)
        except (ValueError, etree.ParserError):
            return None
    _into_body(root)
    return root


def _into_body(root: html.HtmlElement) -> None:
    """Move what follows ``</body>`` and ``</html>`` to the end of the body, as readers show it.

    Browsers and mail clients parse HTML as HTML5 does: after ``</body>`` or
    ``</html>`` the parser goes back "in body", so a footer written after
    ``</html>`` shows after the body's content, styled by the body. libxml2
    instead leaves content after ``</body>`` beside the body and puts content
    after ``</html>`` in sibling ``<html>`` roots, which a walk from the root
    never reaches. A second ``<head>`` or ``<body>`` tag there is ignored (its
    content kept), and comments after ``</html>`` stay outside, unrendered.
    """
    roots = [r for r in root.itersiblings() if isinstance(r.tag, str)]
    body = root.find("body")
    if body is None:
        if not roots:
            return
        body = etree.SubElement(root, "body")
    _append_text(body, body.tail)
    body.tail = None
    for node in list(body.itersiblings()):
        body.append(node)  # with its tail
    for extra in roots:
        _append_text(body, extra.text)
        for node in list(extra):
            if node.tag in ("head", "body"):
                _append_text(body, node.text)
                body.extend(list(node))
                _append_text(body, node.tail)
            else:
                body.append(node)


def _append_text(parent: html.HtmlElement, text: str | None) -> None:
    """Text at the end of ``parent``: after its last child, or as its text."""
    if not text:
        return
    last = parent[-1] if len(parent) else None
    if last is None:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


# ---- CSS


@dataclass(frozen=True, slots=True)
class _Compound:
    """One simple selector: ``tag``, ``.class``, ``#id``, ``*``, or a compound of them."""

    tag: str | None
    element_id: str | None
    classes: frozenset[str]

    def matches(self, tag: str, element_id: str | None, classes: frozenset[str]) -> bool:
        return (
            (self.tag is None or self.tag == tag)
            and (self.element_id is None or self.element_id == element_id)
            and self.classes <= classes
        )


@dataclass(frozen=True, slots=True)
class _Rule:
    """A style rule with one selector: descendant chain of compounds, last one the subject."""

    chain: tuple[_Compound, ...]
    specificity: tuple[int, int, int]
    order: int
    declarations: tuple[_Declaration, ...]


def _parse_sheet(css: str, first_order: int) -> list[_Rule]:
    """The top-level rules of a stylesheet that set a property visibility depends on."""
    css = _COMMENT.sub(" ", css).replace("<!--", " ").replace("-->", " ")
    rules: list[_Rule] = []
    depth, start, prelude, quote = 0, 0, "", ""
    for pos, ch in enumerate(css):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == ";" and depth == 0:
            start = pos + 1  # an at-rule statement such as @import
        elif ch == "{":
            if depth == 0:
                prelude, start = css[start:pos].strip(), pos + 1
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                if not prelude.startswith("@"):
                    declarations = tuple(_declarations(css[start:pos]))
                    if declarations:
                        for chain, specificity in _selectors(prelude):
                            order = first_order + len(rules)
                            rules.append(_Rule(chain, specificity, order, declarations))
                start = pos + 1
    return rules


def _selectors(selectors: str) -> Iterator[tuple[tuple[_Compound, ...], tuple[int, int, int]]]:
    """Descendant chains of simple selectors; others (attributes, pseudo-classes, >, +) skipped."""
    for selector in selectors.split(","):
        chain: list[_Compound] = []
        for part in selector.split():
            match = _COMPOUND.fullmatch(part)
            if match is None or not part:
                chain = []
                break
            names = re.findall(r"([.#])([\w-]+)", match.group(2))
            ids = {name for kind, name in names if kind == "#"}
            if len(ids) > 1:
                chain = []
                break
            tag = match.group(1)
            chain.append(
                _Compound(
                    tag=tag.lower() if tag and tag != "*" else None,
                    element_id=ids.pop() if ids else None,
                    classes=frozenset(name for kind, name in names if kind == "."),
                )
            )
        if chain:
            specificity = (
                sum(c.element_id is not None for c in chain),
                sum(len(c.classes) for c in chain),
                sum(c.tag is not None for c in chain),
            )
            yield tuple(chain), specificity


def _declarations(block: str) -> Iterator[_Declaration]:
    """The declarations of a style block that visibility depends on, shorthands expanded."""
    for item in block.split(";"):
        prop, colon, value = item.partition(":")
        if not colon:
            continue
        prop, value = prop.strip().lower(), value.strip()
        match = _IMPORTANT.search(value)
        important = match is not None
        if match is not None:
            value = value[: match.start()].strip()
        for name, longhand in _longhands(prop, value.lower()):
            yield name, longhand, important


@functools.lru_cache(maxsize=4096)
def _inline(style: str) -> tuple[_Declaration, ...]:
    """A style attribute's declarations; mails repeat the same few on every cell."""
    return tuple(_declarations(style))


def _longhands(prop: str, value: str) -> Iterator[tuple[str, str]]:
    if prop in _PROPS:
        yield prop, value
    elif prop == "background":
        colors = (parse_color(token) for token in re.findall(r"\w+\([^)]*\)|#\w+|[a-z]+", value))
        color = next((token for token in colors if token is not None), _TRANSPARENT)
        yield "background-color", f"rgba({color[0]},{color[1]},{color[2]},{color[3]})"
        yield "background-image", value if "(" in value else "none"
    elif prop == "font":
        for match in _FONT_SHORTHAND.finditer(value + " "):
            if _font_px(match.group(1), 16.0) is not None:
                yield "font-size", match.group(1)
                yield "line-height", match.group(2) or "normal"
                break
    elif prop == "margin":
        sides = value.split()
        if 1 <= len(sides) <= 4:
            yield "margin-top", sides[0]
            yield "margin-left", sides[(0, 1, 1, 3)[len(sides) - 1]]


def _font_px(value: str, parent_px: float) -> float | None:
    """A font-size value in px, given the parent's; None if it is not one."""
    if value in _FONT_KEYWORDS:
        return _FONT_KEYWORDS[value]
    if value == "smaller":
        return parent_px / 1.2
    if value == "larger":
        return parent_px * 1.2
    match = _LENGTH.fullmatch(value)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return max(number * parent_px / 100, 0.0)
    if unit in _FONT_UNITS:
        return max(number * parent_px * _FONT_UNITS[unit], 0.0)
    return max(number * _LENGTH_UNITS[unit], 0.0) if unit in _LENGTH_UNITS else None


def _length_px(value: str | None, font_px: float) -> float | None:
    """A length in px (em against the element's font size); None if unknown or relative."""
    match = _LENGTH.fullmatch(value or "")
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit in _FONT_UNITS:
        return number * font_px * _FONT_UNITS[unit]
    return number * _LENGTH_UNITS[unit] if unit in _LENGTH_UNITS else None


def _fraction(value: str) -> float:
    return float(value[:-1]) / 100 if value.endswith("%") else float(value)


def _clamp(value: float, top: float) -> float:
    return min(max(value, 0.0), top)


def _over(color: Color, background: Color) -> Color:
    """A translucent colour as it shows over an opaque background."""
    alpha = color[3]
    r, g, b = (color[i] * alpha + background[i] * (1 - alpha) for i in range(3))
    return (r, g, b, 1.0)


def _luminance(color: Color) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color[0]) + 0.7152 * linear(color[1]) + 0.0722 * linear(color[2])


def _hex(color: Color) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in color[:3])


def _px(value: float) -> str:
    return "0" if value == 0 else f"{value:.3g}px"


def _box_reason(
    values: Mapping[str, str], origins: Mapping[str, int], font_px: float, opacity: float
) -> str | None:
    """Why an element's own box, with all it holds, is not seen; None if it may be."""
    if values.get("display") == "none":
        return "hidden attribute" if origins["display"] == _UA else "display:none"
    if values.get("mso-hide") == "all":
        return "mso-hide:all"
    if opacity < MIN_OPACITY:
        return f"opacity:{opacity:.2g}"
    positioned = values.get("position") in ("absolute", "fixed")
    for prop in ("left", "top", "text-indent", "margin-left", "margin-top"):
        if prop in ("left", "top") and not positioned:
            continue
        offset = _length_px(values.get(prop), font_px)
        if offset is not None and offset <= OFFSCREEN_PX:
            return f"off-screen ({prop}:{values[prop]})"
    overflow = {
        t for p in ("overflow", "overflow-x", "overflow-y") for t in values.get(p, "").split()
    }
    if overflow & {"hidden", "clip"}:
        for prop in ("height", "max-height", "width", "max-width", "line-height"):
            size = _length_px(values.get(prop), font_px)
            if size is not None and size <= (0 if prop == "line-height" else MAX_CLIP_PX):
                return f"clipped ({prop}:{values[prop]}, overflow:hidden)"
    clip = re.fullmatch(r"rect\(([^)]*)\)", values.get("clip", ""))
    if positioned and clip is not None:
        edges = [_length_px(v, font_px) for v in re.split(r"[\s,]+", clip.group(1).strip())]
        if len(edges) == 4 and None not in edges:
            top, right, bottom, left = (e or 0.0 for e in edges)
            if bottom <= top or right <= left:
                return f"clipped (clip:{values['clip']})"
    clip_path = values.get("clip-path", "")
    inset = re.fullmatch(r"inset\(\s*([\d.]+)%.*\)", clip_path)
    if (inset is not None and float(inset.group(1)) >= 50) or re.fullmatch(
        r"(circle|ellipse)\(\s*0(px|%)?\b.*\)", clip_path
    ):
        return f"clipped (clip-path:{clip_path})"
    return None


# ---- the walk


class _Sink:
    """Text in document order, with the block breaks a reader sees."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def emit(self, text: str | None, pre: bool) -> None:
        if text:
            self.out.append(text.replace("\r\n", "\n") if pre else _SPACE.sub(" ", text))

    def block_break(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def rendered(self) -> str:
        lines = (_SPACE.sub(" ", line).strip() for line in "".join(self.out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


class _HiddenRun(_Sink):
    """The text of one outermost hidden element (minus what shows again inside it)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
        self.links: list[str] = []


@dataclass(frozen=True, slots=True)
class _Frame:
    """An element being walked: its computed style and where its text goes."""

    style: Style
    progress: tuple[int, ...]  # per descendant rule: how many of its ancestors matched so far
    sink: _Sink
    run: _HiddenRun | None  # the hidden element's text it belongs to, None when visible


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where the visible text, images and hidden runs stood when an <a href> opened."""

    href: str
    text: int
    images: int
    runs: int


class _Renderer:
    """One iterative walk: computed style, visible text, anchors, hidden runs."""

    def __init__(self, rules: list[_Rule], root: html.HtmlElement) -> None:
        self.chains: list[_Rule] = []
        self.index: dict[str, list[tuple[int, _Rule]]] = {}
        for rule in rules:
            subject = rule.chain[-1]
            if subject.element_id is not None:
                key = "#" + subject.element_id
            elif subject.classes:
                key = "." + min(subject.classes)
            else:
                key = subject.tag or "*"
            chain_index = -1
            if len(rule.chain) > 1:
                chain_index = len(self.chains)
                self.chains.append(rule)
            self.index.setdefault(key, []).append((chain_index, rule))
        body = root.find("body")
        link = parse_color(body.get("link", "")) if body is not None else None
        self.link_color = link if link is not None else _LINK_BLUE
        self.visible = _Sink()
        self.runs: list[_HiddenRun] = []
        self.links: list[tuple[str, str]] = []
        self.images = 0
        self.pre = 0
        self._computed: dict[object, tuple[Style, tuple[int, ...]]] = {}

    def run(self, root: html.HtmlElement) -> RenderedHtml:
        self.walk(root)
        hidden = tuple(
            (text, run.reason, tuple(run.links))
            for run in self.runs
            if (text := run.rendered()) or run.links
        )
        return RenderedHtml(self.visible.rendered(), tuple(self.links), hidden)

    def walk(self, root: html.HtmlElement) -> None:
        # Iterative: spam nests thousands of <div>s deep.
        top = _Frame(Style(), (0,) * len(self.chains), self.visible, None)
        stack: list[tuple[html.HtmlElement, _Frame, _Frame | None, _Anchor | None]] = [
            (root, top, None, None)
        ]
        while stack:
            node, parent, frame, anchor = stack.pop()
            if frame is not None:
                self.leave(node, parent, frame, anchor)
                continue
            if not isinstance(node.tag, str) or node.tag in _SKIPPED_TAGS:
                parent.sink.emit(node.tail, self.pre > 0)  # comments too
                continue
            frame = self.enter(node, parent)
            href = (node.get("href") or "").strip() if node.tag == "a" else ""
            if href:
                anchor = _Anchor(href, len(self.visible.out), self.images, len(self.runs))
            stack.append((node, parent, frame, anchor))
            frame.sink.emit(node.text, self.pre > 0)
            stack.extend((child, frame, None, None) for child in reversed(node))

    def enter(self, node: html.HtmlElement, parent: _Frame) -> _Frame:
        style, progress = self.compute(node, parent)
        reason = hidden_reason(style)
        if reason is None:
            frame = _Frame(style, progress, self.visible, None)
        elif parent.run is not None:
            frame = _Frame(style, progress, parent.run, parent.run)
        else:
            run = _HiddenRun(reason)
            self.runs.append(run)
            frame = _Frame(style, progress, run, run)
        tag = node.tag
        if tag in _BLOCK_TAGS:
            self.block_break(frame)
            if tag == "hr":
                frame.sink.out.append(RULE_LINE + "\n")
        elif tag in _CELL_TAGS:
            frame.sink.emit(" ", False)
        elif tag == "br":
            frame.sink.out.append("\n")
            if frame.run is not None and style.rendered:
                self.visible.out.append("\n")
        elif tag == "img" and hidden_reason(style, text=False) is None and _sized(node):
            self.images += 1
        if tag == "pre":
            self.pre += 1
        return frame

    def leave(
        self, node: html.HtmlElement, parent: _Frame, frame: _Frame, anchor: _Anchor | None
    ) -> None:
        if anchor is not None:
            self.link(anchor, frame)
        if node.tag == "pre":
            self.pre -= 1
        if node.tag in _BLOCK_TAGS:
            self.block_break(frame)
        parent.sink.emit(node.tail, self.pre > 0)

    def block_break(self, frame: _Frame) -> None:
        """A block breaks the line where it lays out, even when its text is not seen."""
        frame.sink.block_break()
        if frame.run is not None and frame.style.rendered:
            self.visible.block_break()

    def link(self, anchor: _Anchor, frame: _Frame) -> None:
        """A link is followable when some of it shows: text or an image (alt text does not)."""
        text = _SPACE.sub(" ", "".join(self.visible.out[anchor.text :])).strip()
        if text or self.images > anchor.images:
            self.links.append((anchor.href, text))
        elif frame.run is not None:
            frame.run.links.append(anchor.href)
        elif len(self.runs) > anchor.runs:
            self.runs[anchor.runs].links.append(anchor.href)
        else:
            run = _HiddenRun("link with nothing visible")
            run.links.append(anchor.href)
            self.runs.append(run)

    def compute(self, node: html.HtmlElement, parent: _Frame) -> tuple[Style, tuple[int, ...]]:
        """The element's computed style from the cascade and its parent's style.

        It depends on nothing but the tag, the attributes, the parent's style and
        the progress of the descendant rules, so elements alike in all of those
        (the rows and cells of a mail template) are computed once.
        """
        key = (node.tag, tuple(node.attrib.items()), parent.style, parent.progress)
        known = self._computed.get(key)
        if known is None:
            known = self._computed[key] = self._compute(node, parent)
        return known

    def _compute(self, node: html.HtmlElement, parent: _Frame) -> tuple[Style, tuple[int, ...]]:
        tag = str(node.tag)
        element_id = node.get("id")
        classes = frozenset((node.get("class") or "").split())
        cascaded: _Cascaded = {}
        _cascade(cascaded, _UA, self.defaults(node, tag))
        _cascade(cascaded, _HINT, _hints(node, tag))
        candidates = [self.index.get(f"#{element_id}", []), self.index.get(tag, [])]
        candidates += [self.index.get(f".{name}", []) for name in classes]
        candidates.append(self.index.get("*", []))
        for bucket in candidates if self.index else ():
            for chain_index, rule in bucket:
                if not rule.chain[-1].matches(tag, element_id, classes):
                    continue
                if chain_index >= 0 and parent.progress[chain_index] < len(rule.chain) - 1:
                    continue
                _cascade(cascaded, _SHEET, rule.declarations, rule.specificity, rule.order)
        _cascade(cascaded, _INLINE, _inline(node.get("style") or ""))
        progress = tuple(
            p + 1
            if p < len(rule.chain) - 1 and rule.chain[p].matches(tag, element_id, classes)
            else p
            for p, rule in zip(parent.progress, self.chains, strict=True)
        )
        if not cascaded:  # most elements: nothing of their own, all inherited
            return parent.style, progress
        values = {prop: value for prop, (_, value) in cascaded.items()}
        origins = {prop: key[1] for prop, (key, _) in cascaded.items()}
        return _computed(values, origins, parent.style), progress

    def defaults(self, node: html.HtmlElement, tag: str) -> Iterator[_Declaration]:
        """The browsers' own stylesheet, as far as visibility needs it."""
        if node.get("hidden") is not None:
            yield "display", "none", False
        if tag == "a" and node.get("href") is not None:
            yield "color", "rgba({},{},{},{})".format(*self.link_color), False
        if tag in _SMALLER_TAGS:
            yield "font-size", "smaller", False


def _cascade(
    cascaded: _Cascaded,
    origin: int,
    declarations: Iterable[_Declaration],
    specificity: tuple[int, int, int] = (0, 0, 0),
    order: int = 0,
) -> None:
    """Keep, per property, the declaration that wins: importance, origin, specificity, order."""
    for position, (prop, value, important) in enumerate(declarations):
        key: _Key = (important, origin, specificity, order, position)
        if prop not in cascaded or key >= cascaded[prop][0]:
            cascaded[prop] = (key, value)


def _hints(node: html.HtmlElement, tag: str) -> Iterator[_Declaration]:
    """Legacy presentational attributes, which any CSS overrides."""
    if tag == "font":
        if node.get("color"):
            yield "color", _legacy_color(node.get("color", "")), False
        size = re.fullmatch(r"\s*([+-]?)(\d+)\s*", node.get("size", ""))
        if size is not None:
            number = int(size.group(2))
            number = 3 + number if size.group(1) == "+" else 3 - number if size.group(1) else number
            yield "font-size", _LEGACY_FONT_SIZES[min(max(number, 1), 7) - 1], False
    if tag == "body" and node.get("text"):
        yield "color", _legacy_color(node.get("text", "")), False
    if tag in _BGCOLOR_TAGS and node.get("bgcolor"):
        yield "background-color", _legacy_color(node.get("bgcolor", "")), False
    if tag in ("body", "table", "td", "th") and node.get("background"):
        yield "background-image", "url", False
    if tag == "img":
        for prop in ("width", "height"):
            if node.get(prop):
                yield prop, node.get(prop, "").strip().lower(), False


def _legacy_color(value: str) -> str:
    """HTML attributes also take a hex colour without its "#"."""
    value = value.strip().lower()
    return "#" + value if re.fullmatch(r"[0-9a-f]{6}|[0-9a-f]{3}", value) else value


def _sized(node: html.HtmlElement) -> bool:
    """Whether an image is bigger than a tracking pixel (or has no size given)."""
    for prop in ("width", "height"):
        size = _length_px(node.get(prop, "").strip().lower() or None, 16.0)
        if size is not None and size <= MAX_CLIP_PX:
            return False
    return True


def _computed(values: Mapping[str, str], origins: Mapping[str, int], parent: Style) -> Style:
    """Resolve cascaded values against the parent's computed style."""
    font = values.get("font-size", "inherit")
    font_px = parent.font_px if font == "inherit" else _font_px(font, parent.font_px)
    if font_px is None:
        font_px = parent.font_px
    color_value = values.get("color", "inherit")
    color = (
        parent.color if color_value in ("inherit", "currentcolor") else parse_color(color_value)
    ) or parent.color
    background = parent.background
    if values.get("background-image", "none") not in ("none", "initial"):
        background = None  # an image: the text may show on it whatever the colours
    else:
        own = parse_color(values.get("background-color", "transparent"))
        if own is not None and own[3] > 0:
            background = (
                _over(own, background) if background is not None else own if own[3] == 1 else None
            )
    try:
        own_opacity = _clamp(_fraction(values.get("opacity", "1")), 1)
    except ValueError:
        own_opacity = 1.0
    opacity = parent.opacity * own_opacity
    visibility = values.get("visibility", "inherit")
    if visibility not in ("visible", "hidden", "collapse"):
        visibility = parent.visibility
    box = parent.box or _box_reason(values, origins, font_px, opacity)
    removed = values.get("display") == "none" or values.get("mso-hide") == "all"
    return Style(
        color=color,
        background=background,
        font_px=font_px,
        opacity=opacity,
        visibility=visibility,
        box=box,
        rendered=parent.rendered and not removed,
    )
