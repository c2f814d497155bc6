"""Consent lists (CSV, JSON lines, TOML) into the store, streamed, in one transaction.

A list may hold millions of rows, so rows are read, checked and handed to the
store in batches, never all held at once. The operator fixing such a list needs
the file, the line (or ``consent[i].key``) and the fault; and a list that stops
half-way must leave nothing behind, so every batch goes through one
``store.writer()`` transaction that an error rolls back.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from gateway.address import AddressError, normalize
from gateway.consent import ALL_TOPICS, CLOCK_SKEW, Basis, ConsentEvent, OptOutEvent
from gateway.profile import SenderProfile
from gateway.store import ConsentStore, StoreWriter
from gateway.topic import valid_topic

FORMATS = ("csv", "jsonl", "toml")
BATCH_ROWS = 5000
KINDS = ("consent", "optout")
CONSENT_FIELDS = (
    "sender",
    "address",
    "basis",
    "obtained_at",
    "method",
    "evidence",
    "topics",
    "refusal_displayed",
    "consignor",
    "collected_by",
    "template_id",
    "template_version",
    "opted_out_at",  # the cases.toml form: an opt-out riding on the consent row
    "optout_method",
)
OPTOUT_FIELDS = ("sender", "address", "opted_out_at", "scope", "channel", "evidence")
COLUMNS = ("kind", *CONSENT_FIELDS, *(f for f in OPTOUT_FIELDS if f not in CONSENT_FIELDS))
_FIELDS = {"consent": frozenset(CONSENT_FIELDS), "optout": frozenset(OPTOUT_FIELDS)}
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0", ""}
IMPORT_CHANNEL = "import"  # an opt-out row that does not say how the request came


class ImportFileError(Exception):
    """A file that cannot be imported; the text is ``FILE:WHERE: what is wrong``."""


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: ``FILE:LINE: column: what is wrong``."""

    message: str


@dataclass(frozen=True)
class Row:
    """The events one good row adds, and where it is, to name it should the store refuse it."""

    at: str  # FILE:LINE or FILE:consent[3]
    sep: str  # between ``at`` and a column name: ": " or "."
    consents: tuple[ConsentEvent, ...] = ()
    optouts: tuple[OptOutEvent, ...] = ()

    def fault(self, key: str, what: str) -> BadRow:
        return BadRow(f"{self.at}{self.sep}{key}: {what}")


@dataclass
class ImportResult:
    rows: int = 0  # good rows imported
    skipped: int = 0  # bad rows skipped (--skip-bad)
    consents: int = 0
    optouts: int = 0


