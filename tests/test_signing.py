"""DKIM signing: our signatures verify with dkimpy and with Perl's Mail::DKIM.

dkimpy checks them with its ``dnsfunc`` fed by the key records; Mail::DKIM,
an independent implementation (tests/maildkim_verify.pl), fetches the key
records from a real DNS server on loopback. The fast path (OpenSSL through
``cryptography``) is compared byte for byte with dkimpy's own signer.
"""

from __future__ import annotations

import asyncio
import base64
import email
import hashlib
import re
import shutil
import threading
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gateway import signing
from gateway.dnsserver import ZoneServer
from gateway.mime import seven_bit
from gateway.profile import DkimKey, SenderProfile
from gateway.signing import (
    KeyRing,
    SigningError,
    SigningKey,
    SigningKeyError,
    public_record,
    read_key,
    sign_message,
    signed_header_names,
)
from tests.cases import EXAMPLES
from tests.conftest import SHARED
from tests.dkimpeers import OpenDkim, expected_maildkim, key_zone, maildkim, with_parseable_from

CORPUS = SHARED / "corpora" / "dkim" / "dkimpy-1.1.8"
NOW = 1_796_000_000

# key file -> the key record the corpus publishes for it
CORPUS_KEYS = {
    "2048_testkey.key": (CORPUS / "2048_testkey_wo_markers.pub.txt").read_text().strip(),
    "2048_testkey_PKCS8.key": (CORPUS / "2048_testkey_PKCS8.key.pub.txt").read_text().strip(),
    "rfc8032_7_1.key": "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
}

MAILS = {
    "iso-2022-jp": "01_ad_compliant_iso2022jp.eml",
    "utf-8": "08_ad_html_only_utf8_qp.eml",
    "shift_jis-8bit": "09_ad_alternative_shift_jis.eml",
}

EUC_8BIT = (
    b"From: =?ISO-2022-JP?B?GyRCPn5MWhsoQg==?= <news@ogiya.example>\r\n"
    b"To: yoshida@example.jp\r\n"
    b"Subject: euc\r\n"
    b"Date: Thu, 03 Dec 2026 09:00:00 +0900\r\n"
    b"Message-ID: <euc-1@ogiya.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=EUC-JP\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
) + "扇屋商店のお知らせです。\r\n配信停止はこちら。\r\n".encode("euc-jp")


def from_domain(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=policy.default)
    # some examples encode the whole From (address included) as one encoded-word
    return str(re.findall(r"@([A-Za-z0-9.-]+)", str(message["From"]))[-1])


def dns_of(records: dict[str, str]) -> Callable[..., bytes | None]:
    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".")
        value = records.get(key)
        return value.encode() if value is not None else None

    return dnsfunc


def dkimpy_results(signed: bytes, records: dict[str, str]) -> list[bool]:
    """dkimpy's verdict on every DKIM-Signature of ``signed``, top first."""
    d = dkim.DKIM(signed)
    count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
    results = []
    for i in range(count):
        try:
            results.append(bool(d.verify(idx=i, dnsfunc=dns_of(records))))
        except dkim.DKIMException:  # dkimpy raises some failures (body hash) instead
            results.append(False)
    return results


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """name -> (key file, key record): the corpus keys plus a new PKCS#8 Ed25519 and RSA key."""
    out = {name: (CORPUS / name, record) for name, record in CORPUS_KEYS.items()}
    folder = tmp_path_factory.mktemp("keys")
    new: dict[str, signing.PrivateKey] = {
        "ed25519_pkcs8.pem": ed25519.Ed25519PrivateKey.generate(),
        "rsa_pkcs1.pem": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    for name, key in new.items():
        fmt = (
            serialization.PrivateFormat.TraditionalOpenSSL
            if name.startswith("rsa")
            else serialization.PrivateFormat.PKCS8
        )
        path = folder / name
        path.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        )
        out[name] = (path, public_record(key))
    return out


def profile_for(domain: str, chosen: dict[str, tuple[Path, str]]) -> SenderProfile:
    dkim_keys = tuple(
        DkimKey(domain, f"s{i}", str(path)) for i, (path, _) in enumerate(chosen.values())
    )
    return SenderProfile(name="p", consignor="c", from_domains=(domain,), dkim=dkim_keys)


def records_for(profile: SenderProfile, keys: dict[str, tuple[Path, str]]) -> dict[str, str]:
    by_file = {str(path): record for path, record in keys.values()}
    return {f"{k.selector}._domainkey.{k.domain}": by_file[k.key_file] for k in profile.dkim}


