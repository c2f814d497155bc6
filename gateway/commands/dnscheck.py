"""``tokuden dns check DOMAIN``: what receivers will find in DNS for mail tokuden relays.

One report for the operator of a sender domain: the domain's SPF against our egress
addresses, the DKIM key records of our selectors against the keys we sign with, and its
DMARC policy with the alignment our signatures and SPF give — each problem with what to
publish or change. Exit 0 when nothing needs fixing, 1 when something does, 2 when the
question cannot be answered (bad input, DNS not answering).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from dataclasses import dataclass, field
from typing import Any

import dkim.util

from gateway.address import AddressError, normalize_domain
from gateway.commands import add_config_argument
from gateway.commands.dkim import txt_record
from gateway.config import Config, ConfigError, DnsConfig, load
from gateway.dmarc import DmarcVerdict, evaluate, organizational_domain
from gateway.dns import DnsResolver, DnsTempError, Resolver
from gateway.signing import SigningKeyError, public_record, read_key
from gateway.spf import SpfChecker, SpfVerdict


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("dns", help="check a sender domain's DNS records")
    dsub = p.add_subparsers(dest="dns_command", required=True, metavar="ACTION")
    c: argparse.ArgumentParser = dsub.add_parser(
        "check", help="report SPF, DKIM and DMARC of DOMAIN as receivers will judge our mail"
    )
    c.add_argument("domain", metavar="DOMAIN", help="the From / envelope sender domain")
    c.add_argument(
        "--egress",
        action="append",
        default=[],
        metavar="IP",
        help="an address our next hop sends from (repeatable; default: relay.egress)",
    )
    c.add_argument(
        "--selector",
        action="append",
        default=[],
        metavar="S",
        help="a DKIM selector to look up (repeatable; default: the config's keys for DOMAIN)",
    )
    c.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        help="ask this DNS server (default: dns.nameservers, else the system's)",
    )
    add_config_argument(c)
    c.set_defaults(run=run)


@dataclass
class Report:
    """The report's lines, and the problems with what to do about each."""

    lines: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)

    def fix(self, what: str) -> None:
        self.fixes.append(what)


@dataclass(frozen=True)
class Selector:
    """A selector to look up, and the key file we sign with under it (if the config has one)."""

    domain: str
    name: str
    key_file: str | None = None


def run(args: argparse.Namespace) -> int:
    try:
        domain = normalize_domain(args.domain)
        if "." not in domain:
            raise AddressError("not a fully qualified domain")
    except AddressError as exc:
        return _usage(f"bad DOMAIN {args.domain!r}: {exc}")
    config = load(args.config)
    try:
        egress = tuple(str(ipaddress.ip_address(ip)) for ip in args.egress)
        dns_config = _dns_config(config.dns, args.nameserver)
    except (ValueError, ConfigError) as exc:
        return _usage(str(exc))
    egress = egress or config.relay.egress
    selectors = [Selector(domain, s) for s in args.selector] or _config_selectors(config, domain)
    resolver = DnsResolver.from_config(dns_config)
    try:
        report = asyncio.run(check(domain, egress, selectors, resolver))
    except DnsTempError as exc:
        return _usage(f"DNS did not answer, try again: {exc}")
    for line in report.lines:
        print(line)
    if report.fixes:
        print(f"\nTo fix ({len(report.fixes)}):")
        for n, what in enumerate(report.fixes, 1):
            print(f"  {n}. {what}")
        return 1
    print("\nNothing to fix.")
    return 0


def _dns_config(base: DnsConfig, nameserver: str | None) -> DnsConfig:
    if nameserver is None:
        return base
    host, sep, port = nameserver.rpartition(":")
    if not sep or (":" in host.strip("[]") and not host.startswith("[")):
        host, port = nameserver, str(base.port)  # a bare address, IPv6 ones included
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad --nameserver {nameserver!r}: the port is not 1-65535")
    try:
        address = str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        raise ValueError(f"bad --nameserver {nameserver!r}: not an IP address") from None
    return DnsConfig((address,), int(port), base.timeout, base.lifetime)


def _config_selectors(config: Config, domain: str) -> list[Selector]:
    """The keys any profile signs mail From ``domain`` with."""
    found: dict[tuple[str, str], Selector] = {}
    for profile in config.senders.values():
        for key in profile.signing_keys(domain):
            d = normalize_domain(key.domain)
            found.setdefault((d, key.selector), Selector(d, key.selector, key.key_file))
    return list(found.values())


async def check(
    domain: str, egress: tuple[str, ...], selectors: list[Selector], resolver: Resolver
) -> Report:
    """The whole report; `DnsTempError` when DNS does not answer."""
    report = Report()
    report.say(f"Domain {domain} (organisational domain {organizational_domain(domain)})")
    spf_domain = await _spf(report, domain, egress, resolver)
    signers = await _dkim(report, domain, selectors, resolver)
    await _dmarc(report, domain, signers, spf_domain, resolver)
    return report


