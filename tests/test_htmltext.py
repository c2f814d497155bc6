"""HTML rendering: what a reader sees, line by line, and the links they can follow."""

from __future__ import annotations

import pytest

from gateway.htmltext import RULE_LINE, contrast_ratio, parse_color, render


def test_block_elements_become_lines() -> None:
    html = (
        "<html><body><h1>Title</h1><p>First <b>para</b></p><div>Second</div>"
        "one<br>two<ul><li>a</li><li>b</li></ul>"
        "<table><tr><td>x</td><td>y</td></tr><tr><td>z</td></tr></table></body></html>"
    )
    assert render(html).text.split("\n") == [
        "Title",
        "First para",
        "Second",
        "one",
        "two",
        "a",
        "b",
        "x y",
        "z",
    ]


def test_whitespace_collapsed_within_lines_and_entities_decoded() -> None:
    assert render("<p>  a \n\t b &amp; c&nbsp;&lt;d&gt;  </p>").text == "a b & c\xa0<d>"


def test_pre_keeps_its_line_breaks() -> None:
    assert render("<pre>a\n  b</pre>").text == "a\nb"


def test_links_with_visible_text_in_order() -> None:
    html = (
        '<p><a href="https://shop.example/sale">セール<b>会場</b></a> and '
        '<a href="mailto:info@shop.example">お問い合わせ</a>'
        '<a href=" https://shop.example/x "><img alt="Banner"></a><a name="anchor">no</a></p>'
    )
    # An image's alt text is not shown (only when the image fails to load), so a
    # banner link is followable but has no visible text.
    assert render(html).links == (
        ("https://shop.example/sale", "セール会場"),
        ("mailto:info@shop.example", "お問い合わせ"),
        ("https://shop.example/x", ""),
    )


def test_hidden_links_are_not_links() -> None:
    html = '<div style="display:none"><a href="https://stop.example/">stop</a></div>'
    rendered = render(html)
    assert rendered.links == ()
    assert rendered.hidden == (("stop", "display:none", ("https://stop.example/",)),)


def test_empty_and_broken_markup_never_raise() -> None:
    assert render("").text == ""
    assert render("   ").text == ""
    assert render('<?xml version="1.0" encoding="utf-8"?><p>x</p>').text == "x"
    assert render("<p><div><b>unclosed").text == "unclosed"


def test_deep_nesting_keeps_text() -> None:
    # libxml2's default limit (256 levels) would drop the whole document.
    html = "<div>" * 1000 + "deep" + "</div>" * 1000 + "<p>after</p>"
    assert render(html).text == "deep\nafter"


def test_content_after_closing_html_is_shown_after_the_body() -> None:
    """HTML5 parsing (what browsers and mail clients do) goes back "in body" after </html>:
    a footer written after </html> is shown, after the body's content."""
    html = (
        "<html><body><p>冬のセール開催中です。</p></body></html>\r\n"
        '<p>配信停止は<a href="https://shop.example/stop">こちら</a></p>trailing <b>text</b>'
    )
    rendered = render(html)
    assert rendered.text.split("\n") == [
        "冬のセール開催中です。",
        "配信停止はこちら",
        "trailing text",
    ]
    assert rendered.links == (("https://shop.example/stop", "こちら"),)


def test_second_body_and_style_after_closing_html() -> None:
    """A second <body> tag after </html> is ignored, its content kept; a <style> there applies
    (HTML5 puts it in the body), and a comment there is not text."""
    html = (
        "<html><body><p>a</p></body></html><!-- note -->"
        "<body><style>.gone{display:none}</style><p>b</p><p class=gone>c</p></body>"
    )
    rendered = render(html)
    assert rendered.text.split("\n") == ["a", "b"]
    assert rendered.hidden == (("c", "display:none", ()),)


