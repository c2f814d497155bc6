"""``tokuden consent …``: the operator's hands on the consent store (LAW.md C1-C4, K1-K3, O1).

Exit 0 when done, 1 when there was nothing to find (or bad rows were skipped),
2 for bad input or a store that cannot answer, with one ``tokuden: …`` line on
stderr: operators script these commands, and a traceback is no answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import functools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from gateway import config
from gateway.address import AddressError, normalize
from gateway.commands import add_config_argument
from gateway.consent import (
    ALL_TOPICS,
    CLOCK_SKEW,
    Basis,
    ConsentEvent,
    ConsentRecord,
    ConsentTemplate,
    OptOutEvent,
)
from gateway.profile import SenderProfile
from gateway.retention import JST, keep_until, order_year_end
from gateway.store import (
    ConsentStore,
    ExportRow,
    MeasuresOrder,
    PurgeCandidate,
    StoreError,
    location,
    open_store,
)
from gateway.store.importer import (
    FORMATS,
    BadRow,
    ImportFileError,
    ImportResult,
    RowSource,
    import_rows,
)
from gateway.topic import valid_topic

EXIT_OK = 0
EXIT_NOTHING = 1  # nothing on record, or bad rows skipped
EXIT_USAGE = 2
OPERATOR_CHANNEL = "operator"  # an opt-out typed in by an operator, unless --channel says how


class _Usage(Exception):
    """Bad input: the text is the one line the operator sees."""


def register(sub: Any) -> None:
    consent: argparse.ArgumentParser = sub.add_parser(
        "consent", help="the consent store: import, show, opt out, export, purge"
    )
    actions = consent.add_subparsers(dest="action", required=True, metavar="ACTION")

    p = _action(actions, "import", "add consent and opt-out rows from a file", run_import)
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument("--format", choices=FORMATS, help="default: from the file extension")
    p.add_argument("--skip-bad", action="store_true", help="report bad rows, import the rest")
    p.add_argument("--sender", metavar="NAME", help="the sender of rows that name none")

    template = actions.add_parser("template", help="consent templates (K1 b)")
    template_actions = template.add_subparsers(dest="template_action", required=True)
    p = _action(template_actions, "add", "store a template's wording as its next version", run_tpl)
    p.add_argument("--sender", metavar="NAME", required=True)
    p.add_argument("--id", metavar="ID", required=True, dest="template_id")
    p.add_argument("file", metavar="FILE", type=Path, help="the fixed wording, UTF-8 text")
    p.add_argument("--channel", default="", help="where it was shown: web form, paper form, …")

    p = _action(actions, "export", "every event of one sender, for the authority (K3)", run_export)
    p.add_argument("--sender", metavar="NAME", required=True)
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--output", metavar="FILE", type=Path, help="default: stdout")

    p = _action(actions, "show", "an address's history and verdict per sender", run_show)
    p.add_argument("address", metavar="ADDR")
    p.add_argument("--sender", metavar="NAME", help="only this sender profile")
    p.add_argument("--json", action="store_true", help="one JSON array on stdout")

    p = _action(actions, "optout", "record an opt-out now (O1)", run_optout)
    p.add_argument("address", metavar="ADDR")
    p.add_argument("--sender", metavar="NAME", required=True)
    p.add_argument("--topic", metavar="T", help="only this topic (default: all mail)")
    p.add_argument("--channel", default=OPERATOR_CHANNEL, help="how the request came")
    p.add_argument("--evidence", default="", help="the request: a Message-ID, a call note, …")

    p = _action(actions, "measures-order", "record a measures order (K2, Art. 7)", run_order)
    p.add_argument("--sender", metavar="NAME", required=True)
    p.add_argument("--received", metavar="DATE", required=True, help="ISO date or date-time")
    p.add_argument("--note", default="")

    p = _action(actions, "purge", "remove consent records past keep-until (K2)", run_purge)
    p.add_argument("--dry-run", action="store_true", help="print, remove nothing")
    p.add_argument("--now", metavar="ISO", help="the clock to judge by (default: now)")

    _action(actions, "stats", "counts per sender", run_stats)


def _action(
    actions: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    add_config_argument(p)
    p.set_defaults(run=run)
    return p


def _exits(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad input of any kind becomes exit 2 with one line on stderr."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (_Usage, ImportFileError, AddressError) as exc:
            return _usage(str(exc))

    return wrapper


def _with_store(cfg: config.Config, work: Callable[[ConsentStore], Awaitable[int]]) -> int:
    """Open the store, run ``work``, close it; a store fault names the store."""

    async def main() -> int:
        store = await open_store(cfg.store.url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except StoreError as exc:
        # The backend's message starts with where the store is: name it once.
        reason = str(exc).removeprefix(f"{location(cfg.store.url)}: ")
        raise _Usage(f"store {_public(cfg.store.url)}: {reason}") from None


def _public(url: str) -> str:
    """The store URL without its password, fit for a terminal or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}"))


