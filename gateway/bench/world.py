"""tokuden's side of the bench: the 1,000,000-row consent store, the DKIM keys, the DNS
zone of the senders, the config.

The store and the keys are made once into a cache folder (``var/bench/`` by default) and
reused: a store is built under a temporary name and renamed when complete, so an
interrupted build is never taken for a finished one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from gateway.bench.consent_world import SENDERS, populate
from gateway.bench.mix import bench_profile
from gateway.commands.dkim import RSA_BITS
from gateway.config import load
from gateway.signing import public_record, read_key

DKIM_SELECTORS = {"rsa": "bench-rsa", "ed25519": "bench-ed"}
EGRESS = "127.0.0.1"  # the sink, tokuden's next hop, "sends" from loopback
ESP_SPF = "_spf.bench-esp.example"  # the include an ESP's customers put in their SPF


def example_senders(examples: Path) -> dict[str, dict[str, Any]]:
    """The three profiles of ``cases.toml`` (the config's own field names), in enforce mode."""
    world = tomllib.loads((examples / "cases.toml").read_text("utf-8"))
    return {name: {**profile, "mode": "enforce"} for name, profile in world["senders"].items()}


def dkim_keys(cache: Path) -> dict[str, Path]:
    """An RSA-2048 and an Ed25519 private key (PKCS#8 PEM), made once."""
    folder = cache / "dkim"
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for kind in DKIM_SELECTORS:
        path = folder / f"bench.{kind}.pem"
        if not path.is_file():
            key = (
                rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
                if kind == "rsa"
                else ed25519.Ed25519PrivateKey.generate()
            )
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            partial = path.with_suffix(".tmp")
            partial.write_bytes(pem)
            partial.chmod(0o600)
            partial.replace(path)
        keys[kind] = path
    return keys


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def senders(examples: Path, keys: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Every profile: the example world's and the ten synthetic senders, each signing with
    both keys for its first ``from_domain``."""
    profiles = example_senders(examples)
    profiles.update({name: bench_profile(n) for n, name in enumerate(SENDERS)})
    for profile in profiles.values():
        domain = profile["from_domains"][0]
        profile["dkim"] = [
            {"domain": domain, "selector": DKIM_SELECTORS[kind], "key": str(path)}
            for kind, path in keys.items()
        ]
    return profiles


def zone(profiles: Mapping[str, Mapping[str, Any]], keys: Mapping[str, Path]) -> dict[str, Any]:
    """What the senders would publish (the shape of `gateway.dns.Zone`): for each of their
    domains an SPF record that passes the egress through an ESP's include, a DMARC
    policy of ``p=reject``, and the key records of both bench DKIM keys."""
    records = {kind: public_record(read_key(path)) for kind, path in keys.items()}
    data: dict[str, Any] = {
        ESP_SPF: [{"TXT": f"v=spf1 ip4:{EGRESS} -all"}],
    }
    for profile in profiles.values():
        for domain in profile["from_domains"]:
            data[domain] = [{"TXT": f"v=spf1 ip4:192.0.2.0/24 include:{ESP_SPF} -all"}]
            data[f"_dmarc.{domain}"] = [{"TXT": f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"}]
            for kind, selector in DKIM_SELECTORS.items():
                data[f"{selector}._domainkey.{domain}"] = [{"TXT": records[kind]}]
    return data


def write_config(
    path: Path,
    *,
    listen_port: int,
    next_hop_port: int,
    store: Path,
    log: Path,
    profiles: Mapping[str, Mapping[str, Any]],
    dns_port: int,
    max_message_size: int,
) -> Path:
    """A tokuden config: every built-in policy (``auth`` asking the bench's DNS server),
    the given store, the decision log on."""
    lines = [
        "# Written by tokuden bench for one run.",
        "[server]",
        f'listen = ["127.0.0.1:{listen_port}"]',
        'hostname = "tokuden-bench.localhost"',
        'trusted_networks = ["127.0.0.0/8"]',
        f"max_message_size = {max_message_size}",
        "",
        "[relay]",
        f'next_hop = "smtp://127.0.0.1:{next_hop_port}"',
        "timeout = 60",
        'on_partial_block = "dsn"',
        f'egress = ["{EGRESS}"]',
        "",
        "[dns]",
        'nameservers = ["127.0.0.1"]',  # the bench's ZoneServer
        f"port = {dns_port}",
        "",
        "[store]",
        f"url = {_toml(f'sqlite:{store}')}",
        "",
        "[log]",
        f"file = {_toml(str(log))}",
        "stdout = false",
    ]
    for name, profile in profiles.items():
        lines += ["", f"[senders.{name}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in profile.items()]
        # An SPF or DMARC record the bench got wrong shows as an unexpected 550.
        lines.append('auth_action = "block"')
    for policy in ("identity", "consent", "display", "auth"):
        lines += ["", "[[policies]]", f'use = "{policy}"']
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def consent_store(cache: Path, rows: int, examples: Path, config: Path) -> Path:
    """The SQLite consent store of ``rows`` synthetic events plus the example world.

    Built once (about a minute for 1,000,000 rows here) and reused by later runs.
    """
    path = cache / f"consent-{rows}.db"
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"consent-{rows}.building-{os.getpid()}.db"
    print(f"bench: building the consent store {path} ({rows:,} rows, once)", file=sys.stderr)
    started = time.perf_counter()
    try:
        asyncio.run(_build_store(partial, rows, examples, config))
        partial.replace(path)
    finally:
        for leftover in cache.glob(f"{partial.name}*"):
            leftover.unlink(missing_ok=True)
    print(f"bench: consent store built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


async def _build_store(path: Path, rows: int, examples: Path, config: Path) -> None:
    from gateway.store import open_store
    from gateway.store.importer import RowSource, import_rows

    store = await open_store(f"sqlite:{path}")
    try:
        async with store.writer() as writer:
            await populate(writer, rows)
        world = RowSource.open(examples / "cases.toml", None, load(config).senders)
        await import_rows(store, world)
    finally:
        await store.close()
