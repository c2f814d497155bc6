"""SPF (RFC 7208) for our own egress: does the envelope domain authorise the addresses we send from?

A receiver runs ``check_host()`` on every mail; a domain whose SPF does not list tokuden's
egress addresses fails there (and with it DMARC's SPF leg), so the gateway asks first.
The evaluation itself is pyspf's (macros, the 10-lookup and void-lookup limits, ``exp=``):
a reimplementation would be one more SPF dialect.  Only its DNS is ours, through the
`Resolver` every check shares (its cache, its fail-closed `DnsTempError`).

pyspf is synchronous.  It runs in a worker thread (`asyncio.to_thread`) and each of its
lookups is handed back to the event loop (`asyncio.run_coroutine_threadsafe`) and waited
for.  Trade-off: an evaluation holds a thread of the default executor while its lookups
are in flight and runs on after its caller is cancelled (its remaining lookups still go
through the resolver, bounded by `_BRIDGE_WAIT` each), but the loop never blocks and
pyspf's globals (``spf.DNSLookup``) are left alone: the lookup method of a `spf.query`
subclass is what is replaced.  Re-running pyspf on the loop until its answers are all
prefetched would avoid the thread but costs quadratic re-evaluation on the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import spf

from gateway.dns import DnsTempError, Record, Resolver

__all__ = ["EgressResult", "SpfChecker", "SpfVerdict", "check_host"]

# How long the pyspf thread waits for one lookup on the loop.  The resolver's own timeout
# (`DnsResolver` lifetime) answers first; this only stops a thread from hanging on a loop
# that has stopped.
_BRIDGE_WAIT = 60.0
_TEMPERROR = "temperror"

_Lookup = Callable[[str, str], list[Record]]


@dataclass(frozen=True)
class EgressResult:
    """pyspf's verdict for one egress address."""

    ip: str
    result: str
    explanation: str


@dataclass(frozen=True)
class SpfVerdict:
    """The envelope domain's SPF judged against every egress address."""

    domain: str
    results: tuple[EgressResult, ...]
    record: str | None

    @property
    def passes(self) -> bool:
        """A receiver passes the mail whichever egress address it came from."""
        return all(r.result == "pass" for r in self.results)

    def failing(self) -> tuple[EgressResult, ...]:
        """The addresses a receiver would not pass (fail, softfail, neutral, none, permerror)."""
        return tuple(r for r in self.results if r.result != "pass")


def _to_pyspf(record: Record) -> object:
    """A `Record` in the shape ``spf.DNSLookup`` yields for its type."""
    if record.rdtype in ("TXT", "SPF"):
        return (record.data,)  # one record: a sequence of byte strings, joined by pyspf
    if record.rdtype == "MX":
        return (record.preference, record.text)
    return record.text  # A/AAAA address, PTR name