def _profile(cfg: config.Config, name: str) -> SenderProfile:
    """A sender of the config: what is written must belong to a known consignor (S3)."""
    profile = cfg.senders.get(name)
    if profile is None:
        known = ", ".join(sorted(cfg.senders)) or "none"
        raise _Usage(f"no sender profile {name!r} in {cfg.source} (known: {known})")
    return profile


def _moment(text: str, option: str) -> datetime:
    """An ISO date-time with offset; a bare date is 00:00 in Japan, where the law's days are."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Usage(f"{option} {text!r}: not an ISO-8601 date or date-time") from None
    if moment.utcoffset() is not None:
        return moment
    if len(text.strip()) == len("2026-04-01"):
        return moment.replace(tzinfo=JST)
    raise _Usage(f"{option} {text!r}: give the UTC offset (e.g. 2026-04-01T10:00:00+09:00)")


def _now() -> datetime:
    return datetime.now(UTC).astimezone()


# import


@_exits
def run_import(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    only = _profile(cfg, args.sender) if args.sender else None
    source = RowSource.open(args.file, args.format, cfg.senders, only)
    progress = _Progress(source, sys.stderr)

    def skipped(bad: BadRow) -> None:
        progress.message(bad.message)

    async def work(store: ConsentStore) -> int:
        try:
            result = await import_rows(
                store, source, skip_bad=args.skip_bad, on_bad=skipped, on_batch=progress.update
            )
        finally:
            progress.close()
        print(
            f"imported {result.rows} rows ({result.consents} consent events, "
            f"{result.optouts} opt-out events) into {store.url}"
            + (f"; skipped {result.skipped} bad rows" if result.skipped else "")
        )
        return EXIT_NOTHING if result.skipped else EXIT_OK

    return _with_store(cfg, work)


class _Progress:
    """Rows done and their rate on stderr during an import.

    On a terminal, a bar redrawn in place at most every REDRAW seconds; otherwise
    (a log, a pipe) a plain line every PLAIN_EVERY rows, so a log stays readable.
    """

    REDRAW = 0.2
    PLAIN_EVERY = 100_000
    WIDTH = 24

    def __init__(self, source: RowSource, stream: TextIO) -> None:
        self.source = source
        self.size = source.size
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.next_line = self.PLAIN_EVERY
        self.on_screen = False
        self.rows = 0

    def update(self, result: ImportResult) -> None:
        rows = result.rows + result.skipped
        now = time.monotonic()
        self.rows = rows
        if self.tty and now - self.drawn_at >= self.REDRAW:
            self.draw(now)
        elif not self.tty and rows >= self.next_line:
            print(f"{self.source.path}: {self.text(rows, now)}", file=self.stream, flush=True)
            self.next_line = (rows // self.PLAIN_EVERY + 1) * self.PLAIN_EVERY

    def draw(self, now: float) -> None:
        self.stream.write(f"\r{self.text(self.rows, now)}\x1b[K")
        self.stream.flush()
        self.drawn_at, self.on_screen = now, True

    def text(self, rows: int, now: float) -> str:
        rate = rows / max(now - self.started, 1e-6)
        counts = f"{rows:,} rows, {rate:,.0f} rows/s"
        if not self.size:
            return counts
        share = min(self.source.position() / self.size, 1.0)
        filled = round(share * self.WIDTH)
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} {counts}"

    def message(self, text: str) -> None:
        """A line of its own, clear of the bar."""
        if self.on_screen:
            self.stream.write("\r\x1b[K")
            self.on_screen = False
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """The bar's last state stays on screen, on a line of its own."""
        if self.tty and self.rows:
            self.draw(time.monotonic())
        if self.on_screen:
            self.stream.write("\n")
            self.stream.flush()


# template add