@dataclass
class RowSource:
    """The rows of one file in file order, read as they are needed.

    ``position`` is how many bytes of the file the reader has consumed, so a
    progress bar can show how far it is; TOML cannot be streamed and is read whole.
    ``now`` is the clock times are judged by: none may be more than CLOCK_SKEW after it.
    """

    path: Path
    fmt: str
    senders: Mapping[str, SenderProfile]
    sender: SenderProfile | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _file: TextIO | None = field(default=None, init=False, repr=False)

    @classmethod
    def open(
        cls,
        path: Path,
        fmt: str | None,
        senders: Mapping[str, SenderProfile],
        sender: SenderProfile | None = None,
        now: datetime | None = None,
    ) -> RowSource:
        """``fmt`` defaults to the file extension (``.csv``, ``.jsonl``, ``.toml``); ``sender``,
        when given, is the sender of rows that name none, and the only one allowed; ``now``
        (default: this host's clock) is what "in the future" means."""
        if path.is_dir():
            raise ImportFileError(f"{path}: cannot read: it is a directory, not a file")
        fmt = fmt or path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ImportFileError(
                f"{path}: cannot tell the format: use --format {', '.join(FORMATS)}"
            )
        if not path.is_file():
            raise ImportFileError(f"{path}: cannot read: no such file")
        return cls(path, fmt, senders, sender, now or datetime.now(UTC))

    @property
    def size(self) -> int | None:
        """Bytes in the file, when the format is read as a stream."""
        try:
            return self.path.stat().st_size if self.fmt != "toml" else None
        except OSError:
            return None

    def position(self) -> int:
        if self._file is None:
            return 0
        return self._file.buffer.tell() if not self._file.closed else self.size or 0

    def __iter__(self) -> Iterator[Row | BadRow]:
        readers = {"csv": self._csv, "jsonl": self._jsonl, "toml": self._toml}
        try:
            yield from readers[self.fmt]()
        except OSError as exc:
            raise ImportFileError(f"{self.path}: cannot read: {exc.strerror}") from None

    def _csv(self) -> Iterator[Row | BadRow]:
        with self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            self._file = f
            rows = csv.reader(f)
            try:
                header = [name.strip() for name in next(rows, [])]
                self._check_header(header)
                line = rows.line_num
                for row in rows:
                    start, line = line + 1, rows.line_num  # a quoted field may span lines
                    if not row:
                        continue
                    at = f"{self.path}:{start}"
                    if len(row) != len(header):
                        yield BadRow(f"{at}: {len(row)} fields, but the header has {len(header)}")
                        continue
                    given = {k: v for k, v in zip(header, row, strict=True) if v.strip()}
                    garbled = [k for k, v in given.items() if _NOT_UTF8.search(v)]
                    if garbled:
                        yield BadRow(f"{at}: {garbled[0]}: not UTF-8 text")
                        continue
                    yield self._row(given, at, ": ")
            except csv.Error as exc:
                raise ImportFileError(f"{self.path}:{rows.line_num}: {exc}") from None

    def _check_header(self, header: list[str]) -> None:
        at = f"{self.path}:1"
        if _NOT_UTF8.search("".join(header)):
            raise ImportFileError(f"{at}: not UTF-8 text")
        if not header:
            raise ImportFileError(f"{at}: empty file: expected a header row ({','.join(COLUMNS)})")
        for name in header:
            if name not in COLUMNS:
                raise ImportFileError(
                    f"{at}: unknown column {name!r} (known: {', '.join(COLUMNS)})"
                )
            if header.count(name) > 1:
                raise ImportFileError(f"{at}: column {name!r} appears twice")
        for name in ("address",) if self.sender else ("sender", "address"):
            if name not in header:
                raise ImportFileError(f"{at}: missing column {name!r}")

    def _jsonl(self) -> Iterator[Row | BadRow]:
        with self.path.open(encoding="utf-8-sig", errors="surrogateescape") as f:
            self._file = f
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                at = f"{self.path}:{number}"
                if _NOT_UTF8.search(line):
                    yield BadRow(f"{at}: not UTF-8 text")
                    continue
                try:
                    values = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield BadRow(f"{at}: not JSON: {exc.msg} (column {exc.colno})")
                    continue
                if not isinstance(values, dict):
                    yield BadRow(f"{at}: must be a JSON object, not {type(values).__name__}")
                    continue
                yield self._row(values, at, ": ")

    def _toml(self) -> Iterator[Row | BadRow]:
        """``[[consent]]`` and ``[[optout]]`` tables, as in cases.toml; other keys are not ours."""
        with self.path.open("rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ImportFileError(f"{self.path}: not valid TOML: {exc}") from None
            except UnicodeDecodeError:
                raise ImportFileError(f"{self.path}: not UTF-8 text") from None
        if not any(kind in data for kind in KINDS):
            raise ImportFileError(f"{self.path}: no [[consent]] or [[optout]] tables")
        for kind in KINDS:
            tables = data.get(kind, [])
            if not isinstance(tables, list):
                raise ImportFileError(
                    f"{self.path}:{kind}: must be an array of tables ([[{kind}]])"
                )
            for i, table in enumerate(tables):
                at = f"{self.path}:{kind}[{i}]"
                if not isinstance(table, dict):
                    yield BadRow(f"{at}: must be a table")
                elif "kind" in table:
                    yield BadRow(f"{at}.kind: the table name [[{kind}]] says the kind")
                else:
                    yield self._row({"kind": kind, **table}, at, ".")

    def _row(self, values: Mapping[str, Any], at: str, sep: str) -> Row | BadRow:
        try:
            return _Reader(values, at, sep, self.senders, self.sender, self.now).row()
        except _Fault as fault:
            return BadRow(str(fault))


class _Fault(Exception):
    """What is wrong with one value of a row, already as ``FILE:WHERE: column: what``."""


class _Reader:
    """Checks one row's values (strings from CSV, typed from JSON and TOML)."""

    def __init__(
        self,
        values: Mapping[str, Any],
        at: str,
        sep: str,
        senders: Mapping[str, SenderProfile],
        only: SenderProfile | None,
        now: datetime,
    ) -> None:
        self.values = values
        self.at = at
        self.sep = sep
        self.senders = senders
        self.only = only
        self.now = now

    def fail(self, key: str, what: str) -> _Fault:
        return _Fault(f"{self.at}{self.sep}{key}: {what}")

    def row(self) -> Row:
        kind = self.text("kind").strip() or "consent"
        if kind not in KINDS:
            raise self.fail("kind", f"{kind!r}: use consent or optout")
        for key in self.values:
            if key != "kind" and key not in _FIELDS[kind]:
                known = key in COLUMNS
                raise self.fail(key, f"not used by {kind} rows" if known else "unknown field")
        sender = self.sender()
        address = self.address()
        if kind == "optout":
            return Row(self.at, self.sep, optouts=(self.optout(sender, address),))
        return self.consent(sender, address)

    def sender(self) -> SenderProfile:
        if self.only is not None:
            name = self.text("sender").strip() or self.only.name
            if name != self.only.name:
                raise self.fail("sender", f"{name!r}, but --sender says {self.only.name!r}")
            return self.only
        name = self.text("sender", required=True).strip()
        if name not in self.senders:
            known = ", ".join(sorted(self.senders)) or "none: the config has no [senders]"
            raise self.fail("sender", f"{name!r} is not a sender of the config (senders: {known})")
        return self.senders[name]

    def address(self) -> str:
        try:
            return normalize(self.text("address", required=True))
        except AddressError as exc:
            raise self.fail("address", str(exc)) from None

    def consent(self, sender: SenderProfile, address: str) -> Row:
        basis_text = self.text("basis", required=True).strip()
        if basis_text not in {b.value for b in Basis}:
            raise self.fail(
                "basis",
                f"unknown basis {basis_text!r} (use consent, notified, transaction or published)",
            )
        basis = Basis(basis_text)
        obtained_at = self.time("obtained_at")
        if obtained_at is None:
            raise self.fail("obtained_at", "missing: when the basis was obtained (K1)")
        method, evidence = self.text("method"), self.text("evidence")
        template_id, template_version = self.template()
        if basis is Basis.CONSENT and not (method.strip() or evidence.strip() or template_id):
            raise self.fail(
                "method",
                "missing: consent (C1) needs how it was given (K1): "
                "method, evidence or template_id",
            )
        refusal = self.flag("refusal_displayed")
        if refusal and basis is not Basis.PUBLISHED:
            raise self.fail("refusal_displayed", "only a published address (C4) shows a refusal")
        event = ConsentEvent(
            sender=sender.name,
            address=address,
            basis=basis,
            obtained_at=obtained_at,
            consignor=self.text("consignor").strip() or sender.consignor,
            topics=self.topics(),
            method=method,
            evidence=evidence,
            template_id=template_id,
            template_version=template_version,
            collected_by=self.text("collected_by"),
            refusal_displayed=refusal,
        )
        return Row(self.at, self.sep, consents=(event,), optouts=self.riding_optout(event))

    def riding_optout(self, event: ConsentEvent) -> tuple[OptOutEvent, ...]:
        """cases.toml's ``opted_out_at``, ``optout_method`` on a consent: an opt-out of all."""
        opted_out_at = self.time("opted_out_at")
        channel = self.text("optout_method").strip()
        if opted_out_at is None:
            if channel:
                raise self.fail("optout_method", "given without opted_out_at")
            return ()
        if opted_out_at < event.obtained_at:
            raise self.fail("opted_out_at", "before obtained_at: the opt-out would not apply")
        return (
            OptOutEvent(
                event.sender, event.address, opted_out_at, ALL_TOPICS, channel or IMPORT_CHANNEL
            ),
        )

    def optout(self, sender: SenderProfile, address: str) -> OptOutEvent:
        opted_out_at = self.time("opted_out_at")
        if opted_out_at is None:
            raise self.fail("opted_out_at", "missing: when the recipient asked to stop (O1)")
        scope = self.text("scope").strip().lower() or ALL_TOPICS
        if scope != ALL_TOPICS and not valid_topic(scope):
            raise self.fail("scope", f"{scope!r}: use * (all mail of the sender) or one topic")
        return OptOutEvent(
            sender=sender.name,
            address=address,
            opted_out_at=opted_out_at,
            scope=scope,
            channel=self.text("channel").strip() or IMPORT_CHANNEL,
            evidence=self.text("evidence"),
        )

    def template(self) -> tuple[str | None, int | None]:
        """K1(b): both the template's id and its version, or neither."""
        template_id = self.text("template_id").strip() or None
        raw = self.values.get("template_version", "")
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw)
        if raw == "" and template_id is None:
            return None, None
        if template_id is None:
            raise self.fail("template_version", "given without template_id")
        if raw == "":
            raise self.fail("template_version", "missing: which version of the template was shown")
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
            raise self.fail("template_version", f"{raw!r}: must be a version number (1, 2, …)")
        return template_id, raw

    def topics(self) -> tuple[str, ...]:
        """``"a;b"`` in CSV, a list or that string in JSON and TOML; none: every topic."""
        raw = self.values.get("topics", "")
        if isinstance(raw, str):
            raw = raw.split(";")
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise self.fail("topics", f"{raw!r}: use topic names separated by ';'")
        topics: list[str] = []
        for name in (t.strip().lower() for t in raw):
            if name and not valid_topic(name):
                raise self.fail("topics", f"{name!r} is not a topic name (letters, digits, . _ -)")
            if name and name not in topics:
                topics.append(name)
        return tuple(topics)

    def text(self, key: str, required: bool = False) -> str:
        value = self.values.get(key, "")
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        if required and not value.strip():
            raise self.fail(key, "missing")
        return value

    def time(self, key: str) -> datetime | None:
        """An instant with its UTC offset: without one it is no proof of when (K1); and
        one that has come (give or take CLOCK_SKEW): a consent or an opt-out dated in the
        future is a typo or a wrong clock, and proves nothing either."""
        value = self.values.get(key, "")
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(
                    key, f"{value!r} is not an ISO-8601 time (e.g. 2026-04-01T10:15:00+09:00)"
                ) from None
        if not isinstance(value, datetime):
            kind = "a date without a time" if isinstance(value, date) else repr(value)
            raise self.fail(key, f"must be a date-time with offset, not {kind}")
        if value.utcoffset() is None:
            raise self.fail(key, f"{value.isoformat()} has no UTC offset (e.g. +09:00)")
        if value > self.now + CLOCK_SKEW:
            hours = CLOCK_SKEW.total_seconds() / 3600
            clock = self.now.astimezone(value.tzinfo).isoformat(timespec="seconds")
            raise self.fail(
                key,
                f"{value.isoformat()} is in the future (this host's clock: {clock};"
                f" {hours:g} hours of clock difference are allowed)",
            )
        return value

    def flag(self, key: str) -> bool:
        value = self.values.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.fail(key, f"{value!r}: use true or false")


