"""The one TOML config file, checked at start: a fault names the file, the key and what is wrong."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import urlsplit

from gateway.address import AddressError, normalize_domain
from gateway.footer import PLACEHOLDERS
from gateway.profile import Category, DkimKey, Mode, SenderProfile
from gateway.topic import valid_topic

ENV_VAR = "TOKUDEN_CONFIG"
EMBEDDED = "<embedded default>"


class ConfigError(Exception):
    """A config that cannot run; the text names the file, the key and what is wrong."""


@dataclass(frozen=True)
class Listener:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listener(value: str) -> Listener:
    """``host:port`` or ``[v6]:port``, as ``str(Listener)`` writes it; ValueError says why."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:10025 or [::1]:10025)")
    if not 0 < int(port) < 65536:
        raise ValueError(f"{value!r}: port {port} is not in 1-65535")
    return Listener(host, int(port))


@dataclass(frozen=True)
class ServerConfig:
    listen: tuple[Listener, ...] = (Listener("127.0.0.1", 10025),)
    hostname: str = "localhost"
    trusted_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    max_message_size: int = 25 * 1024 * 1024
    max_recipients: int = 1000
    timeout: float = 300.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    workers: int = 1  # processes on the listen addresses (SO_REUSEPORT); --workers overrides


@dataclass(frozen=True)
class RelayConfig:
    next_hop: str = "maildir:var/maildir"
    timeout: float = 60.0
    on_partial_block: str = "dsn"  # or "reject": refuse the whole message if any is blocked
    egress: tuple[str, ...] = ()  # the IP addresses the next hop sends from (SPF checks)


@dataclass(frozen=True)
class DnsConfig:
    """Where the authentication checks (the ``auth`` policy, ``dns check``) ask DNS."""

    nameservers: tuple[str, ...] = ()  # empty: the system's (/etc/resolv.conf)
    port: int = 53
    timeout: float = 2.0  # one attempt at one server
    lifetime: float = 5.0  # the whole query; past it the message gets 451


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite:var/consent.db"


@dataclass(frozen=True)
class LogConfig:
    file: Path | None = Path("var/decisions.log")
    stdout: bool = False


@dataclass(frozen=True)
class PolicySpec:
    use: str  # entry-point name in group tokuden.policies, or "package.module:Class"
    options: Mapping[str, Any] = field(default_factory=dict)


DEFAULT_POLICIES = (PolicySpec("identity"), PolicySpec("consent"), PolicySpec("display"))


@dataclass(frozen=True)
class Config:
    source: str
    server: ServerConfig = ServerConfig()
    relay: RelayConfig = RelayConfig()
    dns: DnsConfig = DnsConfig()
    store: StoreConfig = StoreConfig()
    log: LogConfig = LogConfig()
    senders: Mapping[str, SenderProfile] = field(default_factory=dict)
    policies: tuple[PolicySpec, ...] = DEFAULT_POLICIES


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load ``path``, else ``$TOKUDEN_CONFIG``, else the embedded default."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is None:
        text = resources.files("gateway").joinpath("default.toml").read_text("utf-8")
        return parse(text, EMBEDDED, base=Path.cwd())
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    return parse(text, str(p), base=p.resolve().parent)


def parse(text: str, source: str, base: Path) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return _Reader(source, base).config(data)


