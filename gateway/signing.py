"""DKIM signing (RFC 6376, RFC 8463): the last step before a mail goes to the next hop.

Keys
    ``KeyRing.load(profiles)`` reads every ``senders.NAME.dkim`` key file once
    (loading a PEM validates the key: tens of milliseconds, so never per
    mail). PEM, PKCS#1 (``BEGIN RSA PRIVATE KEY``) or PKCS#8 (``BEGIN PRIVATE
    KEY``); RSA of at least 2048 bits or Ed25519. dkimpy's raw Ed25519 form
    (the base64 of the 32-byte seed, as ``dknewkey`` writes it) is accepted
    too. Anything weaker or unreadable is refused with an error naming the
    file. A ring never changes once read: SIGHUP reads the files into a new one
    with the reloaded config (``gateway.reload``), and keeps the old ring if any
    file fails.

Which keys sign
    Every key of the sender profile (``SenderProfile.signing_keys``) whose ``d=`` aligns with the
    RFC5322.From domain under relaxed DMARC alignment, here: equal to it or a
    parent of it on a label boundary. With an RSA and an Ed25519 key for the
    domain, the mail carries both signatures (RFC 8463 dual signing: a
    receiver that does not know Ed25519 still finds the RSA one). The
    signatures are prepended in the profile's key order; the rest of the mail
    is not re-serialised.

What is signed
    ``c=relaxed/relaxed``, ``a=rsa-sha256`` or ``a=ed25519-sha256``, no ``l=``,
    ``i=@d``, ``t=`` now, no ``x=``. ``h=`` (see ``signed_header_names``):

    - over-signed, listed once more than they occur (so that a copy added
      on the way, even of a field the mail lacks, breaks the signature):
      From, Subject, Date, To, Message-ID, List-Unsubscribe,
      List-Unsubscribe-Post (``OVERSIGNED``);
    - signed as often as they occur: Cc, Reply-To, MIME-Version,
      Content-Type, Content-Transfer-Encoding (``SIGNED``).

8-bit bodies
    A body with octets over 0x7f (Shift_JIS or EUC-JP sent ``8bit``, or
    ``binary``) is transfer-encoded first (gateway.mime.seven_bit: text parts
    to quoted-printable, others to base64, charsets kept), because a hop that
    downgrades 8BITMIME, or a verifier that handles the body as text, would
    break the body hash. A 7-bit mail is signed as is.

Speed
    The signature is computed with ``cryptography`` over the same canonical
    form and header as dkimpy builds (dkimpy's canonicalisation, header
    selection and folding are used), so the output is byte-identical to
    ``dkim.sign`` with the same key, header list and time (the tests check it)
    — RSA-2048 in dkimpy's pure-Python arithmetic costs about 8.6 ms, through
    OpenSSL about 0.4 ms. A mail whose signing would hold the event loop for
    more than about 3 ms (a large body: canonicalising and hashing it is
    linear) is signed in a worker thread; a smaller one inline: a thread
    hand-off costs CPU of its own and makes the loop wait for the GIL, and a
    gateway with a worker process per core gains nothing from it
    (benchmarks/sign_bench.py measures both).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim.canonicalization import CanonicalizationPolicy

from gateway.address import AddressError, normalize_domain
from gateway.dmarc import is_public_suffix
from gateway.mime import MimeError, seven_bit
from gateway.profile import DkimKey, SenderProfile

OVERSIGNED = (
    "from",
    "subject",
    "date",
    "to",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
"""Signed once more than they occur in the mail: no copy of them can be added."""

SIGNED = ("cc", "reply-to", "mime-version", "content-type", "content-transfer-encoding")
"""Signed as often as they occur."""

MIN_RSA_BITS = 2048
INLINE_BYTES = 64 * 1024
"""Mails up to this size are signed on the event loop: about 0.5 ms with RSA-2048 and
Ed25519 on the example mails, plus about 0.045 ms per KB (about 3 ms at 64 KB); larger
ones in a worker thread."""

_CANON = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_NAME = b"DKIM-Signature"

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class SigningKeyError(Exception):
    """A DKIM key file cannot be used (unreadable, not a key, too weak, unsupported type)."""


class SigningError(Exception):
    """A mail cannot be signed (malformed header, key not loaded)."""


@dataclass(frozen=True)
class SigningKey:
    """A loaded key with its ``d=`` and ``s=``."""

    domain: str  # lower-case A-labels
    selector: str
    key_file: str
    private_key: PrivateKey

    @property
    def algorithm(self) -> bytes:
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return b"rsa-sha256"
        return b"ed25519-sha256"


def read_key(path: str | Path) -> PrivateKey:
    """The private key in the file ``path``; SigningKeyError names the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"DKIM key {path}: cannot read it: {exc.strerror}") from None
    key: object
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            raise SigningKeyError(
                f"DKIM key {path}: the key is encrypted; give it without a passphrase"
            ) from None
        except ValueError as exc:
            raise SigningKeyError(f"DKIM key {path}: not a usable PEM private key: {exc}") from None
    else:
        key = _raw_ed25519(data, path)
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise SigningKeyError(
                f"DKIM key {path}: RSA key of {key.key_size} bits; "
                f"at least {MIN_RSA_BITS} are required (RFC 8301)"
            )
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise SigningKeyError(
        f"DKIM key {path}: a {type(key).__name__.lstrip('_')} key; DKIM signs with RSA or Ed25519"
    )