async def import_rows(
    store: ConsentStore,
    source: RowSource,
    *,
    skip_bad: bool = False,
    on_bad: Callable[[BadRow], None] = lambda bad: None,
    on_batch: Callable[[ImportResult], None] = lambda result: None,
    batch_rows: int = BATCH_ROWS,
) -> ImportResult:
    """Add every row of ``source`` in one transaction, ``batch_rows`` rows per write.

    A bad row raises ImportFileError, which rolls the transaction back, unless
    ``skip_bad``: then it goes to ``on_bad`` and the import goes on.
    ``on_batch`` sees the running totals after each write (progress).
    """
    result = ImportResult()
    templates = _TemplateCheck(store)
    consents: list[ConsentEvent] = []
    optouts: list[OptOutEvent] = []
    async with store.writer() as writer:
        for item in source:
            checked = await templates.check(item) if isinstance(item, Row) else item
            if isinstance(checked, BadRow):
                if not skip_bad:
                    raise ImportFileError(checked.message)
                on_bad(checked)
                result.skipped += 1
                continue
            consents.extend(checked.consents)
            optouts.extend(checked.optouts)
            result.rows += 1
            if result.rows % batch_rows == 0:
                await _write(writer, consents, optouts, result)
                on_batch(result)
        await _write(writer, consents, optouts, result)
    on_batch(result)
    return result


async def _write(
    writer: StoreWriter,
    consents: list[ConsentEvent],
    optouts: list[OptOutEvent],
    result: ImportResult,
) -> None:
    """Hand the batch to the transaction and empty it, so memory stays one batch deep."""
    await writer.add_consents(consents)
    await writer.add_optouts(optouts)
    result.consents += len(consents)
    result.optouts += len(optouts)
    consents.clear()
    optouts.clear()


class _TemplateCheck:
    """K1(b): a consent that cites a template must cite wording the store holds, or the
    export to the authority could not show what the recipient saw."""

    def __init__(self, store: ConsentStore) -> None:
        self.store = store
        self.known: dict[tuple[str, str, int], bool] = {}

    async def check(self, row: Row) -> Row | BadRow:
        for event in row.consents:
            if event.template_id is None or event.template_version is None:
                continue
            key = (event.sender, event.template_id, event.template_version)
            if key not in self.known:
                self.known[key] = await self.store.template(*key) is not None
            if not self.known[key]:
                return row.fault(
                    "template_id",
                    f"sender {event.sender} has no template {event.template_id!r} "
                    f"version {event.template_version} "
                    "(add it first: tokuden consent template add)",
                )
        return row
