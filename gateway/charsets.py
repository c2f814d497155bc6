"""Bytes to ``str`` for Japanese mail, whatever the charset label claims.

Python's ``iso2022_jp`` codecs reject the Windows CP50220 extras (NEC row 13
①㈱…, IBM extensions) that Outlook and most Japanese mailers emit, and labels
are often missing or wrong.  Every function here returns text and the codec
actually used; none raises.
"""

from __future__ import annotations

import binascii
import codecs
import re
import unicodedata
from functools import cache

# Canonical names recorded in ``TextPart.charset``.
ISO2022JP = "iso-2022-jp"
SHIFT_JIS = "shift_jis"
EUC_JP = "euc-jp"
UTF8 = "utf-8"
ASCII = "us-ascii"

_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "iso-2022-jp",
            "iso2022-jp",
            "iso2022jp",
            "iso2022_jp",
            "csiso2022jp",
            "x-iso2022jp",
            "jis",
            "iso-2022-jp-1",
            "iso-2022-jp-ms",
            "cp50220",
            "cp50221",
            "cp50222",
        ),
        ISO2022JP,
    ),
    **dict.fromkeys(("iso-2022-jp-2", "csiso2022jp2", "iso2022_jp_2"), "iso-2022-jp-2"),
    **dict.fromkeys(("iso-2022-jp-3", "iso2022_jp_3"), "iso-2022-jp-3"),
    **dict.fromkeys(("iso-2022-jp-2004", "iso2022_jp_2004"), "iso-2022-jp-2004"),
    **dict.fromkeys(
        (
            "shift_jis",
            "shift-jis",
            "shiftjis",
            "sjis",
            "x-sjis",
            "s-jis",
            "ms_kanji",
            "ms-kanji",
            "csshiftjis",
            "windows-31j",
            "cswindows31j",
            "cp932",
            "ms932",
            "ibm-943",
            "x-ms-cp932",
            "windows-932",
        ),
        SHIFT_JIS,
    ),
    **dict.fromkeys(
        (
            "euc-jp",
            "eucjp",
            "euc_jp",
            "x-euc-jp",
            "x-euc",
            "ujis",
            "x-eucjp",
            "cseucpkdfmtjapanese",
            "eucjp-ms",
            "eucjp-win",
            "eucjp-open",
            "cp51932",
        ),
        EUC_JP,
    ),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), UTF8),
    **dict.fromkeys(("utf-7", "unicode-1-1-utf-7", "csunicode11utf7"), "utf-7"),
    **dict.fromkeys(("us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "csascii", "us"), ASCII),
}

# Labels under which bytes >= 0x80 cannot be what the label says.
_ISO2022 = frozenset((ISO2022JP, "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-2004"))
_JIS_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\(I|\$\(D|\$\(Q|\$\(O|\$\(P|\$A|\$\(C)")
_HIGH = re.compile(rb"[\x80-\xff]")


def normalize_label(label: str | None) -> str | None:
    """The canonical codec name for a charset label, or None when no Python codec knows it.

    Labels vary in case, quoting and alias (``Windows-31J`` is unknown to Python,
    ``x-sjis`` too); RFC 2231 language suffixes (``utf-8*ja``) are dropped.
    """
    if not label:
        return None
    key = label.strip().strip("\"'").split("*", 1)[0].strip().lower()
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        codecs.lookup(key)
    except LookupError:
        return None
    return key


def decode(data: bytes, label: str | None = None) -> tuple[str, str]:
    """Decode ``data`` trusting ``label`` only as far as the bytes agree; returns (text, codec)."""
    codec = normalize_label(label)
    if codec is None:
        return _decode_detected(data)
    if codec.startswith(("utf-16", "utf-32")) or codec == "utf-7":
        return _python(data, codec), codec
    high = _HIGH.search(data) is not None
    if codec in _ISO2022:
        if high:
            return _decode_detected(data)
        return _decode_iso2022(data, codec)
    if not high:
        if _JIS_ESCAPE.search(data):
            return decode_iso2022jp(data), ISO2022JP
        return data.decode("ascii"), codec
    if codec == ASCII:
        return _decode_detected(data)
    if codec == SHIFT_JIS:
        return _strict_or_detect(data, "cp932", SHIFT_JIS)
    if codec == EUC_JP:
        return _strict_or_detect(data, "euc_jp", EUC_JP)
    if codec == UTF8:
        return _strict_or_detect(data, "utf-8", UTF8)
    return _decode_foreign(data, codec)


def _strict_or_detect(data: bytes, python_codec: str, name: str) -> tuple[str, str]:
    """The labelled Japanese/Unicode codec if the bytes are valid under it, else detection."""
    try:
        return data.decode(python_codec), name
    except UnicodeDecodeError:
        pass
    if name == EUC_JP:
        # eucJP-ms / CP51932: NEC and IBM extras, read through the CP932 table.
        text, clean = _euc_via_cp932(data)
        if clean:
            return text, EUC_JP
    detected = _detect(data)
    if detected is not None:
        return detected
    if name == EUC_JP:
        return _euc_via_cp932(data)[0], EUC_JP
    return data.decode(python_codec, "replace"), name


def _decode_foreign(data: bytes, codec: str) -> tuple[str, str]:
    """A non-Japanese label: kept unless the bytes are plainly UTF-8 or Japanese.

    Single-byte codecs accept any bytes, so a Shift_JIS body labelled ISO-8859-1
    would pass as mojibake; valid multibyte UTF-8 or text full of kana is the
    stronger evidence.
    """
    try:
        return data.decode(UTF8), UTF8
    except UnicodeDecodeError:
        pass
    for python_codec, name in (("cp932", SHIFT_JIS), ("euc_jp", EUC_JP)):
        try:
            text = data.decode(python_codec)
        except UnicodeDecodeError:
            continue
        if _kana_ratio(text) > 0.2:
            return text, name
    return _python(data, codec), codec


def _python(data: bytes, codec: str) -> str:
    """Decode with a Python codec, replacing what does not decode."""
    try:
        return data.decode(codec, "replace")
    except (LookupError, UnicodeError, ValueError):
        return data.decode("latin-1")


def _decode_detected(data: bytes) -> tuple[str, str]:
    """No usable label: ASCII, ISO-2022-JP, UTF-8, Shift_JIS, EUC-JP, then a guess."""
    if not _HIGH.search(data):
        if _JIS_ESCAPE.search(data):
            return decode_iso2022jp(data), ISO2022JP
        return data.decode("ascii"), ASCII
    found = _detect(data)
    if found is not None:
        return found
    return _guess(data)


def _detect(data: bytes) -> tuple[str, str] | None:
    """UTF-8 (with or without BOM), UTF-16 by BOM, or the better of CP932 and EUC-JP."""
    if data.startswith(codecs.BOM_UTF8):
        return _python(data[3:], UTF8), UTF8
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _python(data, "utf-16"), "utf-16"
    try:
        return data.decode(UTF8), UTF8
    except UnicodeDecodeError:
        pass
    damaged = _mostly_utf8(data)
    if damaged is not None:
        return damaged, UTF8
    candidates: list[tuple[float, str, str]] = []
    for python_codec, name in (("cp932", SHIFT_JIS), ("euc_jp", EUC_JP)):
        try:
            text = data.decode(python_codec)
        except UnicodeDecodeError:
            continue
        candidates.append((_japanese_score(text), text, name))
    if not candidates:
        return None
    _, text, name = max(candidates, key=lambda c: c[0])
    return text, name


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken sequences (a cut base64 body), else None.

    Legacy Japanese bytes almost never form valid multibyte UTF-8 sequences,
    so many valid ones against few errors mean damaged UTF-8.
    """
    text = data.decode(UTF8, "replace")
    errors = text.count("\ufffd")
    valid = sum(1 for ch in text if ch >= "\x80") - errors
    return text if valid >= 2 * errors and valid > 0 else None


def _guess(data: bytes) -> tuple[str, str]:
    """Neither UTF-8 nor clean Japanese: the decoder with fewest errors, or a statistical guess."""
    best: tuple[int, str, str] | None = None
    for python_codec, name in (("cp932", SHIFT_JIS), ("euc_jp", EUC_JP), (UTF8, UTF8)):
        text = data.decode(python_codec, "replace")
        errors = text.count("\ufffd")
        if best is None or errors < best[0]:
            best = (errors, text, name)
    assert best is not None
    errors, text, name = best
    if errors * 50 > len(text) and _kana_ratio(text) < 0.2:
        # Mostly undecodable as Japanese: likely a Western or Cyrillic single-byte text.
        from charset_normalizer import from_bytes  # slow import, rare path

        match = from_bytes(data).best()
        if match is not None and match.encoding:
            return _python(data, match.encoding), match.encoding.replace("_", "-")
    return text, name


def _kana_ratio(text: str) -> float:
    """Share of kana among non-ASCII characters: high in Japanese prose, ~0 in mojibake."""
    non_ascii = kana = 0
    for ch in text:
        if ch >= "\x80":
            non_ascii += 1
            if "\u3041" <= ch <= "\u30fe":
                kana += 1
    return kana / non_ascii if non_ascii else 0.0


def _japanese_score(text: str) -> float:
    """Prefers readings with kana, common kanji and punctuation over half-width kana and PUA.

    Shift_JIS read as EUC-JP fails outright on most lead bytes; EUC-JP read as
    CP932 turns kana into runs of half-width katakana, which real mail rarely uses.
    """
    score = 0.0
    for ch in text:
        if ch < "\x80":
            continue
        if "\u3041" <= ch <= "\u30fe" or ch in "、。「」・ー（）":
            score += 2
        elif "\u4e00" <= ch <= "\u9fff":
            score += 1
        elif "\uff61" <= ch <= "\uff9f":
            score -= 1
        elif "\ue000" <= ch <= "\uf8ff" or ch < "\xa0":
            score -= 3
    return score


# ---------------------------------------------------------------- ISO-2022-JP

_ESC_SPLIT = re.compile(rb"(\x1b(?:\$\(.|\$.|\(.|\..|N|O)|[\x0e\x0f])", re.DOTALL)
_ASCII_SETS = frozenset((b"\x1b(B", b"\x1b(J", b"\x1b(H"))
_JIS0208_SETS = frozenset((b"\x1b$B", b"\x1b$@", b"\x1b$(B", b"\x1b$(@"))
_KANA_SETS = frozenset((b"\x1b(I", b"\x0e"))


def _decode_iso2022(data: bytes, codec: str) -> tuple[str, str]:
    """ISO-2022-JP family: CP50220 reading unless foreign designations need Python's codecs."""
    text, foreign = _iso2022jp(data)
    if not foreign:
        return text, ISO2022JP
    names = ["iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext"]
    preferred = codec.replace("-", "_")
    if preferred in names:
        names.remove(preferred)
        names.insert(0, preferred)
    for name in names:
        try:
            return data.decode(name), name.replace("iso2022_", "iso-2022-").replace("_", "-")
        except UnicodeDecodeError:
            continue
    return text, ISO2022JP


def decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP read as Windows CP50220: JIS X 0208 pairs go through the CP932 table.

    JIS X 0208 and Shift_JIS are the same 94x94 grid, so each pair maps to a
    Shift_JIS pair arithmetically; CP932 then supplies NEC row 13 and the IBM
    extensions that the strict codecs reject.  Foreign designations
    (ISO-2022-JP-2/-3) are decoded segment by segment with Python's codecs.
    """
    return _iso2022jp(data)[0]


# Escapes Python's iso2022_jp codec reads as CP50220 does (ASCII and JIS X 0208 only):
# anything else (ESC ( J, ESC ( I, SO/SI, foreign sets) takes the segment-by-segment path.
_PLAIN_ESCAPES = (b"\x1b(B", b"\x1b$B", b"\x1b$@", b"\x1b$(B")


def _plain_iso2022jp(data: bytes) -> bool:
    """Only the escapes of ``_PLAIN_ESCAPES`` (counted: one pass of memchr each, no regex)."""
    if b"\x0e" in data or b"\x0f" in data:
        return False
    return data.count(b"\x1b") == sum(data.count(escape) for escape in _PLAIN_ESCAPES)


def _iso2022jp(data: bytes) -> tuple[str, bool]:
    """The CP50220 reading, and whether designations outside CP50220 occurred.

    Most mail is plain ISO-2022-JP: Python's C codec reads it in one call (about 40
    times faster than pair by pair), and the few JIS X 0208 cells that its table maps
    otherwise than CP932 (〜 ‖ − ¢ £ ¬) are then put right. NEC row 13, the IBM
    extensions and broken runs make the codec fail, and go the long way.
    """
    if _plain_iso2022jp(data):
        try:
            text = data.decode("iso2022_jp")
        except UnicodeDecodeError:
            pass
        else:
            for jis_char, cp932_char in _cp932_differences().items():
                if jis_char in text:
                    text = text.replace(jis_char, cp932_char)
            return text, False
    return _iso2022jp_by_segment(data)


def _iso2022jp_by_segment(data: bytes) -> tuple[str, bool]:
    """The CP50220 reading, one escape-delimited segment at a time."""
    table = _jis_table()
    out: list[str] = []
    mode = b"\x1b(B"
    foreign = False
    for chunk in _ESC_SPLIT.split(data):
        if not chunk:
            continue
        if chunk[0] in (0x1B, 0x0E, 0x0F) and _ESC_SPLIT.fullmatch(chunk):
            mode = b"\x1b(B" if chunk == b"\x0f" else chunk
            continue
        if mode in _ASCII_SETS:
            out.append(chunk.decode("latin-1"))
        elif mode in _JIS0208_SETS:
            # A mailer that forgot ESC ( B before a line break: keep the break (and any
            # other control character) as it is, as Python's codec does.
            out.append(
                "".join(
                    _jis_pairs(run, table) if i % 2 == 0 else run.decode("ascii")
                    for i, run in enumerate(_CONTROLS.split(chunk))
                )
            )
        elif mode in _KANA_SETS:
            out.append(
                "".join(chr(0xFF61 + b - 0x21) if 0x21 <= b <= 0x5F else chr(b) for b in chunk)
            )
        else:
            foreign = True
            out.append(_foreign_segment(mode, chunk))
    return "".join(out), foreign


def _jis_pairs(body: bytes, table: dict[bytes, str]) -> str:
    """Two-byte JIS X 0208 codes to text; an odd trailing byte becomes U+FFFD."""
    text = "".join(table.get(body[i : i + 2], "\ufffd") for i in range(0, len(body) - 1, 2))
    return text + "\ufffd" if len(body) % 2 else text


def _foreign_segment(designation: bytes, chunk: bytes) -> str:
    """A run under an ISO-2022-JP-2/-3 designation, decoded by Python's codecs."""
    for name in ("iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3"):
        try:
            return (designation + chunk).decode(name)
        except UnicodeDecodeError:
            continue
    return (designation + chunk).decode("iso2022_jp_2", "replace")


_CONTROLS = re.compile(rb"([\x00-\x1f]+)")


@cache
def _cp932_differences() -> dict[str, str]:
    """Python's JIS X 0208 reading → CP932's, for the cells where the two tables differ."""
    table = _jis_table()
    differences = {}
    for pair, char in table.items():
        try:
            jis = (b"\x1b$B" + pair + b"\x1b(B").decode("iso2022_jp")
        except UnicodeDecodeError:
            continue
        if jis != char:
            differences[jis] = char
    return differences


@cache
def _jis_table() -> dict[bytes, str]:
    """JIS X 0208 byte pair → character, via the CP932 reading of its Shift_JIS pair."""
    table: dict[bytes, str] = {}
    for j1 in range(0x21, 0x7F):
        s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
        for j2 in range(0x21, 0x7F):
            s2 = j2 + (0x1F if j2 <= 0x5F else 0x20) if j1 & 1 else j2 + 0x7E
            ch = bytes((s1, s2)).decode("cp932", "replace")
            if ch != "\ufffd":
                table[bytes((j1, j2))] = ch
    return table


def _euc_via_cp932(data: bytes) -> tuple[str, bool]:
    """EUC-JP with eucJP-ms/CP51932 extras: each two-byte code read through the JIS table.

    Returns the text and whether every code was known.
    """
    table = _jis_table()
    out: list[str] = []
    clean = True
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
        elif b == 0x8E and i + 1 < n and 0xA1 <= data[i + 1] <= 0xDF:
            out.append(chr(0xFF61 + data[i + 1] - 0xA1))
            i += 2
        elif b == 0x8F and i + 2 < n:
            try:
                out.append(data[i : i + 3].decode("euc_jp"))
            except UnicodeDecodeError:
                out.append("\ufffd")
                clean = False
            i += 3
        elif 0xA1 <= b <= 0xFE and i + 1 < n:
            ch = table.get(bytes((b & 0x7F, data[i + 1] & 0x7F)))
            if ch is None or data[i + 1] < 0xA1:
                ch, clean = "\ufffd", False
            out.append(ch)
            i += 2
        else:
            out.append("\ufffd")
            clean = False
            i += 1
    return "".join(out), clean


# ---------------------------------------------------------------- headers (RFC 2047)

# Encoded text up to the first "?=": some mailers leave a literal "?" inside Q words.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?(\S*?)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_WSP = re.compile(r"[ \t]+")  # folding leaves runs of blanks a reader sees as one


def decode_header(value: str | bytes) -> str:
    """A header value unfolded and decoded: raw 8-bit or JIS bytes, then RFC 2047 words.

    Adjacent encoded words of one charset are joined as bytes before decoding,
    because mailers split words in the middle of a multibyte character.
    """
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    data = _FOLD.sub(b"", data).replace(b"\r", b"").replace(b"\n", b"")
    text = _decode_detected(data)[0] if _HIGH.search(data) or b"\x1b" in data else data.decode()
    if "=?" not in text:
        return _WSP.sub(" ", text).strip()
    out: list[str] = []
    run_label: str | None = None
    run: list[bytes] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        label = match.group(1)
        key = normalize_label(label) or label.lower()
        # RFC 2047 6.2: white space between adjacent encoded words is not displayed.
        joined = pos > 0 and not between.strip()
        if not (joined and key == run_label):
            _flush(out, run, run_label)
        if not joined:
            out.append(between)
        run_label = key
        run.append(_word_bytes(match.group(2), match.group(3)))
        pos = match.end()
    _flush(out, run, run_label)
    out.append(text[pos:])
    return _WSP.sub(" ", "".join(out)).strip()


def _flush(out: list[str], run: list[bytes], label: str | None) -> None:
    """Decode the pending same-charset encoded words as one byte string."""
    if run:
        out.append(decode(b"".join(run), label)[0])
        run.clear()


def _word_bytes(encoding: str, encoded: str) -> bytes:
    """The bytes of one encoded word, tolerating bad padding and stray characters."""
    if encoding in "qQ":
        return binascii.a2b_qp(encoded.encode("ascii", "replace"), header=True)
    clean = re.sub(r"[^A-Za-z0-9+/]", "", encoded)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    clean += "=" * (-len(clean) % 4)
    try:
        return binascii.a2b_base64(clean)
    except binascii.Error:
        return b""


_ENCODERS = {ISO2022JP: "iso2022_jp", SHIFT_JIS: "cp932", EUC_JP: "euc_jp", UTF8: "utf-8"}


def encode(text: str, codec: str) -> bytes:
    """``text`` in the charset a part was decoded with (the ``codec`` ``decode`` returned).

    A character the charset lacks is written in its NFKC form (㈱ → (株), ① → 1)
    rather than lost; what still does not fit raises UnicodeEncodeError.
    """
    python = _ENCODERS.get(codec, codec)
    try:
        return text.encode(python)
    except UnicodeEncodeError:
        pass
    return "".join(_fits(ch, python) for ch in text).encode(python)


def _fits(ch: str, python: str) -> str:
    try:
        ch.encode(python)
    except UnicodeEncodeError:
        return unicodedata.normalize("NFKC", ch)
    return ch
