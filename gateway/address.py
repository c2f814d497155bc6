"""One spelling per mailbox, so a consent record is found however the address was typed.

Policy: the domain is case-insensitive (RFC 5321 §2.4, RFC 1035) and is stored as
lower-case ASCII, internationalised labels as their IDNA A-label (``例え.jp`` →
``xn--r8jz45g.jp``). The local part is kept exactly as written: RFC 5321 §2.4 lets
the receiving host treat ``Yoshida`` and ``yoshida`` as different mailboxes, and
guessing wrongly would attach one person's consent to another's address.
"""

from __future__ import annotations

import re

MAX_LENGTH = 254  # RFC 5321 §4.5.3.1.3: a 256-octet path minus its angle brackets
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


class AddressError(ValueError):
    """An address that names no mailbox; the text quotes the input."""


def normalize(addr: str) -> str:
    """``local@domain`` with the domain as lower-case A-labels, or AddressError."""
    text = addr.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    local, at, domain = text.rpartition("@")
    fault = _fault(text, local, at, domain)
    if fault:
        raise AddressError(f"{addr!r} is not an e-mail address: {fault}")
    result = f"{local}@{_a_label(addr, domain)}"
    if len(result.encode("utf-8")) > MAX_LENGTH:
        raise AddressError(f"{addr!r} is longer than {MAX_LENGTH} octets")
    return result


def normalize_domain(domain: str) -> str:
    """A domain as lower-case A-labels; one trailing dot (a fully qualified name) is dropped."""
    text = domain.strip()
    name = text[:-1] if text.endswith(".") else text
    return _a_label(domain, name)


def domain_of(addr: str) -> str:
    """The normalised domain of ``addr`` (what SPF, DMARC and sender profiles match on)."""
    return normalize(addr).rpartition("@")[2]


def _fault(text: str, local: str, at: str, domain: str) -> str:
    if not at:
        return "no '@'"
    if not local:
        return "empty local part"
    if not domain:
        return "empty domain"
    if _BAD_CHARS.search(text):
        return "contains spaces or control characters"
    return ""


def _a_label(given: str, domain: str) -> str:
    """``domain`` as lower-case A-labels; faults quote ``given``, the text as the user wrote it."""
    try:
        ascii_domain = domain.lower().encode("idna").decode("ascii")
        ascii_domain.encode("ascii").decode("idna")  # rejects malformed xn-- labels
    except UnicodeError:
        raise AddressError(f"{given!r}: domain {domain!r} is not valid IDNA") from None
    for label in ascii_domain.split("."):
        if not _LABEL.match(label):
            raise AddressError(f"{given!r}: domain {domain!r} has a bad label {label!r}")
    return ascii_domain
