"""Benchmark ``platformkit preview`` against merely importing the Pulumi SDKs.

Usage: ``python bench/bench_preview.py [PROGRAM_DIR] --stack NAME [--repeat N] [--target X]
[--check]``

Each measurement runs in a fresh subprocess (so no import is cached) and the median of
``--repeat`` runs (default 5) is reported: the wall time of ``platformkit preview`` of the
stack (report discarded) and of ``python -c "import pulumi, pulumi_aws"``, then their ratio
and its verdict against ``--target`` (default 3.0). Exits 2 when the preview itself fails;
with ``--check``, also 1 when the ratio is above the target (without it, 0: ``make bench``
reports the ratio and goes on).

``pulumi_aws`` loads its service modules (``pulumi_aws.ec2``, ``pulumi_aws.wafv2``, ...)
lazily, on first use, and each costs tens to hundreds of milliseconds, which any run of the
program pays, ``pulumi preview`` included. So a third line shows the import floor: the time
to import ``pulumi``, ``pulumi_aws`` and the provider modules this program uses, and the
preview's ratio to it, i.e. what the offline engine and the program's own work add.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEFAULT_REPEAT = 5
DEFAULT_TARGET = 3.0
BASELINE = "import pulumi, pulumi_aws"
# Runs the preview in-process, then prints the provider service modules the program loaded.
_PROBE = """
import sys
from platformkit.cli import main
code = main(sys.argv[1:])
print(",".join(sorted(
    name for name in sys.modules
    if name.count(".") == 1 and name.split(".")[0].startswith("pulumi_")
    and not name.split(".")[1].startswith("_")
    and type(sys.modules[name]).__name__ != "_LazyModule"  # registered, never loaded
)))
sys.exit(code)
"""


def preview_command(program_dir: str, stack: str) -> list[str]:
    """The ``platformkit preview`` command line, via the console script beside this Python."""
    script = Path(sys.executable).with_name("platformkit")
    launcher = [str(script)] if script.is_file() else [sys.executable, "-m", "platformkit.cli"]
    return [*launcher, "preview", program_dir, "--stack", stack, "--output", os.devnull]


def median_seconds(command: Sequence[str], repeat: int) -> float:
    """Median wall time of ``command`` over ``repeat`` fresh runs; raise if one fails."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        timings.append(time.perf_counter() - start)
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited {completed.returncode}:\n{completed.stderr}"
            )
    return statistics.median(timings)


def provider_modules(program_dir: str, stack: str) -> list[str]:
    """The ``pulumi_<provider>.<service>`` modules a preview of the stack imports."""
    argv = ["preview", program_dir, "--stack", stack, "--output", os.devnull]
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"platformkit {' '.join(argv)} exited {completed.returncode}")
    lines = completed.stdout.strip().splitlines()
    return [m for m in lines[-1].split(",") if m] if lines else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("program_dir", nargs="?", default=".", metavar="PROGRAM_DIR")
    parser.add_argument("-s", "--stack", required=True, metavar="NAME")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, metavar="N")
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET, metavar="X")
    parser.add_argument(
        "--check", action="store_true", help="Exit 1 when the ratio is above --target."
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    command = preview_command(args.program_dir, args.stack)
    try:
        preview = median_seconds(command, args.repeat)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    baseline = median_seconds([sys.executable, "-c", BASELINE], args.repeat)
    ratio = preview / baseline
    runs = f"median of {args.repeat} run{'s' if args.repeat > 1 else ''}"
    print(f"platformkit preview {args.program_dir} --stack {args.stack}: {preview:.3f} s ({runs})")
    print(f'python -c "{BASELINE}": {baseline:.3f} s ({runs})')
    verdict = "ok" if ratio <= args.target else "too slow"
    print(f"ratio: {ratio:.2f}x (target <= {args.target:g}x: {verdict})")
    modules = provider_modules(args.program_dir, args.stack)
    # Touching an attribute makes a lazily registered module really load.
    load = f"import importlib, pulumi, pulumi_aws\nfor m in {modules!r}:\n"
    load += "    getattr(importlib.import_module(m), '__all__', None)\n"
    floor = median_seconds([sys.executable, "-c", load], args.repeat)
    print(
        f"import floor (pulumi, pulumi_aws + {len(modules)} provider modules the program "
        f"uses): {floor:.3f} s; preview / floor: {preview / floor:.2f}x"
    )
    return 1 if args.check and ratio > args.target else 0


if __name__ == "__main__":
    sys.exit(main())