class _Query(spf.query):  # type: ignore[misc]
    """A pyspf query whose DNS goes through `lookup` (a `Resolver` seen from a thread).

    It also remembers what an operator needs beyond the result: the SPF records of the
    domain asked about, and the smallest TTL among the answers the evaluation read.
    """

    def __init__(self, lookup: _Lookup, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lookup = lookup
        self.min_ttl: int | None = None
        self.top_records: list[str] | None = None

    def dns(
        self,
        name: str,
        qtype: str,
        cnames: dict[str, str] | None = None,
        ignore_void: bool = False,
    ) -> list[object]:
        """``spf.query.dns`` with the resolver in place of ``spf.DNSLookup``.

        The resolver follows CNAMEs itself; pyspf's checks on the name and its void
        lookup count are kept as pyspf has them.
        """
        if not name:
            raise spf.PermError("empty domain name")
        name = str(name).rstrip(".").lower()
        if not all(0 < len(label) < 64 for label in name.split(".")):
            return []  # not a valid name: pyspf treats it as having no data
        key = (name, qtype)
        result: list[object] | None = self.cache.get(key)
        if result is None:
            try:
                records = self._lookup(name, qtype)
            except DnsTempError as e:
                raise spf.TempError(f"DNS {e}") from e
            result = [_to_pyspf(r) for r in records if r.rdtype == qtype]
            for r in records:
                self.min_ttl = r.ttl if self.min_ttl is None else min(self.min_ttl, r.ttl)
            self.cache[key] = result
        if not result and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")
        return result

    def dns_spf(self, domain: str) -> str | None:
        """pyspf's record selection; the records of the first domain (the one checked) are kept.

        They are read from the query's cache afterwards, so no lookup is added (it would
        count against the void lookup limit).
        """
        try:
            record: str | None = super().dns_spf(domain)
        finally:
            if self.top_records is None:
                cached = self.cache.get((str(domain).rstrip(".").lower(), "TXT"), [])
                texts = (b"".join(strings) for strings in cached)
                self.top_records = [
                    t.decode("utf-8", "replace") for t in texts if spf.RE_SPF.match(t)
                ]
        return record


@dataclass(frozen=True)
class _Evaluation:
    result: str
    explanation: str
    mechanism: str | None
    problem: str | None
    records: tuple[str, ...]
    min_ttl: int | None


def _evaluate_sync(
    lookup: _Lookup, ip: str, domain: str, sender: str | None, helo: str
) -> _Evaluation:
    query = _Query(lookup, i=ip, s=sender or f"postmaster@{domain}", h=helo)
    query.d = domain
    result, _code, explanation = query.check()
    return _Evaluation(
        result=result,
        explanation=explanation,
        mechanism=query.mechanism,
        problem=getattr(query, "prob", None),
        records=tuple(query.top_records or ()),
        min_ttl=query.min_ttl,
    )


async def _evaluate(
    resolver: Resolver, ip: str, domain: str, sender: str | None, helo: str
) -> _Evaluation:
    loop = asyncio.get_running_loop()

    def lookup(name: str, rdtype: str) -> list[Record]:
        future = asyncio.run_coroutine_threadsafe(resolver.query(name, rdtype), loop)
        try:
            return future.result(timeout=_BRIDGE_WAIT)
        except concurrent.futures.TimeoutError as e:
            future.cancel()
            raise DnsTempError(f"{name}/{rdtype}: no answer within {_BRIDGE_WAIT:g} s") from e

    return await asyncio.to_thread(_evaluate_sync, lookup, ip, domain, sender, helo)


async def check_host(
    resolver: Resolver, ip: str, domain: str, sender: str | None = None, helo: str = ""
) -> tuple[str, str]:
    """RFC 7208 ``check_host(ip, domain, sender)`` by pyspf, its DNS through `resolver`.

    `sender` defaults to ``postmaster@domain`` (RFC 7208 §4.3); `helo` feeds the ``%{h}``
    macro.  The explanation is the ``exp=`` text for a fail when the domain gives one,
    else pyspf's default text for the result.  A lookup that fails for now gives
    ``temperror`` here (the RFC result), not an exception.
    """
    evaluation = await _evaluate(resolver, ip, domain, sender, helo)
    return evaluation.result, evaluation.explanation


def _describe(evaluation: _Evaluation) -> str:
    """pyspf's explanation plus what decided it, for an operator."""
    detail = evaluation.problem or (
        f"matched {evaluation.mechanism}" if evaluation.mechanism else None
    )
    if evaluation.result == "none" and not detail:
        detail = "no SPF record"
    if not detail or detail in evaluation.explanation:
        return evaluation.explanation  # a permerror's explanation already names its problem
    return f"{evaluation.explanation}; {detail}" if evaluation.explanation else detail


class SpfChecker:
    """Judges an envelope domain's SPF against our egress addresses, with a bounded cache.

    A verdict is kept for at most `ttl` seconds and never longer than the smallest TTL of
    the records its evaluation read, so a domain that fixes its record is seen again
    soon.  A temporary DNS failure raises `DnsTempError` (the gateway answers 451) and is
    not cached: the next message asks again.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        max_entries: int = 10_000,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._max_entries = max_entries
        self._ttl = ttl
        self._clock = clock
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[float, SpfVerdict]] = (
            OrderedDict()
        )

    async def check(self, domain: str, egress: Sequence[str]) -> SpfVerdict:
        """The verdict of `domain`'s SPF for each address of `egress`, in order."""
        domain = domain.rstrip(".").lower()
        key = (domain, tuple(egress))
        hit = self._cache.get(key)
        if hit is not None:
            expires, verdict = hit
            if self._clock() < expires:
                self._cache.move_to_end(key)
                return verdict
            del self._cache[key]
        results: list[EgressResult] = []
        records: tuple[str, ...] = ()
        lifetime = self._ttl
        for ip in egress:
            # Our HELO name is not known here; the domain stands in for %{h}.
            evaluation = await _evaluate(self._resolver, ip, domain, None, domain)
            if evaluation.result == _TEMPERROR:
                raise DnsTempError(f"SPF of {domain} for {ip}: {evaluation.problem}")
            results.append(EgressResult(ip, evaluation.result, _describe(evaluation)))
            records = records or evaluation.records
            if evaluation.min_ttl is not None:
                lifetime = min(lifetime, evaluation.min_ttl)
        verdict = SpfVerdict(domain, tuple(results), "\n".join(records) or None)
        if lifetime > 0:
            self._cache[key] = (self._clock() + lifetime, verdict)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return verdict