def test_content_after_closing_body_takes_the_body_style() -> None:
    """After </body> the content goes into the body, on its background: black text after a
    black body is not seen (and white text is)."""
    body = '<html><body style="background-color:#000000;color:#ffffff"><p>a</p></body>'
    rendered = render(body + '<p style="color:#000000">dark</p><p>light</p></html>')
    assert rendered.text.split("\n") == ["a", "light"]
    assert rendered.hidden == (("dark", "colour #000000 on background #000000", ()),)


def test_hr_is_a_rule_line_between_blocks() -> None:
    rendered = render("<p>sale https://shop.example/sale</p><hr><p>配信停止はこちら</p>")
    assert rendered.text.splitlines() == [
        "sale https://shop.example/sale",
        RULE_LINE,
        "配信停止はこちら",
    ]


# ---- what a reader cannot see: left out of the text and links, reported with a reason

STOP = "https://stop.example/"


def test_non_display_markup_is_neither_text_nor_hidden() -> None:
    # Not tricks: the document's machinery, never shown, so not reported either.
    html = (
        "<html><head><title>secret</title><style>p { color: red }</style></head><body>"
        "<script>var x = 'secret';</script><template>secret</template><!-- secret -->"
        "<noscript>secret</noscript><p>shown</p></body></html>"
    )
    rendered = render(html)
    assert (rendered.text, rendered.links, rendered.hidden) == ("shown", (), ())


@pytest.mark.parametrize(
    ("open_tag", "reason"),
    [
        ('<div style="display:none">', "display:none"),
        ('<div style="DISPLAY: none !important">', "display:none"),
        ("<div hidden>", "hidden attribute"),
        ('<span style="visibility:hidden">', "visibility:hidden"),
        ('<div style="mso-hide:all">', "mso-hide:all"),
        ('<span style="font-size:0">', "font-size:0"),
        ('<span style="font-size: 0px">', "font-size:0"),
        ('<span style="font-size:5px">', "font-size:5px"),
        ('<span style="font-size:3pt">', "font-size:4px"),
        ('<span style="font-size:0.25em">', "font-size:4px"),
        ('<div style="font: 0/0 a">', "font-size:0"),
        ('<span style="opacity:0">', "opacity:0"),
        ('<span style="opacity:0.05">', "opacity:0.05"),
        ('<div style="position:absolute; left:-9999px">', "off-screen (left:-9999px)"),
        ('<div style="position:fixed; top:-2000px">', "off-screen (top:-2000px)"),
        ('<div style="text-indent:-9999px">', "off-screen (text-indent:-9999px)"),
        ('<div style="margin-left:-5000px">', "off-screen (margin-left:-5000px)"),
        ('<div style="margin:0 0 0 -5000px">', "off-screen (margin-left:-5000px)"),
        ('<div style="max-height:0; overflow:hidden">', "clipped (max-height:0, overflow:hidden)"),
        ('<div style="height:0px;overflow:hidden">', "clipped (height:0px, overflow:hidden)"),
        ('<div style="width:0;overflow:hidden">', "clipped (width:0, overflow:hidden)"),
        ('<div style="line-height:0;overflow:hidden">', "clipped (line-height:0, overflow:hidden)"),
        ('<div style="position:absolute;clip:rect(0,0,0,0)">', "clipped (clip:rect(0,0,0,0))"),
        (
            '<div style="position:absolute;width:1px;height:1px;overflow:hidden">',
            "clipped (height:1px, overflow:hidden)",
        ),
        ('<div style="clip-path: inset(50%)">', "clipped (clip-path:inset(50%))"),
        ('<span style="color:transparent">', "color:transparent"),
        ('<span style="color:rgba(0, 0, 0, 0)">', "color:transparent"),
        ('<span style="color:#ffffff">', "colour #ffffff on background #ffffff"),
        ('<span style="color:rgb(255 255 255)">', "colour #ffffff on background #ffffff"),
        ('<font color="white">', "colour #ffffff on background #ffffff"),
        ('<font color="ffffff">', "colour #ffffff on background #ffffff"),
    ],
)
def test_hiding_trick(open_tag: str, reason: str) -> None:
    tag = open_tag[1:].split()[0].rstrip(">")
    html = f'<p>shown</p>{open_tag}secret <a href="{STOP}" style="color:inherit">stop</a></{tag}>'
    rendered = render(html)
    assert rendered.text == "shown"
    assert rendered.links == ()
    assert rendered.hidden == (("secret stop", reason, (STOP,)),)


