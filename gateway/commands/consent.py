"""``tokuden consent import|show``: load consent lists; see why an address may be mailed."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway import config
from gateway.address import AddressError, normalize
from gateway.commands import add_config_argument
from gateway.consent import Basis, ConsentRecord
from gateway.store import StoreError, open_store
from gateway.store.importer import FORMATS, ImportFileError, import_file

EXIT_OK = 0
EXIT_NO_RECORD = 1
EXIT_USAGE = 2

_BASIS_TEXT = {
    Basis.CONSENT: "the recipient consented",
    Basis.NOTIFIED: "the recipient notified the address in writing",
    Basis.TRANSACTION: "the recipient has a transaction relationship",
    Basis.PUBLISHED: "the address is published without a refusal",
}


def register(sub: Any) -> None:
    consent: argparse.ArgumentParser = sub.add_parser(
        "consent", help="import consent lists, show an address's consent records"
    )
    actions = consent.add_subparsers(dest="action", required=True, metavar="ACTION")

    imp = actions.add_parser("import", help="add or update records from a CSV or TOML file")
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument("--format", choices=FORMATS, help="default: from the file extension")
    add_config_argument(imp)
    imp.set_defaults(run=run_import)

    show = actions.add_parser("show", help="every sender's record for one address, with a verdict")
    show.add_argument("address", metavar="ADDR")
    show.add_argument("--sender", metavar="NAME", help="only this sender profile")
    show.add_argument("--json", action="store_true", help="one JSON array on stdout")
    add_config_argument(show)
    show.set_defaults(run=run_show)


def run_import(args: argparse.Namespace) -> int:
    url = config.load(args.config).store.url
    try:
        store = open_store(url)
        try:
            count = import_file(store, args.file, args.format)
        finally:
            store.close()
    except (ImportFileError, StoreError) as exc:
        return _usage(str(exc))
    print(f"imported {count} records into {url}")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    url = config.load(args.config).store.url
    try:
        address = normalize(args.address)
        store = open_store(url)
        try:
            records = store.history(address)
        finally:
            store.close()
    except (AddressError, StoreError) as exc:
        return _usage(str(exc))
    if args.sender is not None:
        records = [r for r in records if r.sender == args.sender]
    if args.json:
        print(json.dumps([_as_json(r) for r in records], ensure_ascii=False, indent=2))
    elif records:
        print(address)
        for record in records:
            print(_as_text(record))
    else:
        whose = f" from sender {args.sender}" if args.sender else ""
        print(f"{address}: no consent record{whose}: may not receive advertising (no C1-C4 basis)")
    return EXIT_OK if records else EXIT_NO_RECORD


def verdict(record: ConsentRecord) -> tuple[bool, str]:
    """Whether ``record`` lets its sender send advertising, and the LAW.md reason."""
    barred = record.barred_by
    if barred is not None:
        return False, f"{barred}: {_BARRED_TEXT[barred]}"
    return True, f"{record.basis.rule}: {_BASIS_TEXT[record.basis]}"


_BARRED_TEXT = {
    "O1": "the recipient asked to stop advertising mail from this sender",
    "C4": "the published address says it refuses advertising mail",
}


def _as_text(record: ConsentRecord) -> str:
    may, why = verdict(record)
    lines = [
        ("basis", f"{record.basis.value} ({record.basis.rule})"),
        ("obtained_at", _iso(record.obtained_at) or "-"),
        ("method", record.method or "-"),
        ("evidence", record.evidence or "-"),
        ("refusal shown", "yes" if record.refusal_displayed else "no"),
        ("opted out", _opt_out(record)),
        ("verdict", f"{'may' if may else 'may not'} receive advertising ({why})"),
    ]
    return "\n".join([f"  sender {record.sender}", *(f"    {k:<14}{v}" for k, v in lines)])


def _opt_out(record: ConsentRecord) -> str:
    if record.opted_out_at is None:
        return "no"
    how = f" via {record.optout_method}" if record.optout_method else ""
    return f"{record.opted_out_at.isoformat()}{how}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _as_json(record: ConsentRecord) -> dict[str, object]:
    may, why = verdict(record)
    return {
        "sender": record.sender,
        "address": record.address,
        "basis": record.basis.value,
        "rule": record.basis.rule,
        "obtained_at": _iso(record.obtained_at),
        "method": record.method,
        "evidence": record.evidence,
        "refusal_displayed": record.refusal_displayed,
        "opted_out_at": _iso(record.opted_out_at),
        "optout_method": record.optout_method,
        "may_receive_advertising": may,
        "reason": why,
    }


def _usage(reason: str) -> int:
    print(f"tokuden: {reason}", file=sys.stderr)
    return EXIT_USAGE