def _raw_ed25519(data: bytes, path: str | Path) -> ed25519.Ed25519PrivateKey:
    try:
        seed = base64.b64decode(b"".join(data.split()), validate=True)
    except binascii.Error:
        seed = b""
    if len(seed) != 32:
        raise SigningKeyError(f"DKIM key {path}: not a PEM private key (nor a base64 Ed25519 seed)")
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def public_record(key: PrivateKey) -> str:
    """The DKIM key record (the TXT value) that publishes the public half of ``key``."""
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"


def _profiles(
    profiles: Mapping[str, SenderProfile] | Iterable[SenderProfile],
) -> list[SenderProfile]:
    if isinstance(profiles, Mapping):
        return list(cast(Mapping[str, SenderProfile], profiles).values())
    return list(profiles)


class KeyRing:
    """Every DKIM key of the sender profiles, read once."""

    def __init__(self, keys: Mapping[str, PrivateKey], profiles: Sequence[SenderProfile]) -> None:
        self._keys = dict(keys)  # key_file -> key
        self._profiles = list(profiles)

    @classmethod
    def load(cls, profiles: Mapping[str, SenderProfile] | Iterable[SenderProfile]) -> KeyRing:
        """Read every key file the profiles name; SigningKeyError on the first bad one."""
        chosen = _profiles(profiles)
        return cls(_read_all(chosen), chosen)

    def __len__(self) -> int:
        return len(self._keys)

    def keys_for(self, from_domain: str, profile: SenderProfile) -> list[SigningKey]:
        """The profile's keys that sign a mail From ``from_domain``, in the profile's order."""
        keys = self._keys
        chosen = []
        for dk in profile.signing_keys(from_domain):
            key = keys.get(dk.key_file)
            if key is None:
                raise SigningError(f"DKIM key {dk.key_file} was not loaded")
            chosen.append(SigningKey(normalize_domain(dk.domain), dk.selector, dk.key_file, key))
        return chosen

    async def sign(
        self, raw: bytes, from_domain: str, profile: SenderProfile, *, prefix: bytes = b""
    ) -> bytes:
        """``raw`` signed with every aligned key of ``profile``; unchanged when none aligns.

        8-bit bodies are transfer-encoded first (see the module text); the
        DKIM-Signature fields are prepended, in the line ending the mail uses.
        ``prefix`` (header fields no signature covers, such as the decision
        header) goes between the signatures and the mail: the mail is copied
        once, however many fields are added.
        """
        keys = self.keys_for(from_domain, profile)
        if not keys:
            return prefix + raw if prefix else raw
        now = int(time.time())
        if len(raw) <= INLINE_BYTES:
            return sign_message(raw, keys, now, prefix)
        return await asyncio.to_thread(sign_message, raw, keys, now, prefix)


def _read_all(profiles: Iterable[SenderProfile]) -> dict[str, PrivateKey]:
    keys: dict[str, PrivateKey] = {}
    for profile in profiles:
        for dk in profile.dkim:
            if dk.key_file not in keys:
                keys[dk.key_file] = read_key(dk.key_file)
            _check_names(dk)
    return keys


def _check_names(dk: DkimKey) -> None:
    try:
        domain = normalize_domain(dk.domain)
    except AddressError as exc:
        raise SigningKeyError(f"DKIM key {dk.key_file}: bad domain {dk.domain!r}: {exc}") from None
    if is_public_suffix(domain):
        # A d= above the organisational domain would sign every mail under it and align
        # with none of them (RFC 7489 §3.1): a typo, never what the operator meant.
        raise SigningKeyError(
            f"DKIM key {dk.key_file}: domain {dk.domain!r} is a public suffix;"
            " sign with the sender's own domain"
        )
    if not dk.selector or not dk.selector.isascii():
        raise SigningKeyError(f"DKIM key {dk.key_file}: bad selector {dk.selector!r}")


def signed_header_names(headers: Sequence[Sequence[bytes]]) -> list[bytes]:
    """The ``h=`` list for a mail with these header fields (see OVERSIGNED and SIGNED)."""
    count: dict[bytes, int] = {}
    for name, _ in headers:
        low = name.lower()
        count[low] = count.get(low, 0) + 1
    names: list[bytes] = []
    for field in OVERSIGNED:
        f = field.encode()
        names += [f] * (count.get(f, 0) + 1)
    for field in SIGNED:
        f = field.encode()
        names += [f] * count.get(f, 0)
    return names


