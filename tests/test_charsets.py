"""Charset decoding: CP50220 extras, aliases, wrong or missing labels, RFC 2047 words.

Expected characters come from the JIS X 0208 / CP932 (NEC, IBM) code tables and
the RFC 2047 section 8 examples; input bytes are built from code points here.
"""

from __future__ import annotations

import base64
import random

import pytest

from gateway.charsets import decode, decode_header, decode_iso2022jp, normalize_label

ESC_KANJI = b"\x1b$B"
ESC_ASCII = b"\x1b(B"


def jis(*code_points: int) -> bytes:
    """An ISO-2022-JP run of JIS X 0208 code points, back to ASCII at the end."""
    return ESC_KANJI + b"".join(cp.to_bytes(2, "big") for cp in code_points) + ESC_ASCII


def b_word(charset: str, data: bytes) -> str:
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


# ---- ISO-2022-JP with the Windows CP50220 extras


def test_nec_row13_circled_digit_and_kabushiki() -> None:
    # JIS 0x2D21 is ① and 0x2D6A is ㈱ in the NEC row-13 table (CP932 0x8740, 0x878D).
    assert decode_iso2022jp(jis(0x2D21, 0x2D6A)) == "①㈱"


def test_nec_selected_ibm_extension() -> None:
    # JIS 0x7921 (row 89) is 纊 U+7E8A, NEC-selected IBM extension (CP932 0xED40).
    assert decode_iso2022jp(jis(0x7921)) == "纊"


def test_plain_jis_x0208_kanji_and_kana() -> None:
    # 0x467C 日, 0x4B5C 本, 0x244E の (JIS X 0208 table).
    assert decode_iso2022jp(b"a" + jis(0x467C, 0x4B5C, 0x244E) + b"b") == "a日本のb"


def test_labelled_iso2022jp_with_extras_reports_iso2022jp() -> None:
    assert decode(jis(0x2D21), "ISO-2022-JP") == ("①", "iso-2022-jp")


def test_half_width_katakana_escape() -> None:
    # ESC ( I: JIS X 0201 katakana; 0x31 is ｱ (0xB1 in the 8-bit table).
    assert decode_iso2022jp(b"\x1b(I\x31\x1b(B") == "ｱ"


def test_jis_roman_escape_reads_as_ascii() -> None:
    assert decode_iso2022jp(b"\x1b(Jabc\x1b(B") == "abc"


def test_iso2022jp2_foreign_designation_uses_python_codec() -> None:
    # ESC $ A designates GB 2312; 0x3021 is 啊 in GB 2312.
    text, codec = decode(b"\x1b$A\x30\x21\x1b(B", "ISO-2022-JP-2")
    assert (text, codec) == ("啊", "iso-2022-jp-2")


def test_undeclared_iso2022jp_detected_from_escape() -> None:
    assert decode(b"x " + jis(0x467C, 0x4B5C), None) == ("x 日本", "iso-2022-jp")


def _sjis_of(j1: int, j2: int) -> bytes:
    """The Shift_JIS bytes of JIS X 0208 cell (j1, j2): the arithmetic of JIS X 0208 Annex 1."""
    s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
    s2 = (j2 + (0x1F if j2 <= 0x5F else 0x20)) if j1 & 1 else j2 + 0x7E
    return bytes((s1, s2))


def test_every_jis_cell_reads_as_cp932_reads_its_shift_jis_twin() -> None:
    # CP50220 is CP932 in 7-bit dress: each of the 94x94 cells must read as Microsoft's
    # CP932 table (Python's cp932 codec) reads the same cell in Shift_JIS, including
    # 〜 (U+FF5E, not U+301C) and the other cells where JIS and CP932 tables disagree.
    checked = 0
    for j1 in range(0x21, 0x7F):
        for j2 in range(0x21, 0x7F):
            try:
                expected = _sjis_of(j1, j2).decode("cp932")
            except UnicodeDecodeError:
                continue
            assert decode_iso2022jp(jis(j1 << 8 | j2)) == expected, hex(j1 << 8 | j2)
            checked += 1
    assert checked > 7000  # JIS X 0208's 6,879 cells plus NEC row 13 and the IBM extensions


