"""The decision log: one JSON object per line, one line per message (never the body).

Field names are a contract with operators' log tooling; README.md lists them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.api import Finding
from gateway.decision import Decision


class DecisionLog:
    """The log file is written with one ``write(2)`` per line on an O_APPEND descriptor:
    lines of several workers never interleave, and a line that cannot be written (a full
    disk) is not kept in a buffer to fail again at the next line or at close."""

    def __init__(self, file: Path | None, stdout: bool) -> None:
        self._fd = _open(file) if file is not None else None
        self._stdout = stdout

    def write(self, record: Mapping[str, Any]) -> None:
        """OSError when the file refuses the line; stdout still gets it first."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        if self._stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
        if self._fd is not None:
            data = line.encode("utf-8")
            while data:
                data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open(file: Path) -> int:
    """The log file for appending, its folder made; OSError says which step failed."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OSError(f"cannot open {file}: {file.parent} is not a folder") from None
    except OSError as exc:
        raise OSError(f"cannot create the folder {file.parent}: {exc.strerror}") from None
    try:
        return os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OSError(f"cannot open {file}: {exc.strerror}") from None


def finding_record(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "code": f.code,
        "action": f.action.value,
        "policy": f.policy,
        "recipients": list(f.recipients) if f.recipients is not None else None,
        "message": f.message,
        "message_ja": f.message_ja,
        "evidence": f.evidence,
    }


def decision_record(decision: Decision) -> dict[str, Any]:
    """The decision part of a log line (also what ``tokuden check --json`` builds on)."""
    return {
        "decision_id": decision.id,
        "mode": decision.mode.value,
        "category": decision.classification.category.value,
        "classified_by": decision.classification.decided_by,
        "classification_reason": decision.classification.reason,
        "recipients": {
            a: {"outcome": r.outcome.value, "would": r.would.value, "rules": r.rules}
            for a, r in decision.recipients.items()
        },
        "findings": [finding_record(f) for f in decision.findings],
    }