def sign_message(raw: bytes, keys: Sequence[SigningKey], now: int, prefix: bytes = b"") -> bytes:
    """The synchronous core of ``KeyRing.sign``: ``raw`` made 7-bit, signed at ``now``."""
    try:
        message = seven_bit(raw)
        headers, bodyhash = _parse_and_hash(message)
    except (MimeError, dkim.MessageFormatError) as exc:
        raise SigningError(f"the mail cannot be signed: {exc}") from None
    lead = prefix or message  # the first line of what is sent tells its line ending
    first = lead.find(b"\n")
    linesep = b"\r\n" if first > 0 and lead[first - 1 : first] == b"\r" else b"\n"
    include = tuple(signed_header_names(headers))
    # the fields h= picks (dkimpy's selection: bottom-up per name), canonicalised once for
    # every key; relaxed canonicalisation is per field, so this equals canonicalising all
    signed = _CANON.canonicalize_headers(dkim.select_headers(headers, include))
    fields = [signature_field(key, include, signed, bodyhash, now, linesep) for key in keys]
    return b"".join([*fields, prefix, message])


def _parse_and_hash(message: bytes) -> tuple[list[list[bytes]], bytes]:
    """dkimpy's header fields of ``message`` and the base64 SHA-256 of its relaxed body.

    dkimpy's rfc822_parse splits the whole mail into lines and joins the body
    again with CRLF, and its canonicalisation copies the body twice more: for
    a 25 MB mail, four copies and a list of 300,000 lines. A mail whose body
    already has CRLF line ends and nothing for the relaxed rules to change (no
    tab, no run of spaces, no space before a line end: base64 and most
    quoted-printable) is hashed where it lies; any other is read dkimpy's way.
    """
    split = _HEADER_END.search(message)
    if split is not None and not message.startswith((b"\n", b"\r\n")):
        start = split.end()
        if message.count(b"\n", start) == message.count(b"\r\n", start) and all(
            message.find(mark, start) < 0 for mark in (b"\t", b"  ", b" \r\n")
        ):
            headers, _ = dkim.rfc822_parse(message[:start])
            end = len(message)
            while end - start >= 2 and message.endswith(b"\r\n", start, end):
                end -= 2  # RFC 6376 §3.4.4: empty lines at the end are ignored ...
            digest = hashlib.sha256(memoryview(message)[start:end])
            if end > start:
                digest.update(b"\r\n")  # ... and a non-empty body ends with one CRLF
            return headers, base64.b64encode(digest.digest())
    headers, body = dkim.rfc822_parse(message)
    canonical = _CANON.canonicalize_body(body)
    return headers, base64.b64encode(hashlib.sha256(canonical).digest())


def signature_field(
    key: SigningKey,
    include: tuple[bytes, ...],
    signed_headers: list[tuple[bytes, bytes]],
    bodyhash: bytes,
    now: int,
    linesep: bytes = b"\r\n",
) -> bytes:
    """One DKIM-Signature field, built as dkimpy's ``DKIM.sign`` builds it, signed by OpenSSL."""
    domain = key.domain.encode("ascii")
    tags: list[tuple[bytes, bytes]] = [
        (b"v", b"1"),
        (b"a", key.algorithm),
        (b"c", b"relaxed/relaxed"),
        (b"d", domain),
        (b"i", b"@" + domain),
        (b"q", b"dns/txt"),
        (b"s", key.selector.encode("ascii")),
        (b"t", str(now).encode("ascii")),
        (b"h", b" : ".join(include)),
        (b"bh", bodyhash),
        (b"b", b"0" * 60),  # dkimpy's placeholder: b= folds onto its own line
    ]
    value = dkim.fold(
        b"; ".join(b"=".join(t) for t in tags), namelen=len(_HEADER_NAME), linesep=b"\r\n"
    )
    value = dkim.RE_BTAG.sub(b"\\1", value)
    hasher = hashlib.sha256()
    # dkim.hash_headers: the selected fields, then this field without b= and its CRLF
    for name, field in signed_headers:
        hasher.update(name + b":" + field)
    for name, field in _CANON.canonicalize_headers([(_HEADER_NAME, b" " + value)]):
        hasher.update(name + b":" + field.rstrip())
    digest = hasher.digest()
    pk = key.private_key
    if isinstance(pk, rsa.RSAPrivateKey):
        signature = pk.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    else:
        signature = pk.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the header data
    tags[-1] = (b"b", base64.b64encode(signature))
    value = b"; ".join(b"=".join(t) for t in tags) + linesep
    value = bytes(dkim.fold(value, namelen=len(_HEADER_NAME), linesep=linesep))
    return _HEADER_NAME + b": " + value
