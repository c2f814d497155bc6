"""DNS lookups for sender-domain authentication (SPF, DKIM keys, DMARC).

Every check goes through a `Resolver`: `DnsResolver` in production (dnspython, with its own
TTL cache), `ZoneResolver` in tests and for the `dns check` report on a test zone.  A name
that does not exist and a name without data of the asked type both give ``[]``; anything
that leaves the answer unknown (timeout, SERVFAIL, no server answering) raises
`DnsTempError`, which the gateway turns into a 451: it fails closed rather than judge a
domain on a lookup it could not make.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdata
import dns.rdatatype
import dns.resolver

if TYPE_CHECKING:
    from gateway.config import DnsConfig

__all__ = [
    "DnsResolver",
    "DnsTempError",
    "Record",
    "Resolver",
    "Zone",
    "ZoneAnswer",
    "ZoneResolver",
]


class DnsTempError(Exception):
    """The answer is unknown for now (timeout, SERVFAIL, no server): answer 451, retry later."""


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record's data, in the forms SPF, DKIM and DMARC read.

    ``text``: A/AAAA the address; MX, PTR and CNAME the host name without the final dot
    (``""`` for the root, i.e. a null MX); TXT/SPF the record's strings joined, decoded as
    UTF-8 with replacement.  ``data``: TXT/SPF the joined strings as sent (the exact octets
    a DKIM key or a non-ASCII SPF record needs).  ``preference``: MX only.  ``ttl``: the
    seconds the record may still be used (smallest along a CNAME chain).
    """

    rdtype: str
    text: str
    ttl: int
    data: bytes = b""
    preference: int = 0


class Resolver(Protocol):
    """What the authentication checks need from DNS."""

    async def query(self, name: str, rdtype: str) -> list[Record]:
        """Records of `rdtype` at `name` (CNAMEs followed); ``[]`` for NXDOMAIN and NODATA.

        Raises `DnsTempError` when the answer cannot be had now.
        """
        ...


def _host(name: str) -> str:
    return name.rstrip(".")


def _txt(value: str, ttl: int, rdtype: str = "TXT") -> Record:
    data = value.encode("utf-8")
    return Record(rdtype, data.decode("utf-8", "replace"), ttl, data=data)


# ---------------------------------------------------------------------------------------
# Zone data: the pyspf YAML "zonedata" shape
# ---------------------------------------------------------------------------------------

_TIMEOUT = "TIMEOUT"
_MAX_CNAME_CHAIN = 10


@dataclass(frozen=True, slots=True)
class ZoneAnswer:
    """What an authoritative server holding the zone would answer.

    ``status`` "timeout" means it would not answer at all, "servfail" that it answers
    SERVFAIL; ``cnames`` is the CNAME chain followed, as (owner, target) pairs.
    """

    status: Literal["ok", "nxdomain", "timeout", "servfail"]
    records: tuple[Record, ...] = ()
    cnames: tuple[tuple[str, str], ...] = ()


_Entry = tuple[str, object] | None  # None: a bare TIMEOUT


