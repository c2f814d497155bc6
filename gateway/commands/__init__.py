"""Sub-commands of ``tokuden``: each module has ``register(subparsers)``."""

from __future__ import annotations

import argparse


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config (default: $TOKUDEN_CONFIG, else the embedded default)",
    )
