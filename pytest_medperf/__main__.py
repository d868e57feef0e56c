"""Command line: `python -m pytest_medperf init --kind model DIR` and `rules`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .rule_listing import print_rules
from .starter import CHECK_ARGS, KINDS, StarterError, write_starter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_medperf")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write a starter container that passes the kit")
    init.add_argument("--kind", choices=KINDS, required=True)
    init.add_argument("--image", default=None, help="image tag (default my-<kind>:0.1)")
    init.add_argument("folder", type=Path)
    rules = commands.add_parser(
        "rules", help="print the rule catalogue, with owners' rules from plugins and conftest.py"
    )
    rules.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="a benchmark's conftest.py or its folder (default: ./conftest.py, if any)",
    )
    args = parser.parse_args(argv)
    if args.command == "rules":
        return print_rules(args.paths)
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