class Zone:
    """Zone data in the shape of the SPF test suites' ``zonedata`` (pyspf ``test/*.yml``).

    Each name maps to a list of one-key maps ``{TYPE: value}`` or the bare string
    ``TIMEOUT``.  The suite's conventions, kept so its files are used unchanged:

    * ``SPF`` records are also served as ``TXT`` unless the name has a ``TXT`` entry
      (RFC 7208 retired type 99 but the suites still label most records ``SPF``);
    * ``TXT``/``SPF`` values are a string or a list of strings (one multi-string record);
      ``MX`` values are ``[preference, host]``; the value ``NONE`` means the name exists
      without such data;
    * a bare ``TIMEOUT`` makes queries time out for every type not listed before it, a
      value ``TIMEOUT`` only for its type;
    * a name not in the zone beginning with ``error.`` answers SERVFAIL.
    """

    def __init__(self, data: Mapping[str, Sequence[object]], ttl: int = 3600) -> None:
        self.ttl = ttl
        self._names: dict[str, list[_Entry]] = {
            _host(name).lower(): self._entries(entries) for name, entries in data.items()
        }

    @staticmethod
    def _entries(raw: Sequence[object]) -> list[_Entry]:
        entries: list[_Entry] = []
        spf_values: list[object] = []
        has_txt = False
        for item in raw:
            if item == _TIMEOUT:
                entries.append(None)
                continue
            if not isinstance(item, Mapping):
                raise ValueError(f"zone entry {item!r}: expected {{TYPE: value}} or TIMEOUT")
            for rdtype, value in item.items():
                rdtype = str(rdtype).upper()
                has_txt = has_txt or rdtype == "TXT"
                if rdtype == "SPF":
                    spf_values.append(value)
                if value != "NONE":
                    entries.append((rdtype, value))
        if not has_txt:
            entries.extend(("TXT", value) for value in spf_values if value != "NONE")
        return entries

    def names(self) -> list[str]:
        return list(self._names)

    def lookup(self, name: str, rdtype: str) -> ZoneAnswer:
        rdtype = rdtype.upper()
        cnames: list[tuple[str, str]] = []
        seen = set()
        name = _host(name)
        while True:
            key = name.lower()
            entries = self._names.get(key)
            if entries is None:
                status: Literal["nxdomain", "servfail"] = (
                    "servfail" if key.startswith("error.") else "nxdomain"
                )
                return ZoneAnswer(status, cnames=tuple(cnames))
            records: list[Record] = []
            target: str | None = None
            for entry in entries:
                if entry is None:
                    if records:
                        break
                    return ZoneAnswer("timeout")
                etype, value = entry
                if etype == rdtype:
                    if value == _TIMEOUT:
                        return ZoneAnswer("timeout")
                    records.append(self._record(etype, value))
                elif etype == "CNAME" and target is None:
                    target = _host(str(value))
            if records or target is None or rdtype == "CNAME":
                return ZoneAnswer("ok", tuple(records), tuple(cnames))
            cnames.append((name, target))
            seen.add(key)
            if not target or target.lower() in seen or len(cnames) > _MAX_CNAME_CHAIN:
                return ZoneAnswer("ok", cnames=tuple(cnames))
            name = target

    def _record(self, rdtype: str, value: object) -> Record:
        if rdtype in ("TXT", "SPF"):
            strings = value if isinstance(value, list) else [value]
            return _txt("".join(str(s) for s in strings), self.ttl, rdtype)
        if rdtype in ("A", "AAAA"):
            return Record(rdtype, ipaddress.ip_address(str(value)).compressed, self.ttl)
        if rdtype == "MX":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError(f"MX {value!r}: expected [preference, host]")
            return Record(rdtype, _host(str(value[1])), self.ttl, preference=int(value[0]))
        return Record(rdtype, _host(str(value)), self.ttl)


class ZoneResolver:
    """An in-process `Resolver` answering from a `Zone` (tests, the RFC SPF suites)."""

    def __init__(self, zone_data: Mapping[str, Sequence[object]], ttl: int = 3600) -> None:
        self.zone = Zone(zone_data, ttl)

    async def query(self, name: str, rdtype: str) -> list[Record]:
        answer = self.zone.lookup(name, rdtype)
        if answer.status in ("timeout", "servfail"):
            raise DnsTempError(f"{name}/{rdtype}: {answer.status}")
        return list(answer.records)


# ---------------------------------------------------------------------------------------
# dnspython
# ---------------------------------------------------------------------------------------


def _from_rdata(rdata: dns.rdata.Rdata, ttl: int) -> Record:
    rdtype = dns.rdatatype.to_text(rdata.rdtype)
    if rdtype in ("TXT", "SPF"):
        data = b"".join(rdata.strings)  # type: ignore[attr-defined]
        return Record(rdtype, data.decode("utf-8", "replace"), ttl, data=data)
    if rdtype in ("A", "AAAA"):
        return Record(rdtype, rdata.address, ttl)  # type: ignore[attr-defined]
    if rdtype == "MX":
        host = rdata.exchange  # type: ignore[attr-defined]
        return Record(rdtype, _name_text(host), ttl, preference=rdata.preference)  # type: ignore[attr-defined]
    if rdtype in ("PTR", "CNAME"):
        return Record(rdtype, _name_text(rdata.target), ttl)  # type: ignore[attr-defined]
    return Record(rdtype, rdata.to_text(), ttl)


def _name_text(name: dns.name.Name) -> str:
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True)


