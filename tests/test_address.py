"""Address normalisation: domains per RFC 5321 §2.4 and IDNA, local parts untouched."""

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
    ],
)
def test_normalize(given: str, expected: str) -> None:
    assert normalize(given) == expected


def test_local_part_case_is_kept() -> None:
    """RFC 5321 §2.4: the local part MUST be treated as case sensitive."""
    assert normalize("Yoshida@EXAMPLE.jp") == "Yoshida@example.jp"
    assert normalize("Yoshida@example.jp") != normalize("yoshida@example.jp")


def test_domain_of() -> None:
    assert domain_of("<card@例え.JP>") == "xn--r8jz45g.jp"


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("yoshida.example.jp", "no '@'"),
        ("@example.jp", "empty local part"),
        ("yoshida@", "empty domain"),
        ("yo shida@example.jp", "spaces"),
        ("yoshida@exa mple.jp", "spaces"),
        ("yoshida@example..jp", "not valid IDNA"),
        ("yoshida@xn--zz.jp", "not valid IDNA"),
        ("yoshida@-example.jp", "bad label"),
        ("yoshida@example.jp.", "bad label"),
        ("a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".jp", f"longer than {MAX_LENGTH}"),
    ],
)
def test_garbage_is_refused_naming_the_input(given: str, why: str) -> None:
    with pytest.raises(AddressError, match=why) as info:
        normalize(given)
    assert repr(given) in str(info.value)
