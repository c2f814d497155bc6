"""``tokuden dkim keygen``: a new DKIM signing key, and the DNS record that publishes it."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from gateway.address import AddressError, normalize_domain
from gateway.signing import PrivateKey, public_record

RSA_BITS = 2048
_SELECTOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_-]+)*$")
_TXT_CHUNK = 255  # the longest character-string of a TXT record (RFC 1035 3.3)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("dkim", help="DKIM signing keys")
    dsub = p.add_subparsers(dest="dkim_command", required=True, metavar="ACTION")
    k: argparse.ArgumentParser = dsub.add_parser(
        "keygen",
        help="write a new private key (PKCS#8 PEM, mode 0600) and print its DNS TXT record",
    )
    k.add_argument("--domain", required=True, metavar="D", help="the signing domain (d=)")
    k.add_argument("--selector", required=True, metavar="S", help="the selector (s=)")
    k.add_argument(
        "--type", choices=("rsa", "ed25519"), default="rsa", help="RSA-2048 (default) or Ed25519"
    )
    k.add_argument(
        "--out", default=".", metavar="DIR", help="where to write D.S.TYPE.pem (default: here)"
    )
    k.set_defaults(run=run_keygen)


def run_keygen(args: argparse.Namespace) -> int:
    try:
        domain = normalize_domain(args.domain)
    except AddressError as exc:
        return _usage(f"bad --domain: {exc}")
    if "." not in domain:
        return _usage(f"bad --domain {args.domain!r}: not a fully qualified domain")
    selector = args.selector
    if not _SELECTOR.match(selector):
        return _usage(f"bad --selector {selector!r}: letters, digits, '-' and '_' in dot labels")
    out = Path(args.out)
    if not out.is_dir():
        return _usage(f"--out {out}: no such directory")
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        if args.type == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = out / f"{domain}.{selector}.{args.type}.pem"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _usage(f"{path} exists; not overwritten")
    except OSError as exc:
        return _usage(f"cannot write {path}: {exc.strerror}")
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    print(f"tokuden: wrote {path}", file=sys.stderr)
    print(txt_record(domain, selector, public_record(key)))
    return 0


def txt_record(domain: str, selector: str, value: str) -> str:
    """The zone-file line that publishes ``value``, in strings of at most 255 characters."""
    chunks = [value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)]
    quoted = " ".join(f'"{c}"' for c in chunks)
    return f"{selector}._domainkey.{domain}. IN TXT {quoted}"


def _usage(message: str) -> int:
    print(f"tokuden: {message}", file=sys.stderr)
    return 2
