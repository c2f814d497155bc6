"""``tokuden dkim keygen`` as an operator runs it: a real process; the key it writes signs,
and the record it prints verifies that signature (dkimpy, reading the record as DNS gives it)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import dkim
import pytest

from gateway.profile import DkimKey, SenderProfile
from gateway.signing import KeyRing, read_key
from tests.conftest import ROOT, SHARED

MAIL = SHARED / "examples" / "08_ad_html_only_utf8_qp.eml"  # From: mag@minato.example


def tokuden(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKUDEN_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "gateway", "dkim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def txt_value(line: str) -> tuple[str, list[str]]:
    """(owner name, character-strings) of ``NAME. IN TXT "…" "…"``."""
    match = re.fullmatch(r'(\S+) IN TXT ((?:"[^"]*" ?)+)', line)
    assert match, line
    return match.group(1), re.findall(r'"([^"]*)"', match.group(2))


@pytest.mark.parametrize(("kind", "k", "strings"), [("rsa", "rsa", 2), ("ed25519", "ed25519", 1)])
async def test_keygen_writes_a_private_key_and_prints_its_record(
    tmp_path: Path, kind: str, k: str, strings: int
) -> None:
    done = tokuden(
        "keygen", "--domain", "Minato.Example", "--selector", "s2026", "--type", kind,
        "--out", str(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key_file = tmp_path / f"minato.example.s2026.{kind}.pem"
    assert done.stderr == f"tokuden: wrote {key_file}\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")  # PKCS#8
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    owner, chunks = txt_value(lines[0])
    assert owner == "s2026._domainkey.minato.example."
    assert len(chunks) == strings
    assert all(len(c) <= 255 for c in chunks)
    record = "".join(chunks)
    assert record.startswith(f"v=DKIM1; k={k}; p=")

    # the key signs, and the printed record verifies the signature
    read_key(key_file)
    profile = SenderProfile(
        name="p", consignor="c", dkim=(DkimKey("minato.example", "s2026", str(key_file)),)
    )
    signed = await KeyRing.load([profile]).sign(MAIL.read_bytes(), "minato.example", profile)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return record.encode() if name.rstrip(b".") == owner.rstrip(".").encode() else None

    assert dkim.verify(signed, dnsfunc=dnsfunc)


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    args = ("keygen", "--domain", "ogiya.example", "--selector", "a", "--out", str(tmp_path))
    assert tokuden(*args, cwd=tmp_path).returncode == 0
    key_file = tmp_path / "ogiya.example.a.rsa.pem"
    before = key_file.read_bytes()
    again = tokuden(*args, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr == f"tokuden: {key_file} exists; not overwritten\n"
    assert key_file.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--domain", "ogiya example", "--selector", "a"), "bad --domain"),
        (("--domain", "localhost", "--selector", "a"), "not a fully qualified domain"),
        (("--domain", "ogiya.example", "--selector", "a b"), "bad --selector 'a b'"),
        (("--domain", "ogiya.example", "--selector=-a"), "bad --selector '-a'"),
        (("--domain", "ogiya.example", "--selector", "a", "--out", "nowhere"), "no such directory"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = tokuden("keygen", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("tokuden: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_type_is_a_usage_error(tmp_path: Path) -> None:
    done = tokuden(
        "keygen", "--domain", "a.example", "--selector", "s", "--type", "dsa", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "invalid choice: 'dsa'" in done.stderr
