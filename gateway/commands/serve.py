"""tokuden serve (being written)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve")
    p.set_defaults(run=lambda args: 2)
