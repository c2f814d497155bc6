"""SMTP AUTH passwords as the config stores them: plain text or a salted scrypt hash.

Operators may paste a plain password while testing, but should store the
``$scrypt$`` form made by :func:`hash_password`; both are checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "$scrypt$"
# RFC 7914 interactive-login parameters: about 16 MiB and some 30 ms per check.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """Return ``$scrypt$n=…,r=…,p=…$salt$key`` (base64), self-describing so parameters can grow."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, _N, _R, _P, _KEY_BYTES)
    return f"{PREFIX}n={_N},r={_R},p={_P}${_b64(salt)}${_b64(key)}"


def verify_password(stored: str, given: str) -> bool:
    """True when ``given`` matches ``stored``; a malformed hash never matches."""
    if not stored.startswith(PREFIX):
        return hmac.compare_digest(stored.encode(), given.encode())
    try:
        params, salt_b64, key_b64 = stored[len(PREFIX) :].split("$")
        fields = dict(item.split("=", 1) for item in params.split(","))
        n, r, p = int(fields["n"]), int(fields["r"]), int(fields["p"])
        salt = base64.b64decode(salt_b64, validate=True)
        key = base64.b64decode(key_b64, validate=True)
        candidate = _scrypt(given, salt, n, r, p, len(key))
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(candidate, key)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_MAXMEM)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