@pytest.mark.parametrize(
    "open_tag",
    [
        '<span style="font-size:6px">',  # the threshold itself is readable
        '<span style="font-size:4.5pt">',  # = 6px
        "<font size=1>",  # 10px: small print, but print
        '<font size="-2">',  # the same size 1
        '<span style="opacity:0.5">',
        '<div style="height:0">',  # overflows its box and shows
        '<div style="line-height:0">',  # lines overlap but show
        '<div style="left:-9999px">',  # left moves only a positioned box
        '<div style="clip:rect(0,0,0,0)">',  # clip applies only to a positioned box
        '<span style="color:#777777">',  # 4.5:1 on white
        '<span style="color:#cccccc">',  # 1.6:1 on white: faint but there
    ],
)
def test_look_alike_that_shows(open_tag: str) -> None:
    tag = open_tag[1:].split()[0].rstrip(">")
    rendered = render(f"<p>shown</p>{open_tag}small</{tag}>")
    assert rendered.text.split() == ["shown", "small"]
    assert rendered.hidden == ()


def test_near_equal_colours() -> None:
    rendered = render(
        '<p style="color:#fefefe">near white</p><p style="color:#eeeeee">pale</p>'
        '<p style="color:#777777">grey</p>'
    )
    assert rendered.text == "grey"
    assert rendered.hidden == (
        ("near white", "colour #fefefe on background #ffffff", ()),
        ("pale", "colour #eeeeee on background #ffffff", ()),
    )


def test_dark_background_from_body_bgcolor() -> None:
    rendered = render(
        '<body bgcolor="#000000" text="#ffffff"><p>white</p><p style="color:#111">dark</p></body>'
    )
    assert rendered.text == "white"
    assert rendered.hidden == (("dark", "colour #111111 on background #000000", ()),)


def test_background_inherited_from_table_cell_bgcolor() -> None:
    html = (
        '<table bgcolor="#ffffff"><tr><td bgcolor="#003366"><p>'
        '<span style="color:#003366">gone</span> <font color="#ffffff">white on blue</font>'
        "</p></td><td><font color=white>white on white</font></td></tr></table>"
    )
    rendered = render(html)
    assert rendered.text == "white on blue"
    assert rendered.hidden == (
        ("gone", "colour #003366 on background #003366", ()),
        ("white on white", "colour #ffffff on background #ffffff", ()),
    )


def test_background_image_leaves_colour_undecided() -> None:
    # Light text on a (dark) image is the usual hero banner: colours alone cannot tell.
    html = (
        '<table><tr><td background="hero.jpg"><font color="#ffffff">on image</font></td>'
        '<td style="background: #fff url(hero.jpg)"><span style="color:#fff">too</span></td>'
        "</tr></table>"
    )
    assert render(html).text == "on image too"


def test_translucent_background_blends_over_the_one_behind() -> None:
    # rgba(0,0,0,0.5) over white is #808080: grey text on it is hidden, white shows.
    html = (
        '<div style="background-color: rgba(0,0,0,0.5)">'
        '<span style="color:#808080">grey</span> <span style="color:#fff">white</span></div>'
    )
    rendered = render(html)
    assert rendered.text == "white"
    assert rendered.hidden == (("grey", "colour #808080 on background #808080", ()),)


def test_inherited_colour_and_size_can_be_overridden_inside() -> None:
    # colour, font-size and visibility are inherited: a descendant may set them back.
    html = (
        '<div style="color:#ffffff">white <span style="color:#000000">black</span> white</div>'
        '<div style="font-size:0">gap<span style="font-size:14px">text</span></div>'
        '<div style="visibility:hidden">no <span style="visibility:visible">yes</span></div>'
    )
    rendered = render(html)
    assert rendered.text.split("\n") == ["black", "text", "yes"]
    assert rendered.hidden == (
        ("white white", "colour #ffffff on background #ffffff", ()),
        ("gap", "font-size:0", ()),
        ("no", "visibility:hidden", ()),
    )


