"""The ``platformkit`` console script.

``platformkit preview [PROGRAM_DIR] --stack NAME [--policy-pack DIR ...]
[--policy-pack-config FILE ...] [--mode up|preview]
[--format text|json|sarif|junit|dot|html|terraform-plan|stack-outputs] [--output FILE]
[--answers FILE] [--stack-outputs STACK=FILE ...] [--environment NAME=FILE ...]`` runs a Pulumi
Python program offline under Pulumi's mock runtime, prints its resource tree (or its graph in
DOT, or a self-contained HTML page) and, with ``--policy-pack``, the verdicts of each policy
pack, run through the analyzer protocol as the Pulumi CLI runs it (see
``docs/preview.md``); referenced stacks' outputs and imported ESC environments come from
files. ``platformkit checkov`` scans a stack with Checkov through the Terraform-plan export;
``platformkit policy-pack-path`` prints the directory of the policy pack installed with
platformkit; ``platformkit --version`` prints the installed distribution's version. Each
subcommand is one ``_add_<command>`` function registering its parser and handler, so ``verify``
and ``dr-drill`` slot in beside it; report formats are one entry each in ``REPORTERS``.

Exit codes: 0 success; 1 a mandatory policy was violated; 2 the project, its config, the
program, a policy pack or its config failed, or the command line was wrong.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from platformkit.ops.cli import add_dr_drill, add_verify
from platformkit.preview.errors import EXIT_FAILED, EXIT_OK, PreviewError

if TYPE_CHECKING:
    from platformkit.preview.result import PreviewResult

Reporter = Callable[["PreviewResult"], str]
Handler = Callable[[argparse.Namespace], int]


def _render_text(result: PreviewResult) -> str:
    from platformkit.preview.report_text import render_text

    return render_text(result)


def _render_json(result: PreviewResult) -> str:
    from platformkit.preview.report_json import render_json

    return render_json(result)


def _render_sarif(result: PreviewResult) -> str:
    from platformkit.preview.report_sarif import render_sarif

    return render_sarif(result)


def _render_junit(result: PreviewResult) -> str:
    from platformkit.preview.report_junit import render_junit

    return render_junit(result)


def _render_stack_outputs(result: PreviewResult) -> str:
    from platformkit.preview.report_json import render_stack_outputs

    return render_stack_outputs(result)


def _render_dot(result: PreviewResult) -> str:
    from platformkit.preview.report_dot import render_dot

    return render_dot(result)


def _render_html(result: PreviewResult) -> str:
    from platformkit.preview.report_html import render_html

    return render_html(result)


def _render_terraform_plan(result: PreviewResult) -> str:
    from platformkit.preview.terraform.plan import render_terraform_plan

    return render_terraform_plan(result)


REPORTERS: dict[str, Reporter] = {
    "text": _render_text,
    "json": _render_json,
    "sarif": _render_sarif,
    "junit": _render_junit,
    # The resource graph as `pulumi stack graph` writes it, for Graphviz.
    "dot": _render_dot,
    # One self-contained page: the tree by component with each resource's policy verdicts.
    "html": _render_html,
    # The graph as a Terraform plan for Terraform scanners (Checkov): docs/preview.md.
    "terraform-plan": _render_terraform_plan,
    # What `pulumi stack output --json` prints: another stack's --stack-outputs FILE.
    "stack-outputs": _render_stack_outputs,
}
"""``--format`` name → reporter. Importing a reporter is deferred: it pulls in Pulumi."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors and 0 for --help; return it instead of exiting.
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    handler: Handler = args.handler
    code = handler(args)
    if argv is None and getattr(args, "abandon_threads", False):
        # Run as the console script: the interpreter would wait for such a thread at exit.
        _exit_abandoning_threads(code)
    return code


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="platformkit",
        description="Platform toolkit: run Pulumi programs offline and check them.",
    )
    parser.add_argument("--version", action="version", version=f"platformkit {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_preview(commands)
    _add_checkov(commands)
    _add_policy_pack_path(commands)
    add_verify(commands)
    add_dr_drill(commands)
    return parser


def _version() -> str:
    # The installed distribution's metadata, so a wheel and an editable install both report
    # what pip installed; a bare source tree on sys.path has none.
    try:
        return version("platformkit")
    except PackageNotFoundError:
        return "(not installed: no distribution metadata)"


def _add_policy_pack_path(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "policy-pack-path",
        help="print the directory of the policy pack installed with platformkit",
        description=(
            "Print the directory of the platformkit-aws policy pack installed with this "
            "distribution, for `--policy-pack` of `platformkit preview` or `pulumi preview` "
            "(the latter runs it with the python3 on PATH, which must be this environment's). "
            "Its per-environment configs are config/dev.json and config/prod.json inside it."
        ),
    )
    command.set_defaults(handler=_policy_pack_path)


def _policy_pack_path(args: argparse.Namespace) -> int:
    from platformkit.policy.pack import PACK_DIRECTORY

    if not (PACK_DIRECTORY / "PulumiPolicy.yaml").is_file():
        print(
            f"error: the policy pack is missing from {PACK_DIRECTORY} (a broken install: "
            "reinstall platformkit)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(PACK_DIRECTORY)
    return EXIT_OK


def _add_checkov(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Imported here, like the reporters: the command pulls in Pulumi and PyYAML.
    from platformkit.preview.terraform.checkov import add_checkov

    add_checkov(commands)


def _add_preview(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    preview = commands.add_parser(
        "preview",
        help="run a Pulumi Python program offline and print its resource tree",
        description=(
            "Run the Pulumi Python program of PROGRAM_DIR for a stack under Pulumi's mock "
            "runtime (no Pulumi CLI, no cloud credentials, no network) and report every "
            "resource it would create; with --policy-pack, check every resource against "
            "each policy pack. Exit codes: 0 success, 1 a mandatory policy was violated, "
            "2 the project, its config, the program or a policy pack failed."
        ),
    )
    preview.add_argument(
        "program_dir",
        nargs="?",
        default=".",
        metavar="PROGRAM_DIR",
        help="directory holding Pulumi.yaml (default: the current directory)",
    )
    preview.add_argument(
        "-s",
        "--stack",
        required=True,
        metavar="NAME",
        help="stack whose Pulumi.<NAME>.yaml config to use",
    )
    preview.add_argument(
        "--mode",
        choices=("up", "preview"),
        default="up",
        help=(
            "'up' (default): computed outputs (ids, ARNs, endpoints) get realistic values; "
            "'preview': they stay unknown, as in a real `pulumi preview`"
        ),
    )
    preview.add_argument(
        "--policy-pack",
        dest="policy_packs",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="run the policy pack in DIR over every resource (repeatable)",
    )
    preview.add_argument(
        "--policy-pack-config",
        dest="policy_pack_configs",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help=(
            "JSON config (enforcement levels, properties) for the --policy-pack in the same "
            "position (repeatable)"
        ),
    )
    preview.add_argument(
        "--format",
        choices=sorted(REPORTERS),
        default="text",
        help=(
            "report format: text, json, sarif/junit (policy verdicts), dot (the resource "
            "graph, as `pulumi stack graph` writes it), html (one self-contained page: the tree "
            "by component with each resource's verdicts), terraform-plan, stack-outputs "
            "(default: text)"
        ),
    )
    preview.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
    preview.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help=(
            "YAML/JSON answers for what cannot be derived offline: invoke results, other "
            "stacks' outputs (StackReference), secret values (see docs/preview.md)"
        ),
    )
    preview.add_argument(
        "--stack-outputs",
        dest="stack_outputs",
        action="append",
        type=_stack_outputs_spec,
        default=[],
        metavar="STACK=FILE",
        help=(
            "outputs of a stack the program references (StackReference): FILE holds what "
            "`pulumi stack output --json --stack STACK` prints (repeatable)"
        ),
    )
    preview.add_argument(
        "--environment",
        dest="environments",
        action="append",
        type=_environment_spec,
        default=[],
        metavar="NAME=FILE",
        help=(
            "values of an ESC environment the stack file imports: FILE holds what "
            "`esc env open NAME` prints (repeatable)"
        ),
    )
    preview.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="fail a program still running after SECONDS, naming what it waits on (default: 120)",
    )
    preview.set_defaults(handler=_preview)


def _stack_outputs_spec(text: str) -> tuple[str, Path]:
    from platformkit.preview.stack_outputs import parse_spec

    try:
        return parse_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _environment_spec(text: str) -> tuple[str, Path]:
    from platformkit.preview.esc_environments import parse_spec

    try:
        return parse_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _preview(args: argparse.Namespace) -> int:
    try:
        from platformkit.preview.answers import load_answers
        from platformkit.preview.esc_environments import load_environments
        from platformkit.preview.stack_outputs import load_stack_outputs

        answers = load_answers(args.answers).supplied(
            load_stack_outputs(args.stack_outputs), load_environments(args.environments)
        )
        if args.policy_packs or args.policy_pack_configs:
            from platformkit.preview.policy_gate import run_policy_preview

            result = run_policy_preview(
                args.program_dir,
                args.stack,
                args.mode,
                args.policy_packs,
                args.policy_pack_configs,
                answers=answers,
                timeout=args.timeout,
            )
            exit_code = result.policy.exit_code if result.policy is not None else EXIT_OK
        else:
            from platformkit.preview.result import run_preview

            result = run_preview(
                args.program_dir, args.stack, args.mode, answers=answers, timeout=args.timeout
            )
            exit_code = EXIT_OK
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except PreviewError as exc:
        print(exc.message, file=sys.stderr)
        # A program that timed out may have left a thread blocked for good (see ``main``).
        args.abandon_threads = type(exc).__name__ == "ProgramTimeout"
        return exc.exit_code
    except Exception:  # noqa: BLE001 - a bug of the engine itself: show everything
        traceback.print_exc()
        print("error: internal error in platformkit preview (please report it)", file=sys.stderr)
        return EXIT_FAILED
    written = _write(REPORTERS[args.format](result), args.output)
    return written if written != EXIT_OK else exit_code


def _exit_abandoning_threads(code: int) -> None:
    # End the process once output is flushed if a non-daemon thread is still alive.
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _write(report: str, output: Path | None) -> int:
    if output is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return EXIT_OK
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
