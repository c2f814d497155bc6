"""Address normalisation: domains per RFC 5321 §2.4 and IDNA; local parts per RFC 5321
§4.1.2 (Dot-string / Quoted-string) with RFC 6531's UTF-8, their case untouched."""

from __future__ import annotations

import pytest

from gateway.address import MAX_LENGTH, AddressError, domain_of, normalize


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("yoshida@example.jp", "yoshida@example.jp"),
        ("  <yoshida@Example.JP>  ", "yoshida@example.jp"),
        ("info@例え.jp", "info@xn--r8jz45g.jp"),
        ("info@xn--r8jz45g.jp", "info@xn--r8jz45g.jp"),
        ('"a@b"@example.jp', '"a@b"@example.jp'),
        ("o'brien+news@example.jp", "o'brien+news@example.jp"),  # atext: ' and + are letters
        ("!#$%&'*+-/=?^_`{|}~@example.jp", "!#$%&'*+-/=?^_`{|}~@example.jp"),
        ("yoshida.hanako@example.jp", "yoshida.hanako@example.jp"),
        ("はなこ@例え.jp", "はなこ@xn--r8jz45g.jp"),  # RFC 6531: UTF-8 in the local part
        ('"yoshida hanako"@example.jp', '"yoshida hanako"@example.jp'),  # qtextSMTP has %d32
        ('""@example.jp', '""@example.jp'),  # *QcontentSMTP: zero characters is a Quoted-string
    ],
)
def test_normalize(given: str, expected: str) -> None:
    assert normalize(given) == expected


def test_local_part_case_is_kept() -> None:
    """RFC 5321 §2.4: the local part MUST be treated as case sensitive."""
    assert normalize("Yoshida@EXAMPLE.jp") == "Yoshida@example.jp"
    assert normalize("Yoshida@example.jp") != normalize("yoshida@example.jp")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ('"yoshida"@example.jp', "yoshida@example.jp"),
        ('"yoshida.hanako"@example.jp', "yoshida.hanako@example.jp"),
        ('"yo\\shida"@example.jp', "yoshida@example.jp"),  # a quoted-pair of a plain letter
        ('"a\\"b"@example.jp', '"a\\"b"@example.jp'),  # '"' must stay quoted, and escaped
        ('"a\\\\b"@example.jp', '"a\\\\b"@example.jp'),
        ('"a..b"@example.jp', '"a..b"@example.jp'),  # not a Dot-string: keeps its quotes
        ('"はなこ"@example.jp', "はなこ@example.jp"),
    ],
)
def test_quoting_is_reduced_to_the_least(given: str, expected: str) -> None:
    """RFC 5321 §4.1.2: "all quoted forms MUST be treated as equivalent, and the sending
    system SHOULD transmit the form that uses the minimum quoting possible"."""
    assert normalize(given) == expected


def test_domain_of() -> None:
    assert domain_of("<card@例え.JP>") == "xn--r8jz45g.jp"


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("yoshida.example.jp", "no '@'"),
        ("@example.jp", "empty local part"),
        ("yoshida@", "empty domain"),
        ("yo shida@example.jp", "a space at position 3: only a quoted local part may hold"),
        ("yoshida@exa mple.jp", "a space at position 12 (in the domain): addresses contain no"),
        ("yoshida@example..jp", "not valid IDNA"),
        ("yoshida@xn--zz.jp", "not valid IDNA"),
        ("yoshida@-example.jp", "bad label"),
        ("yoshida@example.jp.", "bad label"),
        ("a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".jp", f"longer than {MAX_LENGTH}"),
        ("a" * 65 + "@example.jp", "local part is longer than 64 octets"),  # §4.5.3.1.1
        ("あ" * 22 + "@example.jp", "local part is longer than 64 octets"),  # 66 octets
        # What an audit found imported and exported as addresses (issue 4):
        ("a@x.jp;b@y.jp", "'@' at position 2: a list of addresses"),
        ("a@x.jp,b@y.jp", "'@' at position 2: a list of addresses"),
        ("d@@example.jp", "'@' at position 2: a second '@'"),
        ("mailto:z@x.jp", "':' at position 7: a 'mailto:' URI"),
        ("<a@x.jp", "'<' at position 1: an angle bracket"),
        ("a@x.jp>", "bad label 'jp>'"),
        ("(comment)a@x.jp", "'(' at position 1: a comment"),
        ("a(comment)@x.jp", "'(' at position 2: a comment"),
        # Dot-string: atoms of atext joined by single dots
        ("a..b@example.jp", "'.' at position 3: two dots in a row"),
        (".a@example.jp", "'.' at position 1: a local part may not begin with a dot"),
        ("a.@example.jp", "'.' at position 2: a local part may not end with a dot"),
        ("a[b]@example.jp", "'[' at position 2: not allowed in a local part unless quoted"),
        ("a:b@example.jp", "':' at position 2: not allowed"),
        ('a"b@example.jp', "'\"' at position 2: a quote inside an unquoted local part"),
        ("a\\b@example.jp", "at position 2: a backslash outside quotes"),
        # Quoted-string: closed, nothing after it, no control characters
        ('"ab@example.jp', "the quote at position 1 is never closed"),
        ('"a"b@example.jp', "'b' at position 4: text after the closing quote"),
        ('"a\tb"@example.jp', "U+0009 at position 3: not allowed in a quoted local part"),
        # positions count in the text as given, brackets and blanks included
        ("  <a..b@example.jp>", "'.' at position 6: two dots in a row"),
        # invisible characters: typing accidents, never a mailbox
        ("yoshida\u3000@example.jp", "U+3000 (IDEOGRAPHIC SPACE) at position 8: an invisible"),
        ("yo\u200bshida@example.jp", "U+200B (ZERO WIDTH SPACE) at position 3"),
        ("\ufeffyoshida@example.jp", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at position 1"),
        ("yoshida\ufffd@example.jp", "U+FFFD (REPLACEMENT CHARACTER) at position 8"),
        ("yo\x00shida@example.jp", "U+0000 at position 3: an invisible or control character"),
        ("yoshida＠example.jp", "no '@' (the full-width '＠' is not one)"),
    ],
)
def test_garbage_is_refused_naming_the_input(given: str, why: str) -> None:
    """The message quotes the input and names the character and its 1-based position."""
    with pytest.raises(AddressError) as info:
        normalize(given)
    assert repr(given) in str(info.value)
    assert why in str(info.value)