def test_box_hiding_cannot_be_undone_inside() -> None:
    # display:none, opacity, off-screen and clipping take the whole box along.
    html = (
        '<div style="display:none">a <p style="display:block; color:#000">b</p></div>'
        '<div style="opacity:0"><span style="opacity:1">c</span></div>'
    )
    rendered = render(html)
    assert rendered.text == ""
    assert rendered.hidden == (("a\nb", "display:none", ()), ("c", "opacity:0", ()))


def test_opacity_multiplies_down_the_tree() -> None:
    rendered = render('<div style="opacity:0.3"><p style="opacity:0.3">ghost</p></div>')
    assert rendered.hidden == (("ghost", "opacity:0.09", ()),)


def test_nested_small_reaches_the_threshold() -> None:
    # The browsers' <small> is font-size: smaller (1/1.2): six of them make 5.36px.
    rendered = render("<p>" + "<small>" * 6 + "tiny" + "</small>" * 6 + "</p>")
    assert rendered.hidden == (("tiny", "font-size:5.36px", ()),)


def test_hidden_block_still_breaks_the_line_unless_it_has_no_box() -> None:
    # A block whose text is invisible still takes its line; display:none takes nothing.
    assert render('<div>a<div style="color:#fff">x</div>b</div>').text == "a\nb"
    assert render('<div>a<div style="display:none">x</div>b</div>').text == "ab"
    assert render('<p>a<span style="color:#fff">x</span>b</p>').text == "ab"


def test_one_hidden_item_per_outermost_hidden_element() -> None:
    html = (
        '<div style="display:none"><p>one</p><p style="font-size:0">two</p></div>'
        '<p>seen</p><p style="color:#fff">three</p>'
    )
    rendered = render(html)
    assert rendered.text == "seen"
    assert rendered.hidden == (
        ("one\ntwo", "display:none", ()),
        ("three", "colour #ffffff on background #ffffff", ()),
    )


def test_preheader_tricks() -> None:
    html = (
        '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;'
        'max-height:0px;max-width:0px;opacity:0;overflow:hidden;mso-hide:all">'
        "Preview: 50% off</div>"
        '<div style="font-size:0;line-height:0;max-height:0;opacity:0;overflow:hidden">'
        "Second preview</div><p>Body</p>"
    )
    rendered = render(html)
    assert rendered.text == "Body"
    assert rendered.hidden == (
        ("Preview: 50% off", "display:none", ()),
        ("Second preview", "opacity:0", ()),
    )


def test_style_block_selectors() -> None:
    html = (
        "<style><!--\n"
        ".gone, #away { display: none }\n"
        "span.x { visibility: hidden }\n"
        "div.footer p { font-size: 1px }\n"
        "@media (max-width: 600px) { .mobile { display: none } }\n"
        "a[href], p:first-child, ul > li { display: none }\n"
        "--></style>"
        '<p class="a gone">1</p><p id="away">2</p><span class="x">3</span><p class="x">4</p>'
        '<p class="mobile">5</p><div class="footer"><section><p>6</p></section></div>'
        "<p>7</p><ul><li>8</li></ul>"
    )
    rendered = render(html)
    # @media rules depend on the reader's screen and are left out; so are the
    # selectors not supported (attribute, pseudo-class, child combinator).
    assert rendered.text.split("\n") == ["4", "5", "7", "8"]
    assert rendered.hidden == (
        ("1", "display:none", ()),
        ("2", "display:none", ()),
        ("3", "visibility:hidden", ()),
        ("6", "font-size:1px", ()),
    )