# --- the RFC 8463 example -------------------------------------------------------------


def test_the_rfc8463_example_verifies_both_signatures_with_dkimpy() -> None:
    signed = (CORPUS / "rfc6376.signed.msg").read_bytes()
    records = {
        "brisbane._domainkey.football.example.com": CORPUS_KEYS["rfc8032_7_1.key"],
        "test._domainkey.football.example.com": (CORPUS / "test.txt").read_text().strip(),
    }
    assert dkimpy_results(signed, records) == [True, True]
    sigs = [v for k, v in dkim.DKIM(signed).headers if k.lower() == b"dkim-signature"]
    assert [b"a=ed25519-sha256" in s for s in sigs] == [True, False]
    # and a key record that does not match fails: the check is real
    records["test._domainkey.football.example.com"] = CORPUS_KEYS["2048_testkey.key"]
    assert dkimpy_results(signed, records) == [True, False]


# --- our signatures, with dkimpy ------------------------------------------------------


@pytest.mark.parametrize("mail", MAILS)
@pytest.mark.parametrize(
    "chosen",
    [
        ("2048_testkey.key",),
        ("2048_testkey_PKCS8.key",),
        ("rsa_pkcs1.pem",),
        ("rfc8032_7_1.key",),
        ("ed25519_pkcs8.pem",),
        ("2048_testkey_PKCS8.key", "ed25519_pkcs8.pem"),
    ],
    ids=lambda c: "+".join(c),
)
async def test_our_signatures_verify_with_dkimpy(
    mail: str, chosen: tuple[str, ...], keys: dict[str, tuple[Path, str]]
) -> None:
    raw = (EXAMPLES / MAILS[mail]).read_bytes()
    domain = from_domain(raw)
    profile = profile_for(domain, {name: keys[name] for name in chosen})
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    assert signed.count(b"DKIM-Signature:") == len(chosen)
    assert dkimpy_results(signed, records_for(profile, keys)) == [True] * len(chosen)


async def test_the_signature_breaks_when_the_mail_is_changed(
    keys: dict[str, tuple[Path, str]],
) -> None:
    raw = (EXAMPLES / MAILS["iso-2022-jp"]).read_bytes()
    domain = from_domain(raw)
    profile = profile_for(domain, {"k": keys["2048_testkey.key"], "e": keys["rfc8032_7_1.key"]})
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    records = records_for(profile, keys)
    assert dkimpy_results(signed + b"P.S. 90% off\r\n", records) == [False, False]
    # a second Subject, added on the way, breaks it (Subject is over-signed)
    head, sep, body = signed.partition(b"\r\n\r\n")
    assert dkimpy_results(head + b"\r\nSubject: free\r\n\r\n" + body, records) == [False, False]
    # and so does a List-Unsubscribe the mail did not have when it was signed
    if b"List-Unsubscribe:" not in raw:
        added = head + b"\r\nList-Unsubscribe: <https://evil.test/u>" + sep + body
        assert dkimpy_results(added, records) == [False, False]


# --- byte-identical with dkimpy's own signer ------------------------------------------


def dkimpy_sign(
    message: bytes, key: SigningKey, key_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    headers, _ = dkim.rfc822_parse(message)
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: NOW + 0.25)
        return bytes(
            dkim.sign(
                message,
                key.selector.encode(),
                key.domain.encode(),
                key_bytes,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=signed_header_names(headers),
                signature_algorithm=key.algorithm,
                linesep=b"\r\n" if b"\r\n" in message else b"\n",
            )
        )


def _dkimpy_parse_and_hash(message: bytes) -> tuple[list[list[bytes]], bytes]:
    headers, body = dkim.rfc822_parse(message)
    canonical = dkim.canonicalization.Relaxed.canonicalize_body(body)
    return headers, base64.b64encode(hashlib.sha256(canonical).digest())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n",
        b"\r\n\r\n\r\n",
        b"no final line break",
        b"one\r\ntwo\r\n\r\n\r\n",
        b"two  spaces\r\n",
        b"a\ttab\r\n",
        b"trailing \r\n",
        b"trailing\t\r\nx",
        b"  \r\n \r\n",
        b"=E3=81=82 =E3=81=84\r\n",
        b"lf only\nlines\n\n",
        b"mixed\r\nline\nends\r\n",
        b"lone\rcr\r\n",
    ],
)
@pytest.mark.parametrize(
    "head", [b"From: a@b.example\r\nSubject: x\r\n\r\n", b"From: a@b.example\n\n"]
)
def test_body_hash_and_fields_are_dkimpys(head: bytes, body: bytes) -> None:
    # RFC 6376 §3.4.4 as dkimpy reads and canonicalises a mail: the expected value is its own.
    message = head + body
    assert signing._parse_and_hash(message) == _dkimpy_parse_and_hash(message)


