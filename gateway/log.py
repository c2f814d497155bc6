"""The decision log: one JSON object per line, one line per message (never the body).

Field names are a contract with operators' log tooling; README.md lists them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from gateway.api import Finding
from gateway.decision import Decision


class DecisionLog:
    def __init__(self, file: Path | None, stdout: bool) -> None:
        self._streams: list[IO[str]] = []
        self._owned: IO[str] | None = None
        if file is not None:
            self._owned = _open(file)
            self._streams.append(self._owned)
        if stdout:
            self._streams.append(sys.stdout)

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        for stream in self._streams:
            stream.write(line)
            stream.flush()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


def _open(file: Path) -> IO[str]:
    """The log file for appending, its folder made; OSError says which step failed."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OSError(f"cannot open {file}: {file.parent} is not a folder") from None
    except OSError as exc:
        raise OSError(f"cannot create the folder {file.parent}: {exc.strerror}") from None
    try:
        return file.open("a", encoding="utf-8", buffering=1)
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