def test_cascade_order() -> None:
    html = (
        "<style>"
        ".later { display:none } .later { display:block }"
        "#byid { display:block } p.spec { display:none }"
        ".inl { display:none }"
        ".imp { display:none !important }"
        ".unhide { display:block }"
        "</style>"
        '<p class="later">later rule wins</p>'
        '<p id="byid" class="spec">id beats class</p>'
        '<p class="inl" style="display:block">inline beats sheet</p>'
        '<p class="imp" style="display:block">important sheet beats inline</p>'
        '<p class="unhide" hidden>css beats the hidden attribute</p>'
        '<p><font color="white" style="color:black">css beats font color</font></p>'
        '<p style="color:#fff !important"><span style="color:black">child wins</span></p>'
    )
    rendered = render(html)
    assert rendered.text.split("\n") == [
        "later rule wins",
        "id beats class",
        "inline beats sheet",
        "css beats the hidden attribute",
        "css beats font color",
        "child wins",
    ]
    assert rendered.hidden == (("important sheet beats inline", "display:none", ()),)


def test_alt_text_is_not_displayed_text() -> None:
    html = (
        '<p><img src="logo.png" alt="株式会社みなと電子"></p>'
        f'<a href="{STOP}"><img src="stop.png" alt="配信停止"></a>'
    )
    rendered = render(html)
    assert rendered.text == ""
    assert rendered.links == ((STOP, ""),)  # the banner is there to click
    assert rendered.hidden == ()


def test_link_shows_only_if_something_in_it_does() -> None:
    html = (
        '<div style="color:#ffffff">Stop: <a href="https://a.example/">here</a></div>'
        '<a href="https://b.example/"><img style="display:none" alt="stop"></a>'
        '<a href="https://c.example/"><img width="1" height="1" alt="stop"></a>'
        '<a href="https://d.example/"></a>'
        '<td style="font-size:0"><a href="https://e.example/"><img src="banner.png"></a></td>'
    )
    rendered = render(html)
    # Browsers colour links blue (#0000ee) whatever the text around them.
    assert rendered.links == (("https://a.example/", "here"), ("https://e.example/", ""))
    assert rendered.hidden == (
        ("Stop:", "colour #ffffff on background #ffffff", ()),
        ("", "display:none", ("https://b.example/",)),
        ("", "link with nothing visible", ("https://c.example/",)),
        ("", "link with nothing visible", ("https://d.example/",)),
    )


def test_body_link_colour() -> None:
    html = f'<body link="#ffffff"><p>Stop: <a href="{STOP}">here</a></p></body>'
    rendered = render(html)
    assert rendered.text == "Stop:"
    assert rendered.links == ()
    assert rendered.hidden == (("here", "colour #ffffff on background #ffffff", (STOP,)),)


def test_deep_hidden_nesting_is_one_item() -> None:
    html = '<div style="color:#fff">' * 2000 + "deep" + "</div>" * 2000 + "<p>after</p>"
    rendered = render(html)
    assert rendered.text == "after"
    assert rendered.hidden == (("deep", "colour #ffffff on background #ffffff", ()),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#FFF", (255.0, 255.0, 255.0, 1.0)),
        ("#00000080", (0.0, 0.0, 0.0, 128 / 255)),
        ("rgb(255, 0, 0)", (255.0, 0.0, 0.0, 1.0)),
        ("rgba(0,0,255,0.5)", (0.0, 0.0, 255.0, 0.5)),
        ("rgb(100% 0% 0% / 50%)", (255.0, 0.0, 0.0, 0.5)),
        ("hsl(0, 0%, 100%)", (255.0, 255.0, 255.0, 1.0)),
        ("WhiteSmoke", (245.0, 245.0, 245.0, 1.0)),
        ("rebeccapurple", (102.0, 51.0, 153.0, 1.0)),
        ("transparent", (0.0, 0.0, 0.0, 0.0)),
        ("nonsense", None),
        ("#12345", None),
    ],
)
def test_parse_color(value: str, expected: tuple[float, float, float, float] | None) -> None:
    assert parse_color(value) == expected


def test_contrast_ratio() -> None:
    black, white = parse_color("black"), parse_color("white")
    assert black is not None and white is not None
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == 1.0
