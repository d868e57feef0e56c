"""Command line: `python -m pytest_medperf init --kind model DIR` and `rules`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalogue import RULES
from .starter import CHECK_ARGS, KINDS, StarterError, write_starter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_medperf")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write a starter container that passes the kit")
    init.add_argument("--kind", choices=KINDS, required=True)
    init.add_argument("--image", default=None, help="image tag (default my-<kind>:0.1)")
    init.add_argument("folder", type=Path)
    commands.add_parser("rules", help="print the rule catalogue")
    args = parser.parse_args(argv)
    if args.command == "rules":
        for rule in RULES:
            print(f"{rule.id:<31} {rule.applies_to:<26} fails when {rule.fails_when}")
        return 0
    try:
        files = write_starter(args.kind, args.folder, args.image)
    except StarterError as exc:
        print(f"pytest-medperf init: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"  wrote {path}")
    tag = args.image or f"my-{args.kind.replace('_', '-')}:0.1"
    print(
        f"\nNext:\n  cd {args.folder}\n  docker build -t {tag} .\n"
        f"  pytest --medperf-config container_config.yaml {CHECK_ARGS[args.kind]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
