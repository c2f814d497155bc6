"""``tokuden bench``: tokuden against the sink, a bare relay and Postfix, in one run.

Kept light (argparse only): the bench's own modules load when it runs, not whenever
the CLI starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import gateway

CHECKOUT = Path(gateway.__file__).resolve().parent.parent
CONTENDERS = ("sink", "bare", "postfix", "tokuden", "tokuden-workers")


def _only(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    wrong = [n for n in names if n not in CONTENDERS]
    if wrong or not names:
        raise argparse.ArgumentTypeError(
            f"{', '.join(wrong) or value!r}: choose from {', '.join(CONTENDERS)}"
        )
    return names


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return n


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "bench",
        help="measure tokuden against the sink, a bare relay and Postfix on the same mail",
        description=(
            "Start an SMTP sink and drive the same message mix through the sink itself, a bare"
            " aiosmtpd->aiosmtplib relay, Postfix as smarthost and tokuden serve with one"
            " process and with one worker per core (every built-in policy, auth asking a DNS"
            " server on loopback, a 1,000,000-row SQLite consent store, DKIM RSA-2048 +"
            " Ed25519, the decision log); print messages/s, latency, CPU and memory of each;"
            " then the latency each adds at half tokuden's maximum rate, and memory with"
            " 1,000 idle connections and with a 25 MiB message; then issue 6's targets."
        ),
    )
    p.add_argument(
        "--messages", type=_positive, default=3000, help="measured messages per contender"
    )
    p.add_argument("--warmup", type=int, default=100, help="messages sent first and not measured")
    p.add_argument("--concurrency", type=_positive, default=8, help="client connections")
    p.add_argument(
        "--only",
        type=_only,
        default=CONTENDERS,
        metavar="NAMES",
        help=f"comma-separated subset of {','.join(CONTENDERS)}",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="workers of the tokuden-workers contender (default: one per core)",
    )
    p.add_argument(
        "--drivers",
        type=_positive,
        default=1,
        metavar="K",
        help="client processes sharing the --concurrency connections (default 1)",
    )
    p.add_argument(
        "--no-paced",
        dest="paced",
        action="store_false",
        help="skip the paced phase (the latency added at half tokuden's maximum rate)",
    )
    p.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the memory phase (idle connections, one large message)",
    )
    p.add_argument(
        "--idle-connections",
        type=_positive,
        default=1000,
        metavar="N",
        help="idle connections in the memory phase (default 1000)",
    )
    p.add_argument(
        "--large-mib",
        type=_positive,
        default=25,
        metavar="MIB",
        help="size of the memory phase's large message (default 25)",
    )
    p.add_argument(
        "--rows", type=_positive, default=1_000_000, help="consent records in tokuden's store"
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=CHECKOUT / "var" / "bench",
        help="where the consent store and DKIM keys are made once (default: var/bench)",
    )
    p.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("TOKUDEN_SHARED", CHECKOUT.parent / "shared")),
        help="the shared folder with examples/ and corpora/ (default: ../shared)",
    )
    p.add_argument("--keep", action="store_true", help="keep the run's folder (configs, logs)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gateway.bench.runner import Settings, main

    if not (args.shared / "examples" / "cases.toml").is_file():
        print(
            f"tokuden: no {args.shared / 'examples' / 'cases.toml'}; pass --shared DIR",
            file=sys.stderr,
        )
        return 2
    if args.rows < 100 or args.warmup < 0:
        print("tokuden: --rows must be at least 100 and --warmup not negative", file=sys.stderr)
        return 2
    if args.drivers > args.concurrency:
        print("tokuden: --drivers must not exceed --concurrency", file=sys.stderr)
        return 2
    settings = Settings(
        messages=args.messages,
        warmup=args.warmup,
        concurrency=args.concurrency,
        only=args.only,
        rows=args.rows,
        cache=args.cache.resolve(),
        shared=args.shared.resolve(),
        keep=args.keep,
        workers=args.workers,
        drivers=args.drivers,
        paced=args.paced,
        memory=args.memory,
        idle=args.idle_connections,
        large_mib=args.large_mib,
    )
    return main(settings, args.json)