def test_body_hash_and_fields_are_dkimpys_on_every_example_and_corpus_mail() -> None:
    paths = [*EXAMPLES.glob("*.eml"), *(SHARED / "corpora" / "mail").rglob("*.eml")]
    checked = 0
    for path in paths:
        message = seven_bit(path.read_bytes())
        try:
            expected = _dkimpy_parse_and_hash(message)
        except dkim.MessageFormatError:  # a corpus mail with a header dkimpy cannot read
            continue
        assert signing._parse_and_hash(message) == expected, path
        checked += 1
    assert checked > 30


@pytest.mark.parametrize("mail", [*MAILS.values(), "14_ad_english_compliant.eml"])
@pytest.mark.parametrize("name", ["2048_testkey.key", "2048_testkey_PKCS8.key", "rsa_pkcs1.pem"])
def test_the_fast_rsa_path_is_byte_identical_to_dkimpy(
    mail: str, name: str, keys: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = keys[name][0]
    raw = seven_bit((EXAMPLES / mail).read_bytes())
    key = SigningKey("ogiya.example", "sel2026", str(path), read_key(path))
    ours = sign_message(raw, [key], NOW)
    theirs = dkimpy_sign(raw, key, path.read_bytes(), monkeypatch)
    assert ours == theirs + raw


@pytest.mark.parametrize("mail", MAILS.values())
def test_the_ed25519_signature_is_byte_identical_to_dkimpy(
    mail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = CORPUS / "rfc8032_7_1.key"  # dkimpy's own Ed25519 key form: the base64 seed
    raw = seven_bit((EXAMPLES / mail).read_bytes())
    key = SigningKey("ogiya.example", "ed", str(path), read_key(path))
    ours = sign_message(raw, [key], NOW)
    assert ours == dkimpy_sign(raw, key, path.read_bytes(), monkeypatch) + raw


def test_lf_mails_get_lf_signatures(
    keys: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (EXAMPLES / MAILS["utf-8"]).read_bytes().replace(b"\r\n", b"\n")
    path = keys["2048_testkey.key"][0]
    key = SigningKey("minato.example", "s", str(path), read_key(path))
    ours = sign_message(raw, [key], NOW)
    assert b"\r" not in ours
    assert ours == dkimpy_sign(raw, key, path.read_bytes(), monkeypatch) + raw


# --- 8-bit bodies ---------------------------------------------------------------------


def stdlib_texts(raw: bytes) -> list[tuple[str, str | None, str]]:
    message = email.message_from_bytes(raw, policy=policy.default)
    out = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            out.append(
                (part.get_content_type(), part.get_content_charset(), str(part.get_content()))
            )
    return out


@pytest.mark.parametrize("raw", [(EXAMPLES / MAILS["shift_jis-8bit"]).read_bytes(), EUC_8BIT])
async def test_8bit_bodies_are_transfer_encoded_before_signing(
    raw: bytes, keys: dict[str, tuple[Path, str]]
) -> None:
    domain = from_domain(raw)
    profile = profile_for(domain, {"k": keys["2048_testkey.key"]})
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    body = signed.partition(b"\r\n\r\n")[2]
    assert max(body) < 0x80, "the signed mail is 7-bit"
    assert b"Content-Transfer-Encoding: quoted-printable" in signed
    assert stdlib_texts(signed) == stdlib_texts(raw), "same text, same charset"
    assert dkimpy_results(signed, records_for(profile, keys)) == [True]
    # the header fields other than the part's Content-Transfer-Encoding are untouched
    unsigned = without_signatures(signed)
    cte = b"Content-Transfer-Encoding: 8bit\r\n"
    header = raw.partition(b"\r\n\r\n")[0] + b"\r\n"
    if cte in header:  # single part: the mail's own header
        kept = header.replace(cte, b"")
        assert unsigned.startswith(kept + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    else:
        assert unsigned.partition(b"--==alt-09==")[0] == raw.partition(b"--==alt-09==")[0]
        base64_part = raw.rpartition(b"--==alt-09==\r\n")[2]
        assert unsigned.endswith(base64_part), "the 7-bit part is copied byte for byte"


def without_signatures(signed: bytes) -> bytes:
    """``signed`` without the DKIM-Signature fields prepended to it."""
    lines = signed.splitlines(keepends=True)
    i = 0
    while lines[i].startswith(b"DKIM-Signature:"):
        i += 1
        while lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"".join(lines[i:])


async def test_a_7bit_mail_is_signed_as_is(keys: dict[str, tuple[Path, str]]) -> None:
    raw = (EXAMPLES / MAILS["iso-2022-jp"]).read_bytes()
    domain = from_domain(raw)
    profile = profile_for(domain, {"k": keys["rfc8032_7_1.key"]})
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    assert signed.endswith(raw)
    assert signed.startswith(b"DKIM-Signature: ")
    assert seven_bit(raw) is raw


# --- which keys sign, and h= ----------------------------------------------------------


def test_the_header_list_over_signs_the_documented_fields() -> None:
    headers = [
        [b"From", b""],
        [b"To", b""],
        [b"Cc", b""],
        [b"Received", b""],
        [b"Subject", b""],
        [b"Subject", b""],
        [b"Content-Type", b""],
        [b"X-Mailer", b""],
    ]
    assert signed_header_names(headers) == [
        b"from",
        b"from",
        b"subject",
        b"subject",
        b"subject",
        b"date",
        b"to",
        b"to",
        b"message-id",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
        b"cc",
        b"content-type",
    ]


async def test_only_keys_aligned_with_the_from_domain_sign(
    keys: dict[str, tuple[Path, str]],
) -> None:
    raw = (EXAMPLES / MAILS["utf-8"]).read_bytes()  # From: mag@minato.example
    profile = SenderProfile(
        name="p",
        consignor="c",
        dkim=(
            DkimKey("minato.example", "rsa", str(keys["2048_testkey.key"][0])),
            DkimKey("mail.minato.example", "sub", str(keys["rsa_pkcs1.pem"][0])),
            DkimKey("other.example", "x", str(keys["2048_testkey_PKCS8.key"][0])),
            DkimKey("MINATO.example.", "ed", str(keys["rfc8032_7_1.key"][0])),
        ),
    )
    ring = KeyRing.load([profile])
    signed = await ring.sign(raw, "minato.example", profile)
    d = dkim.DKIM(signed)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    assert [dkim.util.parse_tag_value(s)[b"s"] for s in sigs] == [b"rsa", b"ed"]
    # a subdomain From aligns with the parent d= (relaxed), and with its own domain
    sub = await ring.sign(raw, "mail.minato.example", profile)
    assert sub.count(b"DKIM-Signature:") == 3
    assert await ring.sign(raw, "minato.example.evil.test", profile) == raw
    assert await ring.sign(raw, "evilminato.example", profile) == raw


# --- keys -----------------------------------------------------------------------------


def write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_weak_or_wrong_keys_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match=r"1024_testkey\.key: RSA key of 1024 bits"):
        read_key(CORPUS / "1024_testkey.key")
    ec_key = write_pem(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(
        SigningKeyError, match=r"ec\.pem: a \w+ key; DKIM signs with RSA or Ed25519"
    ):
        read_key(ec_key)
    (tmp_path / "junk.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(SigningKeyError, match=r"junk\.pem: not a usable PEM private key"):
        read_key(tmp_path / "junk.pem")
    (tmp_path / "text").write_text("hello")
    with pytest.raises(SigningKeyError, match=r"text: not a PEM private key"):
        read_key(tmp_path / "text")
    locked = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "locked.pem").write_bytes(
        locked.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(SigningKeyError, match=r"locked\.pem: the key is encrypted"):
        read_key(tmp_path / "locked.pem")
    with pytest.raises(SigningKeyError, match=r"missing\.pem: cannot read it"):
        read_key(tmp_path / "missing.pem")


async def test_a_ring_keeps_the_keys_it_read_whatever_happens_to_the_files(
    tmp_path: Path, keys: dict[str, tuple[Path, str]]
) -> None:
    """What SIGHUP relies on: the old ring signs on while a new one is read (or fails to be)."""
    path = tmp_path / "k.pem"
    shutil.copy(keys["2048_testkey.key"][0], path)
    profile = SenderProfile(
        name="p", consignor="c", dkim=(DkimKey("minato.example", "s", str(path)),)
    )
    records = {"s._domainkey.minato.example": keys["2048_testkey.key"][1]}
    raw = (EXAMPLES / MAILS["utf-8"]).read_bytes()
    ring = KeyRing.load({"p": profile})
    shutil.copy(CORPUS / "1024_testkey.key", path)  # a bad key arrives
    with pytest.raises(SigningKeyError, match="1024 bits"):
        KeyRing.load({"p": profile})
    assert dkimpy_results(await ring.sign(raw, "minato.example", profile), records) == [True]
    shutil.copy(keys["rsa_pkcs1.pem"][0], path)  # the rotated key
    rotated = await asyncio.to_thread(KeyRing.load, {"p": profile})
    assert dkimpy_results(await ring.sign(raw, "minato.example", profile), records) == [True]
    signed = await rotated.sign(raw, "minato.example", profile)
    assert dkimpy_results(signed, records) == [False]
    records["s._domainkey.minato.example"] = keys["rsa_pkcs1.pem"][1]
    assert dkimpy_results(signed, records) == [True]
    # a profile whose keys the ring never read cannot sign
    other = SenderProfile(
        name="q", consignor="c", dkim=(DkimKey("minato.example", "t", str(tmp_path / "x")),)
    )
    with pytest.raises(SigningError, match="was not loaded"):
        await ring.sign(raw, "minato.example", other)


@pytest.mark.parametrize("domain", ["co.jp", "jp", "example"])
def test_a_key_for_a_public_suffix_is_refused(
    keys: dict[str, tuple[Path, str]], domain: str
) -> None:
    # d=co.jp would sign every *.co.jp sender's mail and align with none (RFC 7489 §3.1);
    # the Public Suffix List names co.jp and jp, and an unlisted TLD is public by its "*" rule.
    path = keys["2048_testkey.key"][0]
    profile = SenderProfile(name="p", consignor="c", dkim=(DkimKey(domain, "s", str(path)),))
    with pytest.raises(SigningKeyError, match=rf"domain '{domain}' is a public suffix"):
        KeyRing.load({"p": profile})


async def test_a_large_mail_is_signed_in_a_worker_thread(
    keys: dict[str, tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (EXAMPLES / "14_ad_english_compliant.eml").read_bytes()
    line = b"lorem ipsum dolor sit amet\r\n"
    big = raw + line * (signing.INLINE_BYTES // len(line) + 1)
    domain = from_domain(raw)
    profile = profile_for(domain, {"k": keys["2048_testkey.key"]})
    ring = KeyRing.load([profile])
    threads: list[str] = []
    real = signing.sign_message

    def spy(*args: object) -> bytes:
        threads.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(signing, "sign_message", spy)
    await ring.sign(raw, domain, profile)
    signed = await ring.sign(big, domain, profile)
    assert threads[0] == threading.main_thread().name
    assert threads[1] != threading.main_thread().name
    assert dkimpy_results(signed, records_for(profile, keys)) == [True]


# --- independent verifiers over real DNS: Perl's Mail::DKIM and OpenDKIM ----------------


@pytest.mark.parametrize("mail", MAILS)
async def test_mail_dkim_verifies_our_signatures_over_loopback_dns(
    mail: str,
    keys: dict[str, tuple[Path, str]],
    loopback_dns: Callable[..., ZoneServer],
    mail_dkim_ed25519: bool,
) -> None:
    raw = (EXAMPLES / MAILS[mail]).read_bytes()
    domain = from_domain(raw)
    chosen = {n: keys[n] for n in ("2048_testkey.key", "ed25519_pkcs8.pem", "rsa_pkcs1.pem")}
    profile = profile_for(domain, chosen)
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    server = loopback_dns(records_for(profile, keys))
    results = await asyncio.to_thread(maildkim, signed, server.port)
    assert [[r[0], r[1], r[4]] for r in results] == [
        expected_maildkim(a, mail_dkim_ed25519)
        for a in ("rsa-sha256", "ed25519-sha256", "rsa-sha256")
    ]
    assert [r[2:4] for r in results] == [[domain, "s0"], [domain, "s1"], [domain, "s2"]]
    assert {f"s0._domainkey.{domain}", f"s2._domainkey.{domain}"} <= set(server.queries)
    # the same verifier fails a changed mail, and a key it cannot find
    tampered = signed + b"P.S. 90% off\r\n"
    results = await asyncio.to_thread(maildkim, tampered, server.port)
    assert [r[0] for r in results if r[1] == "rsa-sha256"] == ["fail", "fail"]
    server.remove(f"s0._domainkey.{domain}")
    results = await asyncio.to_thread(maildkim, signed, server.port)
    assert [r[0] for r in results if r[1] == "rsa-sha256"] == ["invalid", "pass"]


def test_mail_dkim_verifies_the_rfc8463_example(
    loopback_dns: Callable[..., ZoneServer], mail_dkim_ed25519: bool
) -> None:
    server = loopback_dns(
        {
            "brisbane._domainkey.football.example.com": CORPUS_KEYS["rfc8032_7_1.key"],
            "test._domainkey.football.example.com": (CORPUS / "test.txt").read_text().strip(),
        }
    )
    signed = (CORPUS / "rfc6376.signed.msg").read_bytes()
    assert [[r[0], r[1], r[4]] for r in maildkim(signed, server.port)] == [
        expected_maildkim("ed25519-sha256", mail_dkim_ed25519),
        expected_maildkim("rsa-sha256", mail_dkim_ed25519),
    ]


@pytest.mark.parametrize("mail", MAILS)
@pytest.mark.parametrize("name", ["ed25519_pkcs8.pem", "rfc8032_7_1.key", "2048_testkey.key"])
async def test_opendkim_verifies_our_signatures_over_loopback_dns(
    mail: str, name: str, keys: dict[str, tuple[Path, str]], opendkim: OpenDkim
) -> None:
    raw = with_parseable_from((EXAMPLES / MAILS[mail]).read_bytes())
    domain = from_domain(raw)
    profile = profile_for(domain, {name: keys[name]})
    signed = await KeyRing.load([profile]).sign(raw, domain, profile)
    opendkim.server.update(key_zone(records_for(profile, keys)))
    assert await asyncio.to_thread(opendkim.verify, signed) == (0, "")
    assert opendkim.server.queries == [f"s0._domainkey.{domain}"]
    code, error = await asyncio.to_thread(opendkim.verify, signed + b"P.S. 90% off\r\n")
    assert code != 0
    assert "Bad signature" in error


def test_opendkim_verifies_the_rfc8463_example(opendkim: OpenDkim) -> None:
    signed = (CORPUS / "rfc6376.signed.msg").read_bytes()
    opendkim.server.update(
        key_zone(
            {
                "brisbane._domainkey.football.example.com": CORPUS_KEYS["rfc8032_7_1.key"],
                "test._domainkey.football.example.com": (CORPUS / "test.txt").read_text().strip(),
            }
        )
    )
    assert opendkim.verify(signed) == (0, "")
    assert opendkim.verify(signed.replace(b"Is dinner", b"Is lunch")) != (0, "")


def test_public_record_is_what_dkimpy_reads(keys: dict[str, tuple[Path, str]]) -> None:
    ed = read_key(CORPUS / "rfc8032_7_1.key")
    assert public_record(ed) == CORPUS_KEYS["rfc8032_7_1.key"]
    rsa_key = read_key(CORPUS / "2048_testkey.key")
    p = public_record(rsa_key).rpartition("p=")[2]
    assert p == CORPUS_KEYS["2048_testkey.key"].rpartition("p=")[2]
    assert base64.b64decode(p)


async def test_a_prefix_goes_between_the_signatures_and_the_mail_unsigned(
    keys: dict[str, tuple[Path, str]],
) -> None:
    # The decision header joins the mail in the signing copy; it is no signed field, so a
    # verifier accepts the mail with it, and the mail reads as it would prepended first.
    raw = (EXAMPLES / MAILS["utf-8"]).read_bytes()
    domain = from_domain(raw)
    profile = profile_for(domain, {"k": keys["2048_testkey.key"]})
    field = b"X-Tokuden-Decision: 1; outcome=pass\r\n"
    signed = await KeyRing.load([profile]).sign(raw, domain, profile, prefix=field)
    assert signed.startswith(b"DKIM-Signature: ")
    assert signed.endswith(field + raw)
    records = {f"s0._domainkey.{domain}": keys["2048_testkey.key"][1]}
    assert dkimpy_results(signed, records) == [True]
    unsigned = SenderProfile(name="n", consignor="n")
    assert await KeyRing.load([unsigned]).sign(raw, domain, unsigned, prefix=field) == field + raw
