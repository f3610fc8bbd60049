"""The component package's schema, checked in at ``provider/schema.json``.

The Pulumi CLI asks the running provider for its schema (``GetSchema``) when a consumer runs
``pulumi package add``; the checked-in copy is for people and tools without the CLI (the
TypeScript consumer in ``examples/``, reviews of a change to the components' inputs).
``python -m platformkit.provider.schema`` rewrites it from the code; ``--check`` exits 1 when
it is stale, and a test runs that check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from platformkit.provider.host import provider

DEFAULT_PATH = Path("provider/schema.json")


def render() -> str:
    """The schema the provider serves, as indented JSON ending in a newline."""
    return json.dumps(json.loads(provider().schema or "{}"), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (default) or ``--check`` the checked-in schema."""
    parser = argparse.ArgumentParser(prog="python -m platformkit.provider.schema")
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    rendered = render()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != rendered:
            fix = "python -m platformkit.provider.schema"
            print(f"{args.path} is stale: run {fix}", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