async def _spf(
    report: Report, domain: str, egress: tuple[str, ...], resolver: Resolver
) -> str | None:
    report.say("\nSPF (envelope sender domain)")
    if not egress:
        report.say("  not checked: no egress address (give --egress IP or set relay.egress)")
        return None
    verdict: SpfVerdict = await SpfChecker(resolver).check(domain, egress)
    report.say(f"  record: {verdict.record or '(none)'}")
    for r in verdict.results:
        report.say(f"  {r.ip}: {r.result}" + (f" ({r.explanation})" if r.explanation else ""))
    failing = verdict.failing()
    if not failing:
        return domain
    if verdict.record is None:
        mechanisms = " ".join(_mechanism(r.ip) for r in failing)
        report.fix(f'publish an SPF record: {domain}. IN TXT "v=spf1 {mechanisms} -all"')
    elif any(r.result == "permerror" for r in failing):
        report.fix(f"repair the SPF record of {domain}: receivers read it as permerror")
    else:
        mechanisms = " ".join(_mechanism(r.ip) for r in failing)
        report.fix(f"add {mechanisms} to the SPF record of {domain} (before its all)")
    return None


def _mechanism(ip: str) -> str:
    return f"ip{ipaddress.ip_address(ip).version}:{ip}"


async def _dkim(
    report: Report, domain: str, selectors: list[Selector], resolver: Resolver
) -> list[str]:
    """Report each selector's key record; the d= domains with a usable (and, when we have
    the key file, matching) record: those a receiver can verify our signatures with."""
    report.say("\nDKIM")
    if not selectors:
        report.say("  no selector: give --selector S, or a config with senders.*.dkim for it")
        report.fix(
            f"sign mail From {domain}: tokuden dkim keygen --domain {domain} --selector S, "
            "then list the key in senders.NAME.dkim"
        )
        return []
    signers: list[str] = []
    for sel in selectors:
        name = f"{sel.name}._domainkey.{sel.domain}"
        published = [r.data for r in await resolver.query(name, "TXT")]
        expected = _our_record(sel.key_file) if sel.key_file else None
        ok = _report_selector(report, name, published, expected)
        if expected is not None and not ok:
            report.fix(f"publish {txt_record(sel.domain, sel.name, expected)}")
        elif expected is None and not ok:
            report.fix(f"publish the key record of selector {sel.name} at {name}")
        if ok and sel.domain not in signers:
            signers.append(sel.domain)
    return signers


def _our_record(key_file: str) -> str | None:
    try:
        return public_record(read_key(key_file))
    except SigningKeyError:
        return None


def _report_selector(
    report: Report, name: str, published: list[bytes], expected: str | None
) -> bool:
    """True when the selector has one usable key record (matching ours, when we have it)."""
    if not published:
        report.say(f"  {name}: no key record")
        return False
    if len(published) > 1:
        report.say(f"  {name}: {len(published)} TXT records; receivers need exactly one")
        return False
    try:
        tags = dkim.util.parse_tag_value(published[0])
    except dkim.util.InvalidTagValueList as exc:
        report.say(f"  {name}: not a DKIM key record ({exc})")
        return False
    k = tags.get(b"k", b"rsa").decode("ascii", "replace")
    p = tags.get(b"p", b"").decode("ascii", "replace")
    if not p:
        report.say(f"  {name}: k={k}, key revoked (empty p=)")
        return False
    if expected is not None:
        ours = dkim.util.parse_tag_value(expected.encode())
        if p != ours[b"p"].decode() or k != ours[b"k"].decode():
            report.say(f"  {name}: k={k}, published key is NOT the one we sign with")
            return False
        report.say(f"  {name}: k={k}, matches our signing key")
        return True
    report.say(f"  {name}: k={k}, key published (no key file here to compare)")
    return True


async def _dmarc(
    report: Report, domain: str, signers: list[str], spf_domain: str | None, resolver: Resolver
) -> None:
    report.say("\nDMARC (From domain)")
    verdict: DmarcVerdict = await evaluate(domain, signers, spf_domain, resolver)
    record = verdict.record
    report.say(f"  record: {record.text if record else '(none)'} ({verdict.reason})")
    for problem in record.problems if record else ():
        report.say(f"  note: {problem}")
    dkim_aligned = ", ".join(f"d={d}" for d in verdict.aligned_dkim) or "none"
    report.say(
        f"  aligned DKIM: {dkim_aligned}; aligned SPF: {'yes' if verdict.aligned_spf else 'no'}"
    )
    report.say(f"  result: {verdict.result} (policy for failing mail: {verdict.policy})")
    if verdict.result == "fail":
        report.fix(
            f"DMARC of {domain} fails: sign with a key whose d= is {domain} or a parent "
            "(senders.NAME.dkim), or make its SPF pass for our egress"
        )
    elif verdict.record_domain is None:
        report.fix(
            f'publish a DMARC record: _dmarc.{domain}. IN TXT "v=DMARC1; p=none; '
            f'rua=mailto:dmarc-reports@{organizational_domain(domain)}" '
            "(receivers of bulk mail require one)"
        )


def _usage(message: str) -> int:
    print(f"tokuden: {message}", file=sys.stderr)
    return 2