def test_wave_dash_of_a_real_mail_reads_as_cp932() -> None:
    # 0x2141 in a Japanese mailer's ISO-2022-JP is 〜; Windows (CP50220) shows U+FF5E.
    assert decode_iso2022jp(b"10:00" + jis(0x2141) + b"18:00") == "10:00\uff5e18:00"


def test_line_breaks_and_tabs_inside_a_kanji_run_are_kept() -> None:
    # A mailer that does not switch back to ASCII before CR LF (or a tab): the control
    # bytes are not halves of a pair; the run goes on after them.
    kanji = ESC_KANJI + b"$3$s\r\n$K\t$A" + ESC_ASCII
    assert decode_iso2022jp(kanji) == "こん\r\nに\tち"


def test_mixed_runs_read_the_same_in_one_call_or_segment_by_segment() -> None:
    # The one-call path (Python's codec, then the CP932 cells) and the segment path must
    # agree on every mail the codec accepts: random mails of ASCII, kanji runs under
    # ESC $ B and ESC $ @, line breaks inside runs, odd bytes and NEC cells (which make
    # the codec fail and so take the segment path both times).
    from gateway.charsets import _iso2022jp, _iso2022jp_by_segment

    rng = random.Random(2022)
    cells = [
        (j1 << 8 | j2).to_bytes(2, "big") for j1 in range(0x21, 0x7F) for j2 in range(0x21, 0x7F)
    ]
    strict = [c for c in cells if _python_reads(ESC_KANJI + c)]  # JIS X 0208 proper
    extra = [c for c in cells if c not in set(strict)]  # NEC row 13, IBM, unassigned
    one_call = 0
    for _ in range(2000):
        out = b""
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            if kind < 0.4:
                out += bytes(rng.choice(b"abc XYZ 123.:/\r\n\t") for _ in range(rng.randint(0, 9)))
            else:
                out += rng.choice((b"\x1b$B", b"\x1b$@"))
                for _ in range(rng.randint(0, 8)):
                    roll = rng.random()
                    if roll < 0.1:
                        out += b"\r\n"
                    elif roll < 0.11:
                        out += rng.choice(cells)[:1]  # a broken pair
                    elif roll < 0.12:
                        out += rng.choice(extra)
                    else:
                        out += rng.choice(strict)
                if rng.random() < 0.9:
                    out += ESC_ASCII
        one_call += _python_reads(out)
        assert _iso2022jp(out) == _iso2022jp_by_segment(out), out
    assert one_call > 500  # both paths were compared on many mails, not only the slow one


def _python_reads(data: bytes) -> bool:
    try:
        data.decode("iso2022_jp")
    except UnicodeDecodeError:
        return False
    return True


# ---- Shift_JIS and aliases


@pytest.mark.parametrize(
    "label", ["Windows-31J", "shift_jis", "x-sjis", "SJIS", "MS_Kanji", "cp932", "csShiftJIS"]
)
def test_shift_jis_aliases_decode_with_cp932(label: str) -> None:
    # CP932 0x8740 is ①, 0x93FA 0x967B is 日本.
    assert decode(b"\x87\x40\x93\xfa\x96\x7b", label) == ("①日本", "shift_jis")


def test_windows_31j_unknown_to_python_is_normalised() -> None:
    assert normalize_label("Windows-31J") == "shift_jis"
    assert normalize_label('"EUC-JP"') == "euc-jp"
    assert normalize_label("x-unknown-thing") is None


# ---- EUC-JP


def test_euc_jp() -> None:
    # EUC-JP is JIS X 0208 with the high bit set: 日本 = C6FC CBDC.
    assert decode(b"\xc6\xfc\xcb\xdc", "x-euc-jp") == ("日本", "euc-jp")


def test_euc_jp_ms_nec_row13() -> None:
    # eucJP-ms / CP51932 put NEC row 13 at 0xAD: 0xADA1 is ①.
    assert decode(b"\xad\xa1", "eucJP-ms") == ("①", "euc-jp")


# ---- wrong and missing labels


def test_shift_jis_labelled_us_ascii() -> None:
    # こんにちは in Shift_JIS: 82B1 82F1 82C9 82BF 82CD.
    data = bytes.fromhex("82b182f182c982bf82cd")
    assert decode(data, "us-ascii") == ("こんにちは", "shift_jis")


