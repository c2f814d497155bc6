"""Shared test fixtures: where the shared law, examples and corpora are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"

if not (SHARED / "examples" / "cases.toml").is_file():
    raise pytest.UsageError(
        f"the shared folder is missing: expected {SHARED} beside the checkout "
        "(it holds LAW.md, examples/ and corpora/)"
    )