@_exits
def run_tpl(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    profile = _profile(cfg, args.sender)
    try:
        wording = args.file.read_text("utf-8")
    except OSError as exc:
        raise _Usage(f"{args.file}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _Usage(f"{args.file}: not UTF-8 text") from None
    if not wording.strip() or not args.template_id.strip():
        raise _Usage(f"{args.file}: a template needs an --id and its wording (the file is empty)")
    draft = ConsentTemplate(
        profile.name, args.template_id.strip(), 0, wording, args.channel, created_at=_now()
    )

    async def work(store: ConsentStore) -> int:
        async with store.writer() as writer:
            stored = await writer.add_template(draft)
        print(f"template {stored.template_id} version {stored.version}")
        return EXIT_OK

    return _with_store(cfg, work)


# export

EXPORT_COLUMNS = (
    "kind",
    "sender",
    "consignor",
    "address",
    "basis",
    "rule",
    "obtained_at",
    "method",
    "evidence",
    "topics",
    "refusal_displayed",
    "collected_by",
    "template_id",
    "template_version",
    "template_channel",
    "template_created_at",
    "template_wording",
    "opted_out_at",
    "scope",
    "channel",
    "recorded_at",
)


@_exits
def run_export(args: argparse.Namespace) -> int:
    """Streamed to stdout, or to ``FILE.partial`` renamed to FILE once complete: an
    authority must never receive a file cut short by a failure."""
    cfg = config.load(args.config)
    if args.output is None:
        try:
            return _with_store(
                cfg, lambda store: _export(store, args.sender, args.format, sys.stdout)
            )
        except BrokenPipeError:  # the reader (| head) has seen enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
    partial = args.output.with_name(args.output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            code = _with_store(cfg, lambda store: _export(store, args.sender, args.format, out))
        if code == EXIT_OK:
            os.replace(partial, args.output)
    except OSError as exc:
        raise _Usage(f"{args.output}: cannot write: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return code


async def _export(store: ConsentStore, sender: str, fmt: str, out: TextIO) -> int:
    rows = 0
    writer = csv.DictWriter(out, EXPORT_COLUMNS, lineterminator="\r\n")
    # aclosing: when the reader goes away (| head), the export ends here, before the
    # store closes, not later in a task nobody waits for
    async with contextlib.aclosing(store.export(sender)) as records:
        async for row in records:
            record = _export_record(row)
            if fmt == "jsonl":
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                if rows == 0:
                    writer.writeheader()
                writer.writerow({k: _csv_value(v) for k, v in record.items()})
            rows += 1
    if rows == 0:
        print(f"tokuden: sender {sender!r} has nothing on record in {store.url}", file=sys.stderr)
        return EXIT_NOTHING
    return EXIT_OK


def _export_record(row: ExportRow) -> dict[str, object]:
    if row.consent is not None:
        return _event_record(row.consent, row.template)
    assert row.optout is not None, row
    return _event_record(row.optout)


def _event_record(
    event: ConsentEvent | OptOutEvent, template: ConsentTemplate | None = None
) -> dict[str, object]:
    """One event as the authority (export) and the operator (show --json) see it."""
    record: dict[str, object] = dict.fromkeys(EXPORT_COLUMNS)
    record.update(
        sender=event.sender,
        address=event.address,
        evidence=event.evidence,
        recorded_at=_iso(event.recorded_at),
    )
    if isinstance(event, OptOutEvent):
        record.update(
            kind="optout",
            opted_out_at=_iso(event.opted_out_at),
            scope=event.scope,
            channel=event.channel,
        )
        return record
    record.update(
        kind="consent",
        consignor=event.consignor,
        basis=event.basis.value,
        rule=event.basis.rule,
        obtained_at=_iso(event.obtained_at),
        method=event.method,
        topics=list(event.topics),
        refusal_displayed=event.refusal_displayed,
        collected_by=event.collected_by,
        template_id=event.template_id,
        template_version=event.template_version,
    )
    if template is not None:
        record.update(
            template_channel=template.channel,
            template_created_at=_iso(template.created_at),
            template_wording=template.wording,
        )
    return record


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def _iso(moment: datetime | None) -> str | None:
    """In Japan time, whatever offset the backend returns: the law's days are Japanese days."""
    return moment.astimezone(JST).isoformat() if moment is not None else None


# show

_BASIS_TEXT = {
    Basis.CONSENT: "the recipient consented",
    Basis.NOTIFIED: "the recipient notified the address in writing",
    Basis.TRANSACTION: "the recipient has a transaction relationship",
    Basis.PUBLISHED: "the address is published without a refusal",
}
_BARRED_TEXT = {
    "O1": "the recipient asked to stop advertising mail from this sender",
    "C4": "the published address says it refuses advertising mail",
    "C1": "no consent or other basis (C1-C4) is on record",
}


@_exits
def run_show(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    address = normalize(args.address)

    async def work(store: ConsentStore) -> int:
        history = await store.history(address)
        states = [s for s in history.states if args.sender in (None, s.sender)]
        if not states:
            whose = f" from sender {args.sender}" if args.sender else ""
            print(f"{address}: nothing on record{whose}: may not receive advertising (C1)")
            return EXIT_NOTHING
        shown = []
        for state in states:
            events: list[tuple[datetime, dict[str, object]]] = []
            for consent in history.consents:
                if consent.sender == state.sender:
                    template = await _template_of(store, consent)
                    events.append((consent.obtained_at, _event_record(consent, template)))
            for optout in history.optouts:
                if optout.sender == state.sender:
                    events.append((optout.opted_out_at, _event_record(optout)))
            events.sort(key=lambda pair: pair[0])
            shown.append(_state_record(state, [record for _, record in events]))
        if args.json:
            print(json.dumps(shown, ensure_ascii=False, indent=2))
        else:
            print(address)
            for record in shown:
                print(_as_text(record))
        return EXIT_OK

    return _with_store(cfg, work)


async def _template_of(store: ConsentStore, event: ConsentEvent) -> ConsentTemplate | None:
    if event.template_id is None or event.template_version is None:
        return None
    return await store.template(event.sender, event.template_id, event.template_version)


def _state_record(state: ConsentRecord, events: list[dict[str, object]]) -> dict[str, object]:
    barred = state.barred_by()
    if barred is not None:
        reason = f"{barred}: {_BARRED_TEXT[barred]}"
    else:
        assert state.basis is not None, state  # barred_by says C1 without a basis
        reason = f"{state.basis.rule}: {_BASIS_TEXT[state.basis]}"
    return {
        "sender": state.sender,
        "address": state.address,
        "may_receive_advertising": barred is None,
        "barred_by": barred,
        "reason": reason,
        "basis": state.basis.value if state.basis else None,
        "rule": state.basis.rule if state.basis else None,
        "obtained_at": _iso(state.obtained_at),
        "topics": list(state.topics),
        "optout_topics": sorted(state.optout_topics),
        "opted_out_at": _iso(state.opted_out_at),
        "last_sent_at": _iso(state.last_sent_at),
        "events": events,
    }


def _as_text(shown: dict[str, Any]) -> str:
    may = "may" if shown["may_receive_advertising"] else "may not"
    lines = [f"  sender {shown['sender']}: {may} receive advertising ({shown['reason']})"]
    if shown["topics"]:
        lines.append(f"    topics consented   {', '.join(shown['topics'])} only")
    if shown["optout_topics"]:
        lines.append(f"    topics opted out   {', '.join(shown['optout_topics'])} (O1)")
    lines.append(f"    last ad sent       {shown['last_sent_at'] or 'never'}")
    lines.append("    history")
    lines.extend(f"      {_event_line(event)}" for event in shown["events"])
    return "\n".join(lines)


def _event_line(event: dict[str, Any]) -> str:
    if event["kind"] == "optout":
        scope = "all mail" if event["scope"] == ALL_TOPICS else f"topic {event['scope']}"
        head = f"{event['opted_out_at']}  opt-out  {scope}"
        details = [("channel", event["channel"]), ("evidence", event["evidence"])]
    else:
        head = f"{event['obtained_at']}  {event['basis']} ({event['rule']})"
        template = event["template_id"] and f"{event['template_id']} v{event['template_version']}"
        details = [
            ("topics", ", ".join(event["topics"])),
            ("method", event["method"]),
            ("evidence", event["evidence"]),
            ("template", template),
            ("refusal shown", "yes" if event["refusal_displayed"] else ""),
            ("consignor", event["consignor"]),
            ("collected by", event["collected_by"]),
        ]
    when = event["opted_out_at"] if event["kind"] == "optout" else event["obtained_at"]
    recorded = event["recorded_at"]
    if recorded and datetime.fromisoformat(when) > datetime.fromisoformat(recorded):
        details.append(("counts from", f"{recorded}, when it was recorded (dated in the future)"))
    return "; ".join([head, *(f"{k}: {v}" for k, v in details if v)])


# optout, measures-order


@_exits
def run_optout(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    profile = _profile(cfg, args.sender)
    address = normalize(args.address)
    scope = ALL_TOPICS
    if args.topic is not None:
        scope = args.topic.strip().lower()
        if not valid_topic(scope):
            raise _Usage(f"--topic {args.topic!r}: not a topic name (letters, digits, . _ -)")
    event = OptOutEvent(profile.name, address, _now(), scope, args.channel, args.evidence)

    async def work(store: ConsentStore) -> int:
        async with store.writer() as writer:
            await writer.add_optouts([event])
        # Read the verdict back: "opted out" is printed only if mail is now barred. A consent
        # can outrank an opt-out made now only if it took effect later still, i.e. another
        # host with a clock ahead of this one recorded it: the operator must know.
        state = (await store.lookup(profile.name, [address]))[address]
        if state.barred_by(None if scope == ALL_TOPICS else scope) is None:
            raise _Usage(
                f"{address}: the opt-out is recorded at {_iso(event.opted_out_at)}, but"
                f" {profile.name} may still send: the latest consent counts from"
                f" {_iso(state.obtained_at)}, later than now on this host's clock; check the"
                " clocks of the hosts that record consent, then record the opt-out again"
            )
        what = "all mail" if scope == ALL_TOPICS else f"topic {scope}"
        print(
            f"{address} opted out of {what} from {profile.name} at {_iso(event.opted_out_at)} (O1)"
        )
        return EXIT_OK

    return _with_store(cfg, work)


@_exits
def run_order(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    received = _moment(args.received, "--received")
    if received > _now() + CLOCK_SKEW:
        raise _Usage(f"--received {args.received!r}: a measures order not yet received")
    order = MeasuresOrder(_profile(cfg, args.sender).name, received, args.note)

    async def work(store: ConsentStore) -> int:
        async with store.writer() as writer:
            await writer.add_measures_order(order)
        print(
            f"measures order of {order.sender} received {_iso(order.received_at)}: "
            f"records of mail sent until {_iso(order_year_end(order.received_at))} "
            "are kept one year after mail stops (K2)"
        )
        return EXIT_OK

    return _with_store(cfg, work)


# purge


@_exits
def run_purge(args: argparse.Namespace) -> int:
    """Remove the consent events of addresses past keep-until (K2); opt-outs stay (O1).

    A sender no longer in the config keeps its records: its retention (standard
    or mail-order) is unknown, and keeping evidence too long is the lesser fault.
    """
    cfg = config.load(args.config)
    now = _moment(args.now, "--now") if args.now else _now()

    async def work(store: ConsentStore) -> int:
        due: list[tuple[PurgeCandidate, datetime]] = []
        orders: dict[str, list[MeasuresOrder]] = {}
        unknown: set[str] = set()
        for candidate in sorted(await store.purge_candidates(), key=_pair):
            profile = cfg.senders.get(candidate.sender)
            if profile is None:
                unknown.add(candidate.sender)
                continue
            if profile.name not in orders:
                orders[profile.name] = await store.measures_orders(profile.name)
            until = keep_until(
                candidate,
                orders[profile.name],
                mail_order=profile.retention == "mail_order",
            )
            if now > until:
                due.append((candidate, until))
        if not args.dry_run and due:
            await store.purge([_pair(candidate) for candidate, _ in due])
        verb = "would remove" if args.dry_run else "removed"
        for candidate, until in due:
            print(
                f"{verb} {candidate.sender} {candidate.address}: "
                f"{candidate.consent_events} consent events, keep-until {_iso(until)}"
            )
        for sender in sorted(unknown):
            print(f"kept {sender}: not a sender of the config, its retention is unknown")
        events = sum(candidate.consent_events for candidate, _ in due)
        print(f"{verb} {events} consent events of {len(due)} addresses; opt-outs kept (O1)")
        return EXIT_OK

    return _with_store(cfg, work)


def _pair(candidate: PurgeCandidate) -> tuple[str, str]:
    return candidate.sender, candidate.address


# stats


@_exits
def run_stats(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)

    async def work(store: ConsentStore) -> int:
        senders = (await store.stats()).senders
        if not senders:
            print(f"nothing on record in {store.url}")
            return EXIT_NOTHING
        columns = list(dict.fromkeys(key for counts in senders.values() for key in counts))
        width = max(len("sender"), *map(len, senders))
        print(_table_row(["sender".ljust(width), *columns]))
        for sender, counts in sorted(senders.items()):
            cells = [str(counts.get(c, 0)).rjust(len(c)) for c in columns]
            print(_table_row([sender.ljust(width), *cells]))
        return EXIT_OK

    return _with_store(cfg, work)


def _table_row(cells: Iterable[str]) -> str:
    return "  ".join(cells).rstrip()


def _usage(reason: str) -> int:
    print(f"tokuden: {reason}", file=sys.stderr)
    return EXIT_USAGE