def test_shift_jis_labelled_iso2022jp() -> None:
    data = bytes.fromhex("82b182f182c982bf82cd")
    assert decode(data, "iso-2022-jp") == ("こんにちは", "shift_jis")


def test_euc_jp_labelled_us_ascii() -> None:
    # こんにちは in EUC-JP: A4B3 A4F3 A4CB A4C1 A4CF.
    data = bytes.fromhex("a4b3a4f3a4cba4c1a4cf")
    assert decode(data, "us-ascii") == ("こんにちは", "euc-jp")


def test_euc_jp_labelled_shift_jis() -> None:
    # 日本語です in EUC-JP (C6FC CBDC B8EC A4C7 A4B9): not valid CP932 throughout.
    data = bytes.fromhex("c6fccbdcb8eca4c7a4b9")
    assert decode(data, "shift_jis") == ("日本語です", "euc-jp")


def test_utf8_labelled_latin1() -> None:
    assert decode("日本語".encode(), "iso-8859-1") == ("日本語", "utf-8")


def test_no_label_utf8() -> None:
    assert decode("配信停止".encode(), None) == ("配信停止", "utf-8")


def test_real_latin1_kept() -> None:
    assert decode("café".encode("latin-1"), "ISO-8859-1") == ("café", "iso-8859-1")


def test_utf16_label() -> None:
    assert decode("Test".encode("utf-16-le"), "utf-16le") == ("Test", "utf-16le")


@pytest.mark.parametrize("label", [None, "us-ascii", "iso-2022-jp", "shift_jis", "euc-jp", "utf-8"])
def test_garbage_never_raises(label: str | None) -> None:
    data = bytes(range(256)) * 3 + b"\x1b$B\xff\x1b(I\x1b$(Q!"
    text, codec = decode(data, label)
    assert isinstance(text, str)
    assert codec


# ---- headers


def test_rfc2047_examples() -> None:
    # RFC 2047 section 8: white space between adjacent encoded words is ignored.
    assert decode_header("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=") == "ab"
    assert decode_header("=?ISO-8859-1?Q?a?= b") == "a b"
    assert decode_header("(=?ISO-8859-1?Q?a_b?=)") == "(a b)"
    assert decode_header("=?ISO-8859-1?Q?Andr=E9?= Pirard") == "André Pirard"


def test_split_multibyte_across_b_words() -> None:
    data = "テスト".encode()  # 9 bytes: split inside the second character
    value = b_word("UTF-8", data[:4]) + "\r\n " + b_word("UTF-8", data[4:])
    assert decode_header(value) == "テスト"


def test_split_iso2022jp_words_carry_the_escape_state() -> None:
    # The second word continues the kanji run begun by the first.
    first = ESC_KANJI + (0x467C).to_bytes(2, "big")
    second = (0x4B5C).to_bytes(2, "big") + ESC_ASCII
    value = b_word("ISO-2022-JP", first) + " " + b_word("iso-2022-jp", second)
    assert decode_header(value) == "日本"


def test_cp50220_in_encoded_word() -> None:
    assert decode_header(b_word("ISO-2022-JP", jis(0x2D6A)) + " Co.") == "㈱ Co."


def test_q_word_with_literal_question_mark() -> None:
    # From mail-jdec's iso-2022-jp_splitted_q_value fixture: JIS 0x3A39 0x3D50 0x3F4D 差出人.
    assert decode_header("=?ISO-2022-JP?Q?=1B$B:9=3DP?M=1B(B?= <t@example.com>") == (
        "差出人 <t@example.com>"
    )


def test_raw_iso2022jp_header() -> None:
    assert decode_header(jis(0x467C, 0x4B5C) + b" news") == "日本 news"


def test_raw_utf8_header_rfc6532() -> None:
    assert decode_header("Jöhn Doe <jdöe@example>".encode()) == "Jöhn Doe <jdöe@example>"


def test_raw_shift_jis_header() -> None:
    assert decode_header(bytes.fromhex("82b182f182c982bf82cd")) == "こんにちは"


def test_folding_unfolded_and_whitespace_collapsed() -> None:
    assert decode_header("Re: TEST\r\n \r\n\t=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=") == (
        "Re: TEST テスト"
    )


def test_unknown_charset_in_word_is_detected() -> None:
    assert decode_header(b_word("x-bogus", "日本".encode())) == "日本"
