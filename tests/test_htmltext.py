"""HTML rendering: what a reader sees, line by line, and the links they can follow."""

from __future__ import annotations

import pytest

from gateway.htmltext import RULE_LINE, hidden_rules, hides, render


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


@pytest.mark.parametrize(
    "hidden",
    [
        "<script>var x = 'secret';</script>",
        "<style>p { color: red } secret</style>",
        "<template>secret</template>",
        "<!-- secret -->",
        "<div hidden>secret</div>",
        '<div style="display:none">secret</div>',
        '<div style="DISPLAY: none !important">secret</div>',
        '<span style="visibility:hidden">secret</span>',
        '<span style="font-size:0px">secret</span>',
        '<span style="font-size: 0">secret</span>',
        '<span style="opacity:0">secret</span>',
        '<span style="opacity:0.0">secret</span>',
    ],
)
def test_hidden_content_dropped(hidden: str) -> None:
    text = render(f"<html><head><title>secret</title></head><body>shown{hidden}</body></html>")
    assert text.text == "shown"


def test_tail_after_hidden_element_is_visible() -> None:
    assert render('<p>a<span style="display:none">x</span>b</p>').text == "ab"


def test_visible_small_text_and_opacity_kept() -> None:
    assert render('<p style="font-size:10px;opacity:0.5">tiny</p>').text == "tiny"


def test_style_block_rules_by_tag_class_and_id() -> None:
    html = (
        "<style>.gone, #away { display: none } span.x { visibility: hidden }"
        " @media (max-width: 600px) { .mobile { display: none } }</style>"
        '<p class="a gone">1</p><p id="away">2</p><span class="x">3</span>'
        '<p class="x">4</p><p class="mobile">5</p>'
    )
    assert render(html).text.split("\n") == ["4", "5"]


def test_hidden_rules_ignore_complex_selectors() -> None:
    assert hidden_rules("div p { display:none } a[href] { display:none }") == []


def test_hides() -> None:
    assert hides("color: red; display:none")
    assert not hides("display:block; font-size: 0.8em")


def test_links_with_visible_text_in_order() -> None:
    html = (
        '<p><a href="https://shop.example/sale">セール<b>会場</b></a> and '
        '<a href="mailto:info@shop.example">お問い合わせ</a>'
        '<a href=" https://shop.example/x "><img alt="Banner"></a><a name="anchor">no</a></p>'
    )
    assert render(html).links == (
        ("https://shop.example/sale", "セール会場"),
        ("mailto:info@shop.example", "お問い合わせ"),
        ("https://shop.example/x", "Banner"),
    )


def test_hidden_links_are_not_links() -> None:
    html = '<div style="display:none"><a href="https://stop.example/">stop</a></div>'
    assert render(html).links == ()


def test_empty_and_broken_markup_never_raise() -> None:
    assert render("").text == ""
    assert render("   ").text == ""
    assert render('<?xml version="1.0" encoding="utf-8"?><p>x</p>').text == "x"
    assert render("<p><div><b>unclosed").text == "unclosed"


def test_deep_nesting_keeps_text() -> None:
    # libxml2's default limit (256 levels) would drop the whole document.
    html = "<div>" * 1000 + "deep" + "</div>" * 1000 + "<p>after</p>"
    assert render(html).text == "deep\nafter"


def test_hr_is_a_rule_line_between_blocks() -> None:
    rendered = render("<p>sale https://shop.example/sale</p><hr><p>配信停止はこちら</p>")
    assert rendered.text.splitlines() == [
        "sale https://shop.example/sale",
        RULE_LINE,
        "配信停止はこちら",
    ]
