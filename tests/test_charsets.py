"""Charset decoding: CP50220 extras, aliases, wrong or missing labels, RFC 2047 words.

Expected characters come from the JIS X 0208 / CP932 (NEC, IBM) code tables and
the RFC 2047 section 8 examples; input bytes are built from code points here.
"""

from __future__ import annotations

import base64

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