class DnsResolver:
    """dnspython's async stub resolver behind a bounded, TTL-respecting cache.

    Positive answers are cached for their (smallest) TTL, at most `max_ttl`; NXDOMAIN and
    NODATA for the RFC 2308 negative TTL (min of the SOA's TTL and MINIMUM, as dnspython
    computes it) kept between `negative_floor` and `negative_ceiling`, so a zone with a
    zero or missing SOA minimum is not re-asked for every message, nor a long one trusted
    for days.  `timeout` bounds one attempt at one server, `lifetime` the whole query.
    Errors are not cached: the next message asks again.
    """

    def __init__(
        self,
        nameservers: Sequence[str] | None = None,
        *,
        port: int = 53,
        timeout: float = 2.0,
        lifetime: float = 5.0,
        max_entries: int = 10_000,
        max_ttl: int = 86_400,
        negative_floor: int = 30,
        negative_ceiling: int = 3_600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._unconfigured = ""
        if nameservers is None:
            try:
                self._resolver = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration as exc:
                # a gateway without DNS checks must still start: fail the first lookup instead
                self._resolver = dns.asyncresolver.Resolver(configure=False)
                self._unconfigured = (
                    f"no DNS servers: the system has none ({exc}); set dns.nameservers"
                )
        else:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = list(nameservers)
        self._resolver.port = port
        self._resolver.timeout = timeout
        self._resolver.lifetime = lifetime
        self._max_entries = max_entries
        self._max_ttl = max_ttl
        self._negative = (negative_floor, negative_ceiling)
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, list[Record]]] = OrderedDict()

    @classmethod
    def from_config(cls, config: DnsConfig) -> DnsResolver:
        """The resolver the ``[dns]`` table describes (no servers named: the system's)."""
        return cls(
            list(config.nameservers) or None,
            port=config.port,
            timeout=config.timeout,
            lifetime=config.lifetime,
        )

    async def query(self, name: str, rdtype: str) -> list[Record]:
        rdtype = rdtype.upper()
        key = (_host(name).lower(), rdtype)
        cached = self._cached(key)
        if cached is not None:
            return cached
        try:
            qname = dns.name.from_text(key[0])
        except dns.exception.DNSException:
            return []  # not a valid name (empty or over-long label): it cannot exist
        if self._unconfigured:
            raise DnsTempError(self._unconfigured)
        records, ttl = await self._resolve(qname, rdtype)
        if ttl > 0:
            self._cache[key] = (self._clock() + ttl, records)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return records

    def _cached(self, key: tuple[str, str]) -> list[Record] | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        expires, records = hit
        left = int(expires - self._clock())
        if left <= 0:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return [dataclasses.replace(r, ttl=min(r.ttl, left)) for r in records]

    async def _resolve(self, qname: dns.name.Name, rdtype: str) -> tuple[list[Record], int]:
        where = f"{qname}/{rdtype}"
        try:
            answer = await self._resolver.resolve(
                qname, rdtype, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN as e:
            response = e.responses().get(qname)  # type: ignore[no-untyped-call]
            return [], self._negative_ttl(response)
        except dns.message.ChainTooLong:
            return [], self._negative[0]  # a CNAME loop: the name has no usable data
        except dns.exception.Timeout as e:
            raise DnsTempError(f"{where}: timeout ({e})") from e
        except dns.resolver.NoNameservers as e:
            errors = e.kwargs.get("errors") or []
            if any(isinstance(err[3], dns.message.ChainTooLong) for err in errors):
                return [], self._negative[0]  # dnspython 2.9 wraps a CNAME loop this way
            raise DnsTempError(f"{where}: no server answered ({e})") from e
        except dns.exception.DNSException as e:
            raise DnsTempError(f"{where}: {e}") from e
        if answer.rrset is None:
            return [], self._negative_ttl(answer.response)
        ttl = min(answer.chaining_result.minimum_ttl, self._max_ttl)
        return [_from_rdata(rdata, ttl) for rdata in answer.rrset], ttl

    def _negative_ttl(self, response: dns.message.Message | None) -> int:
        floor, ceiling = self._negative
        if not isinstance(response, dns.message.QueryMessage):
            return floor
        try:
            ttl = response.resolve_chaining().minimum_ttl
        except dns.exception.DNSException:
            return floor
        return max(floor, min(ceiling, ttl))
