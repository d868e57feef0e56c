"""Command line: `python -m pytest_medperf init --kind model DIR`, `rules` and
`migrate mlcube/mlcube.yaml`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .commands.rule_listing import print_rules
from .commands.starter import CHECK_ARGS, KINDS, StarterError, write_starter


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
    migrate = commands.add_parser(
        "migrate", help="write the container_config.yaml equivalent to a legacy mlcube.yaml"
    )
    migrate.add_argument("mlcube", type=Path, help="the legacy mlcube/mlcube.yaml")
    migrate.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="where to write (default: container_config.yaml beside the mlcube/ folder)",
    )
    migrate.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate(args.mlcube, args.output, args.force)
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


def _migrate(mlcube: Path, output: Path | None, force: bool) -> int:
    from .config.migrate import MigrationRefused, plan_migration, write_migration

    try:
        migration = plan_migration(mlcube, output)
        written = write_migration(migration, force=force)
    except MigrationRefused as exc:
        print(f"pytest-medperf migrate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pytest-medperf migrate: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    for path in written:
        print(f"  wrote {path}")
    for note in migration.notes:
        print(f"  note: {note}")
    print(
        f"\nNext:\n  pytest --medperf-config {migration.output} ...  (the same options as "
        f"for {mlcube})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
