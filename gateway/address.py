"""One spelling per mailbox, so a consent record is found however the address was typed.

Policy, applied in one place (consent import, the CLI, SMTP RCPT):

* **Domain** — case-insensitive (RFC 5321 §2.4, RFC 1035), stored as lower-case
  ASCII, internationalised labels as their IDNA A-label (``例え.jp`` →
  ``xn--r8jz45g.jp``).
* **Local part** — RFC 5321 §4.1.2 with RFC 6531 §3.3's UTF-8: a *Dot-string*
  (atoms of letters, digits and ``!#$%&'*+-/=?^_`{|}~``, or any non-ASCII
  character, joined by single dots) or a *Quoted-string* (``"…"`` holding
  printable ASCII, spaces, non-ASCII, and ``\\`` before a character taken
  literally). Nothing else: no comments, no ``mailto:``, no second ``@``, no
  list of addresses, no stray angle bracket. Invisible characters are refused
  even where RFC 6531 would let them through (controls, format characters such as
  U+200B or a BOM, the ideographic space U+3000, U+FFFD left by a failed
  decoding): in a spreadsheet they are typing accidents, never a mailbox.
  At most 64 octets (RFC 5321 §4.5.3.1.1).
* The local part's case is kept: RFC 5321 §2.4 lets the receiving host treat
  ``Yoshida`` and ``yoshida`` as different mailboxes, and guessing wrongly would
  attach one person's consent to another's address. Its quoting is not: "all
  quoted forms MUST be treated as equivalent" (RFC 5321 §4.1.2), so the form with
  the least quoting is the one stored (``"yoshida"@x`` → ``yoshida@x``).

A refusal names the input, the character and its position (1-based, in the text
as given), so that the operator fixing row 48,213 of a list sees what to change.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import NoReturn

MAX_LENGTH = 254  # RFC 5321 §4.5.3.1.3: a 256-octet path minus its angle brackets
MAX_LOCAL = 64  # RFC 5321 §4.5.3.1.1
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")  # RFC 5322
# Plain ASCII dot-atoms, the common case: checked by one regex, no loop over characters.
_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_HINTS = {
    "@": "a second '@' (quote the local part if it really holds one)",
    ",": "',' separates addresses: give one address",
    ";": "';' separates addresses: give one address",
    "<": "an angle bracket: '<' and '>' may only enclose the whole address",
    ">": "an angle bracket: '<' and '>' may only enclose the whole address",
    "(": "a comment: SMTP addresses carry none (RFC 5321 4.1.2)",
    ")": "a comment: SMTP addresses carry none (RFC 5321 4.1.2)",
    " ": "only a quoted local part may hold spaces",
    '"': "a quote inside an unquoted local part",
    "\\": "a backslash outside quotes",
}


class AddressError(ValueError):
    """An address that names no mailbox; the text quotes the input."""


def normalize(addr: str) -> str:
    """``local@domain`` with the local part in its least-quoted form and the domain as
    lower-case A-labels, or AddressError naming what is wrong and where."""
    text, start = _unwrap(addr)
    local, at, domain = text.rpartition("@")
    if not at:
        hint = " (the full-width '＠' is not one)" if "＠" in text else ""
        raise AddressError(f"{addr!r} is not an e-mail address: no '@'{hint}")
    if not local:
        raise AddressError(f"{addr!r} is not an e-mail address: empty local part")
    if not domain:
        raise AddressError(f"{addr!r} is not an e-mail address: empty domain")
    local = _local_part(addr, local, start)
    domain_start = start + len(text) - len(domain)
    for i, ch in enumerate(domain):
        if ch.isspace() or _invisible(ch):
            raise AddressError(
                f"{addr!r} is not an e-mail address: {_named(ch)} at position"
                f" {domain_start + i + 1} (in the domain): addresses contain no spaces"
                " or control characters"
            )
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


def _unwrap(addr: str) -> tuple[str, int]:
    """The address without surrounding blanks and one pair of angle brackets, and the
    0-based offset in ``addr`` where it starts (for positions in messages)."""
    text = addr.lstrip()
    start = len(addr) - len(text)
    text = text.rstrip()
    if text.startswith("<") and text.endswith(">"):
        inner = text[1:-1]
        text = inner.strip()
        start += 1 + len(inner) - len(inner.lstrip())
    return text, start


def _local_part(addr: str, local: str, start: int) -> str:
    """``local`` checked (RFC 5321 §4.1.2, RFC 6531) and in its least-quoted form."""
    if _PLAIN.match(local):
        canonical = local
    elif local.startswith('"'):
        canonical = _least_quoted(_quoted_content(addr, local, start))
    else:
        _check_dot_string(addr, local, start)
        canonical = local
    if len(canonical.encode("utf-8")) > MAX_LOCAL:
        raise AddressError(
            f"{addr!r} is not an e-mail address: the local part is longer than"
            f" {MAX_LOCAL} octets (RFC 5321 4.5.3.1.1)"
        )
    return canonical


def _check_dot_string(addr: str, local: str, start: int) -> None:
    """Atoms of atext (or non-ASCII) joined by single dots: faults name the character."""
    for i, ch in enumerate(local):
        where = f"position {start + i + 1}"
        if ch == ".":
            if i == 0 or i == len(local) - 1 or local[i - 1] == ".":
                what = (
                    "a local part may not begin with a dot"
                    if i == 0
                    else "a local part may not end with a dot"
                    if i == len(local) - 1
                    else "two dots in a row"
                )
                _fail(addr, f"'.' at {where}: {what} (RFC 5321 4.1.2)")
            continue
        if _atext(ch):
            continue
        if ch == ":" and local[:i].lower() == "mailto":
            hint = "a 'mailto:' URI: give the address alone"
        elif ch == "@" and (";" in local or "," in local):
            hint = "a list of addresses: give one address"
        elif ch in _HINTS:
            hint = _HINTS[ch]
        elif _invisible(ch):
            hint = "an invisible or control character"
        else:
            hint = "not allowed in a local part unless quoted (RFC 5321 4.1.2)"
        _fail(addr, f"{_named(ch)} at {where}: {hint}")


def _quoted_content(addr: str, local: str, start: int) -> str:
    """The characters a Quoted-string stands for (quoted-pairs resolved)."""
    out: list[str] = []
    i = 1
    while i < len(local):
        ch = local[i]
        where = f"position {start + i + 1}"
        if ch == '"':
            if i != len(local) - 1:
                after = f"{_named(local[i + 1])} at position {start + i + 2}"
                _fail(addr, f"{after}: text after the closing quote of the local part")
            return "".join(out)
        if ch == "\\":
            if i + 1 == len(local):
                break
            ch = local[i + 1]
            i += 1
            where = f"position {start + i + 1}"
        if not (" " <= ch <= "~" or (ch > "\x7f" and not _invisible(ch))):
            _fail(addr, f"{_named(ch)} at {where}: not allowed in a quoted local part")
        out.append(ch)
        i += 1
    _fail(addr, f"the quote at position {start + 1} is never closed")


def _least_quoted(content: str) -> str:
    """RFC 5321 §4.1.2: the form "that uses the minimum quoting possible"."""
    if _PLAIN.match(content) or (content and _is_dot_string(content)):
        return content
    return '"' + re.sub(r'(["\\])', r"\\\1", content) + '"'


def _is_dot_string(text: str) -> bool:
    return all(atom and all(map(_atext, atom)) for atom in text.split("."))


def _atext(ch: str) -> bool:
    """RFC 5322 atext, widened by RFC 6531 to every non-ASCII character (bar invisible ones)."""
    return ch in _ATEXT or (ch > "\x7f" and not _invisible(ch))


def _invisible(ch: str) -> bool:
    return ch == "\ufffd" or unicodedata.category(ch) in _INVISIBLE


def _named(ch: str) -> str:
    """A character as an operator can find it: ``';'``, or ``U+3000 (IDEOGRAPHIC SPACE)``."""
    if " " < ch <= "~":
        return repr(ch)
    if ch == " ":
        return "a space"
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _fail(addr: str, what: str) -> NoReturn:
    raise AddressError(f"{addr!r} is not an e-mail address: {what}")


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
