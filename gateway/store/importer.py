"""Consent lists from CSV or TOML into the store: every row checked before any is written.

An operator fixing a list of thousands of addresses needs the file, the line (or
``consent[i].key``) and the fault, and must never be left with half a list.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.address import AddressError, normalize
from gateway.consent import Basis, ConsentRecord
from gateway.store import ConsentStore

FORMATS = ("csv", "toml")
REQUIRED = ("sender", "address", "basis")
COLUMNS = (
    *REQUIRED,
    "obtained_at",
    "method",
    "evidence",
    "refusal_displayed",
    "opted_out_at",
    "optout_method",
)
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0", ""}


class ImportFileError(Exception):
    """A consent file that cannot be imported; the text is ``FILE:WHERE: what is wrong``."""


def import_file(store: ConsentStore, path: Path, fmt: str | None = None) -> int:
    """Validate all of ``path``, then add it to ``store`` in one transaction."""
    return store.add(list(read_records(path, fmt)))


def read_records(path: Path, fmt: str | None = None) -> Iterator[ConsentRecord]:
    """The checked records of ``path`` in file order; ``fmt`` defaults to the file extension."""
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ImportFileError(f"{path}: cannot tell the format: use --format csv or toml")
    try:
        yield from _read_toml(path) if fmt == "toml" else _read_csv(path)
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror}") from None


def _read_csv(path: Path) -> Iterator[ConsentRecord]:
    """Row by row from the open file, so a large list is never held as text."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        try:
            header = [name.strip() for name in next(rows, [])]
            _check_header(path, header)
            for row in rows:
                if not row:
                    continue  # a blank line
                where = f"{path}:{rows.line_num}"
                if len(row) != len(header):
                    raise ImportFileError(
                        f"{where}: {len(row)} fields, but the header has {len(header)}"
                    )
                yield _record(dict(zip(header, row, strict=True)), where, ": ")
        except UnicodeDecodeError:
            raise ImportFileError(f"{path}:{rows.line_num + 1}: not UTF-8 text") from None
        except csv.Error as exc:
            raise ImportFileError(f"{path}:{rows.line_num}: {exc}") from None


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise ImportFileError(f"{path}:1: empty file: expected a header row ({','.join(COLUMNS)})")
    for name in header:
        if name not in COLUMNS:
            raise ImportFileError(
                f"{path}:1: unknown column {name!r} (known: {', '.join(COLUMNS)})"
            )
        if header.count(name) > 1:
            raise ImportFileError(f"{path}:1: column {name!r} appears twice")
    for name in REQUIRED:
        if name not in header:
            raise ImportFileError(f"{path}:1: missing column {name!r}")


def _read_toml(path: Path) -> Iterator[ConsentRecord]:
    """The ``[[consent]]`` tables of a file like examples/cases.toml; other keys are not ours."""
    with path.open("rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ImportFileError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ImportFileError(f"{path}: not UTF-8 text") from None
    items = data.get("consent")
    if items is None:
        raise ImportFileError(f"{path}: no [[consent]] tables")
    if not isinstance(items, list):
        raise ImportFileError(f"{path}:consent: must be an array of tables ([[consent]])")
    for i, item in enumerate(items):
        where = f"{path}:consent[{i}]"
        if not isinstance(item, dict):
            raise ImportFileError(f"{where}: must be a table")
        for key in item:
            if key not in COLUMNS:
                raise ImportFileError(f"{where}.{key}: unknown key (known: {', '.join(COLUMNS)})")
        yield _record(item, where, ".")


class _Fields:
    """One row's values; every fault names the row (``where``) and the field."""

    def __init__(self, values: Mapping[str, Any], where: str, sep: str) -> None:
        self.values = values
        self.where = where
        self.sep = sep

    def fail(self, key: str, what: str) -> ImportFileError:
        return ImportFileError(f"{self.where}{self.sep}{key}: {what}")

    def text(self, key: str, required: bool = False) -> str:
        value = self.values.get(key, "")
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        if required and not value.strip():
            raise self.fail(key, "missing")
        return value

    def time(self, key: str) -> datetime | None:
        """An instant with its UTC offset: without one it is no proof of when (K1)."""
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
            raise self.fail(key, f"must be a date-time with offset, not {value!r}")
        if value.utcoffset() is None:
            raise self.fail(key, f"{value.isoformat()} has no UTC offset (e.g. +09:00)")
        return value

    def flag(self, key: str) -> bool:
        value = self.values.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.fail(key, f"{value!r}: use true or false")


def _record(values: Mapping[str, Any], where: str, sep: str) -> ConsentRecord:
    fields = _Fields(values, where, sep)
    sender = fields.text("sender", required=True).strip()
    try:
        address = normalize(fields.text("address", required=True))
    except AddressError as exc:
        raise fields.fail("address", str(exc)) from None
    basis = fields.text("basis", required=True).strip()
    if basis not in {b.value for b in Basis}:
        raise fields.fail(
            "basis", f"unknown basis {basis!r} (use consent, notified, transaction or published)"
        )
    opted_out_at = fields.time("opted_out_at")
    optout_method = fields.text("optout_method")
    if optout_method.strip() and opted_out_at is None:
        raise fields.fail("optout_method", "given without opted_out_at")
    return ConsentRecord(
        sender=sender,
        address=address,
        basis=Basis(basis),
        obtained_at=fields.time("obtained_at"),
        method=fields.text("method"),
        evidence=fields.text("evidence"),
        refusal_displayed=fields.flag("refusal_displayed"),
        opted_out_at=opted_out_at,
        optout_method=optout_method,
    )