class _Reader:
    """Walks the TOML tables; every error it raises names ``source`` and the dotted key."""

    def __init__(self, source: str, base: Path) -> None:
        self.source = source
        self.base = base

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {what}")

    def table(self, data: Mapping[str, Any], key: str, known: set[str]) -> Mapping[str, Any]:
        value = data.get(key.rpartition(".")[2], {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        for name in value:
            if name not in known:
                allowed = ", ".join(sorted(known))
                raise self.fail(f"{key}.{name}", f"unknown key (known keys: {allowed})")
        return value

    def get(self, table: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
        name = key.rpartition(".")[2]
        if name not in table:
            return default
        value = table[name]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.fail(key, f"must be {_KIND_NAMES[kind]}, not {type(value).__name__}")
        return value

    def strings(self, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = self.get(table, key, list, [])
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", "must be a non-empty string")
        return tuple(value)

    def path(self, value: str) -> Path:
        """Relative to the config file's folder, with ``..`` folded away for readable logs."""
        return Path(os.path.normpath(self.base / Path(value).expanduser()))

    def positive(self, table: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
        value = self.get(table, key, kind, default)
        if value <= 0:
            raise self.fail(key, f"must be greater than 0, not {value}")
        return value

    def config(self, data: Mapping[str, Any]) -> Config:
        top = {"server", "relay", "dns", "store", "log", "senders", "policies"}
        for name in data:
            if name not in top:
                raise self.fail(name, f"unknown section (known: {', '.join(sorted(top))})")
        return Config(
            source=self.source,
            server=self.server(data),
            relay=self.relay(data),
            dns=self.dns(data),
            store=self.store(data),
            log=self.log(data),
            senders=self.senders(data),
            policies=self.policies(data),
        )

    def server(self, data: Mapping[str, Any]) -> ServerConfig:
        known = {
            "listen",
            "hostname",
            "trusted_networks",
            "max_message_size",
            "max_recipients",
            "timeout",
            "tls_cert",
            "tls_key",
            "workers",
        }
        t = self.table(data, "server", known)
        d = ServerConfig()
        listen = tuple(
            self.listener(f"server.listen[{i}]", v)
            for i, v in enumerate(self.strings(t, "server.listen"))
        )
        nets = []
        for i, v in enumerate(self.strings(t, "server.trusted_networks")):
            try:
                nets.append(ipaddress.ip_network(v, strict=False))
            except ValueError:
                raise self.fail(
                    f"server.trusted_networks[{i}]", f"{v!r} is not an IP network (e.g. 10.0.0.0/8)"
                ) from None
        cert = self.get(t, "server.tls_cert", str, "")
        key = self.get(t, "server.tls_key", str, "")
        if bool(cert) != bool(key):
            raise self.fail("server.tls_cert", "tls_cert and tls_key go together: set both or none")
        for k, v in (("server.tls_cert", cert), ("server.tls_key", key)):
            if v and not self.path(v).is_file():
                raise self.fail(k, f"no such file: {self.path(v)}")
        return ServerConfig(
            listen=listen or d.listen,
            hostname=self.get(t, "server.hostname", str, d.hostname),
            trusted_networks=tuple(nets) if "trusted_networks" in t else d.trusted_networks,
            max_message_size=self.positive(t, "server.max_message_size", int, d.max_message_size),
            max_recipients=self.positive(t, "server.max_recipients", int, d.max_recipients),
            timeout=self.positive(t, "server.timeout", float, d.timeout),
            tls_cert=self.path(cert) if cert else None,
            tls_key=self.path(key) if key else None,
            workers=self.positive(t, "server.workers", int, d.workers),
        )

    def listener(self, key: str, value: str) -> Listener:
        try:
            return parse_listener(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def relay(self, data: Mapping[str, Any]) -> RelayConfig:
        t = self.table(data, "relay", {"next_hop", "timeout", "on_partial_block", "egress"})
        d = RelayConfig()
        hop = self.get(t, "relay.next_hop", str, d.next_hop)
        if hop.startswith("maildir:"):
            if not hop[len("maildir:") :]:
                raise self.fail(
                    "relay.next_hop", "maildir: needs a path (maildir:/var/mail/tokuden)"
                )
            hop = f"maildir:{self.path(hop[len('maildir:') :])}"
        elif hop.startswith("smtp://"):
            try:
                url = urlsplit(hop)
                ok = bool(url.hostname) and url.port is not None and not url.path.strip("/")
            except ValueError:
                ok = False
            if not ok:
                raise self.fail("relay.next_hop", f"{hop!r} is not smtp://host:port")
        else:
            raise self.fail("relay.next_hop", f"{hop!r}: use smtp://host:port or maildir:PATH")
        partial = self.get(t, "relay.on_partial_block", str, d.on_partial_block)
        if partial not in ("dsn", "reject"):
            raise self.fail("relay.on_partial_block", f"{partial!r}: must be 'dsn' or 'reject'")
        egress = []
        for i, v in enumerate(self.strings(t, "relay.egress")):
            try:
                egress.append(str(ipaddress.ip_address(v)))
            except ValueError:
                raise self.fail(f"relay.egress[{i}]", f"{v!r} is not an IP address") from None
        return RelayConfig(
            hop, self.positive(t, "relay.timeout", float, d.timeout), partial, tuple(egress)
        )

    def dns(self, data: Mapping[str, Any]) -> DnsConfig:
        t = self.table(data, "dns", {"nameservers", "port", "timeout", "lifetime"})
        d = DnsConfig()
        servers = []
        for i, v in enumerate(self.strings(t, "dns.nameservers")):
            try:
                servers.append(str(ipaddress.ip_address(v)))
            except ValueError:
                raise self.fail(f"dns.nameservers[{i}]", f"{v!r} is not an IP address") from None
        port = self.positive(t, "dns.port", int, d.port)
        if port > 65535:
            raise self.fail("dns.port", f"{port} is not in 1-65535")
        timeout = self.positive(t, "dns.timeout", float, d.timeout)
        lifetime = self.positive(t, "dns.lifetime", float, d.lifetime)
        if lifetime < timeout:
            raise self.fail("dns.lifetime", f"{lifetime} is shorter than dns.timeout {timeout}")
        return DnsConfig(tuple(servers), port, timeout, lifetime)

    def store(self, data: Mapping[str, Any]) -> StoreConfig:
        t = self.table(data, "store", {"url"})
        url = self.get(t, "store.url", str, StoreConfig().url)
        if url.startswith(("postgresql://", "postgres://")):
            return StoreConfig(url)
        if not url.startswith("sqlite:") or not url[len("sqlite:") :]:
            raise self.fail("store.url", f"{url!r}: use sqlite:PATH or postgresql://host/db")
        return StoreConfig(f"sqlite:{self.path(url[len('sqlite:') :])}")

    def log(self, data: Mapping[str, Any]) -> LogConfig:
        t = self.table(data, "log", {"file", "stdout"})
        d = LogConfig()
        file = self.get(t, "log.file", str, str(d.file))
        return LogConfig(
            self.path(file) if file else None, self.get(t, "log.stdout", bool, d.stdout)
        )

    def senders(self, data: Mapping[str, Any]) -> dict[str, SenderProfile]:
        t = self.get(data, "senders", dict, {})
        seen_users: dict[str, str] = {}
        out = {}
        for name, table in t.items():
            key = f"senders.{name}"
            if not isinstance(table, dict):
                raise self.fail(key, "must be a table")
            out[name] = self.sender(name, key, table, seen_users)
        return out

    def sender(
        self, name: str, key: str, data: Mapping[str, Any], seen_users: dict[str, str]
    ) -> SenderProfile:
        known = {
            "consignor",
            "names",
            "postal_addresses",
            "optout_url",
            "optout_address",
            "contact",
            "info_url",
            "from_domains",
            "auth",
            "mode",
            "default_category",
            "marketing_only",
            "display_fix",
            "display_block",
            "topic",
            "retention",
            "dkim",
            "auth_action",
        }
        t = self.table({name: data}, key, known)
        mode = self.get(t, f"{key}.mode", str, Mode.MONITOR.value)
        if mode not in {m.value for m in Mode}:
            raise self.fail(f"{key}.mode", f"{mode!r}: must be enforce, annotate or monitor")
        category = self.get(t, f"{key}.default_category", str, "")
        if category and category not in {c.value for c in Category}:
            raise self.fail(
                f"{key}.default_category",
                f"{category!r}: must be advertising, incidental or non_advertising",
            )
        marketing_only = self.get(t, f"{key}.marketing_only", bool, False)
        if marketing_only and category not in ("", Category.ADVERTISING.value):
            raise self.fail(
                f"{key}.marketing_only",
                "a marketing-only profile's mail is advertising; drop default_category",
            )
        auth = self.get(t, f"{key}.auth", dict, {})
        for user, password in auth.items():
            if not isinstance(password, str) or not password:
                raise self.fail(f"{key}.auth.{user}", "must be a password or a $scrypt$ hash")
            if user in seen_users:
                raise self.fail(
                    f"{key}.auth.{user}", f"user already belongs to senders.{seen_users[user]}"
                )
            seen_users[user] = name
        domains = []
        for i, d in enumerate(self.strings(t, f"{key}.from_domains")):
            try:
                domains.append(normalize_domain(d))
            except AddressError as exc:
                raise self.fail(f"{key}.from_domains[{i}]", str(exc)) from None
        names = self.strings(t, f"{key}.names")
        profile = SenderProfile(
            name=name,
            consignor=self.get(t, f"{key}.consignor", str, names[0] if names else name),
            names=names,
            postal_addresses=self.strings(t, f"{key}.postal_addresses"),
            optout_url=self.get(t, f"{key}.optout_url", str, None),
            optout_address=self.get(t, f"{key}.optout_address", str, None),
            contact=self.strings(t, f"{key}.contact"),
            info_url=self.get(t, f"{key}.info_url", str, None),
            from_domains=tuple(domains),
            auth_users=dict(auth),
            mode=Mode(mode),
            default_category=Category(category)
            if category
            else (Category.ADVERTISING if marketing_only else None),
            marketing_only=marketing_only,
            display_fix=self.get(t, f"{key}.display_fix", str, "none"),
            display_block=self.get(t, f"{key}.display_block", str, None),
            topic=self.topic(t, key),
            retention=self.get(t, f"{key}.retention", str, "standard"),
            dkim=self.dkim(t, key),
            auth_action=self.get(t, f"{key}.auth_action", str, "annotate"),
        )
        if profile.auth_action not in ("block", "annotate", "log"):
            raise self.fail(
                f"{key}.auth_action", f"{profile.auth_action!r}: must be block, annotate or log"
            )
        if profile.retention not in ("standard", "mail_order"):
            raise self.fail(
                f"{key}.retention", f"{profile.retention!r}: must be standard or mail_order"
            )
        self.display_fix(key, profile)
        return profile

    def dkim(self, t: Mapping[str, Any], key: str) -> tuple[DkimKey, ...]:
        """``dkim = [{ domain, selector, key }]``: the key files must exist (read at start)."""
        items = self.get(t, f"{key}.dkim", list, [])
        keys = []
        for i, item in enumerate(items):
            at = f"{key}.dkim[{i}]"
            if not isinstance(item, dict):
                raise self.fail(at, "must be a table { domain, selector, key }")
            d = self.table({at.rpartition(".")[2]: item}, at, {"domain", "selector", "key"})
            try:
                domain = normalize_domain(self.get(d, f"{at}.domain", str, ""))
            except AddressError as exc:
                raise self.fail(f"{at}.domain", str(exc)) from None
            selector = self.get(d, f"{at}.selector", str, "")
            if not selector or not all(part.isascii() and part for part in selector.split(".")):
                raise self.fail(f"{at}.selector", f"{selector!r} is not a DKIM selector")
            key_file = self.path(self.get(d, f"{at}.key", str, ""))
            if not key_file.is_file():
                raise self.fail(f"{at}.key", f"no such file: {key_file}")
            keys.append(DkimKey(domain, selector, str(key_file)))
        return tuple(keys)

    def topic(self, t: Mapping[str, Any], key: str) -> str | None:
        topic = self.get(t, f"{key}.topic", str, None)
        if topic is not None and not valid_topic(topic):
            raise self.fail(
                f"{key}.topic", f"{topic!r}: a topic is 1-64 ASCII letters, digits, '.', '_', '-'"
            )
        return topic.lower() if topic else None

    def display_fix(self, key: str, profile: SenderProfile) -> None:
        """A footer fix must write every item, or the mail it relays still lacks one."""
        if profile.display_fix not in ("none", "footer"):
            raise self.fail(
                f"{key}.display_fix", f"{profile.display_fix!r}: must be none or footer"
            )
        if profile.display_block is not None:
            try:
                fields = [f for _, f, _, _ in Formatter().parse(profile.display_block)]
            except ValueError as exc:
                raise self.fail(f"{key}.display_block", f"malformed placeholder: {exc}") from None
            for field_name in fields:
                if field_name is not None and field_name not in PLACEHOLDERS:
                    raise self.fail(
                        f"{key}.display_block",
                        f"unknown placeholder {{{field_name}}} (known: {', '.join(PLACEHOLDERS)})",
                    )
        if profile.display_fix != "footer":
            return
        needs = [
            ("names", "names", bool(profile.names)),
            (
                "optout_url",
                "optout_url or optout_address",
                profile.optout_url or profile.optout_address,
            ),
            (
                "postal_addresses",
                "postal_addresses or info_url",
                profile.postal_addresses or profile.info_url,
            ),
            ("contact", "contact or info_url", profile.contact or profile.info_url),
        ]
        for item, what, present in needs:
            if not present:
                raise self.fail(
                    f"{key}.{item}",
                    f"display_fix = 'footer' needs {what} to write the display block",
                )

    def policies(self, data: Mapping[str, Any]) -> tuple[PolicySpec, ...]:
        if "policies" not in data:
            return DEFAULT_POLICIES
        items = data["policies"]
        if not isinstance(items, list):
            raise self.fail("policies", "must be an array of tables ([[policies]])")
        out = []
        for i, item in enumerate(items):
            key = f"policies[{i}]"
            if not isinstance(item, dict):
                raise self.fail(key, "must be a table")
            t = self.table({key: item}, key, {"use", "options"})
            use = self.get(t, f"{key}.use", str, "")
            if not use:
                raise self.fail(
                    f"{key}.use", "missing: name a built-in policy or package.module:Class"
                )
            out.append(PolicySpec(use, self.get(t, f"{key}.options", dict, {})))
        return tuple(out)


_KIND_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}
