"""``platformkit verify`` and ``platformkit dr-drill``: parser registration and handlers.

``platformkit.cli.build_parser()`` calls ``add_verify(commands)`` and
``add_dr_drill(commands)``. Everything with a side effect outside the process (AWS clients,
the Pulumi CLI, HTTP, time) comes from an ``OpsDeps``, so tests run the real handlers against
moto without waiting.

Exit codes: 0 every check passed (the drill met its RTO); 1 a check failed (the drill missed
its RTO or its restore failed); 2 the tools could not run (outputs missing or incomplete, no
credentials, no region, a refusal); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformkit.ops.contract import OperationsContract, OutputsError, load_outputs, parse_contract
from platformkit.ops.limits import (
    DEFAULT_ATTEMPTS,
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_MINUTES,
    REPORT_FORMATS,
)

if TYPE_CHECKING:
    from platformkit.ops.aws import AwsClients, Clock, Sleep
    from platformkit.ops.checks import HttpGet

# boto3 is imported when a command runs, not when the parser is built: `platformkit preview`
# must work where platformkit is installed without the `ops` extra.

EXIT_OK = 0
EXIT_FAILED_CHECKS = 1
EXIT_CANNOT_RUN = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class OpsDeps:
    """The outside world of the ops commands; tests replace parts of it."""

    make_clients: Callable[[str | None], AwsClients] = lambda region: _aws().make_clients(region)
    load_outputs: Callable[[str, Path | None], dict[str, Any]] = lambda stack, path: load_outputs(
        stack, path
    )
    http_get: HttpGet = lambda url, timeout: _checks().urllib_get(url, timeout)
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def _aws() -> Any:
    import platformkit.ops.aws

    return platformkit.ops.aws


def _checks() -> Any:
    import platformkit.ops.checks

    return platformkit.ops.checks


def add_verify(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], deps: OpsDeps | None = None
) -> None:
    """Register ``platformkit verify``."""
    verify = commands.add_parser(
        "verify",
        help="check a deployed stack's live infrastructure against its declared shape",
        description=(
            "Read the stack's 'operations' output and check the live infrastructure with "
            "boto3: the ECS service and its tasks, the target group and listeners, the RDS "
            "instance and its backups, the alarms, and GET /readyz through the load balancer. "
            "Exit codes: 0 all passed, 1 a check failed, 2 could not verify."
        ),
    )
    _add_common(verify)
    verify.add_argument(
        "--format", choices=REPORT_FORMATS, default="text", help="report format (text)"
    )
    verify.add_argument(
        "--attempts",
        type=int,
        default=DEFAULT_ATTEMPTS,
        metavar="N",
        help=f"tries per check AWS may still be converging on (default: {DEFAULT_ATTEMPTS})",
    )
    verify.add_argument("--url", help="probe URL/readyz instead of the stack's url output")
    verify.add_argument("--skip-http", action="store_true", help="do not probe /readyz")
    verify.set_defaults(handler=partial(_verify, deps=deps or OpsDeps()))


def add_dr_drill(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], deps: OpsDeps | None = None
) -> None:
    """Register ``platformkit dr-drill``."""
    drill = commands.add_parser(
        "dr-drill",
        help="restore the stack's database into a temporary instance and time it",
        description=(
            "Restore the newest automated snapshot of the stack's database (or a new manual "
            "one) into a temporary instance in the stack's DB subnet group and security "
            "group, wait until it is available, compare the time with the stack's RTO, and "
            "delete it (also on failure or Ctrl-C). Exit codes: 0 RTO met, 1 RTO missed or "
            "restore failed, 2 could not run."
        ),
    )
    _add_common(drill)
    drill.add_argument(
        "--keep", action="store_true", help="keep the restored instance after a successful drill"
    )
    drill.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_MINUTES,
        metavar="MIN",
        help=f"give up after MIN minutes (default: {DEFAULT_TIMEOUT_MINUTES})",
    )
    drill.add_argument(
        "--new-snapshot",
        action="store_true",
        help="take a manual snapshot now instead of using the newest automated one",
    )
    drill.add_argument(
        "--cleanup",
        action="store_true",
        help="only delete instances and snapshots earlier drills of this stack left behind",
    )
    drill.add_argument(
        "--poll", type=float, default=DEFAULT_POLL_SECONDS, metavar="SECONDS",
        help=argparse.SUPPRESS,
    )  # fmt: skip
    drill.set_defaults(handler=partial(_dr_drill, deps=deps or OpsDeps()))


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--stack", required=True, metavar="NAME", help="the stack")
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="JSON of `pulumi stack output --json` (default: ask the Pulumi CLI)",
    )
    parser.add_argument(
        "--region", help="AWS region (default: the contract's region, then AWS_REGION)"
    )


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _setup(args: argparse.Namespace, deps: OpsDeps) -> tuple[OperationsContract[str], AwsClients]:
    from platformkit.ops.aws import AwsAccessError

    contract = parse_contract(deps.load_outputs(args.stack, args.outputs))
    if args.region and contract.region and args.region != contract.region:
        raise AwsAccessError(
            f"--region {args.region} but the stack's resources are in {contract.region} "
            "(operations.region): drop --region or pick the right stack"
        )
    return contract, deps.make_clients(args.region or contract.region)


def _without_boto3() -> bool:
    # boto3 comes with the `ops` extra only: a consumer who installed plain `platformkit`
    # gets the install command, not a ModuleNotFoundError traceback.
    if importlib.util.find_spec("boto3") is None:
        _err("this command calls AWS through boto3, which is not installed: "
             "pip install 'platformkit[ops]'")  # fmt: skip
        return True
    return False


def _verify(args: argparse.Namespace, deps: OpsDeps) -> int:
    if _without_boto3():
        return EXIT_CANNOT_RUN
    from platformkit.ops.aws import AwsAccessError, check_access
    from platformkit.ops.checks import CheckContext
    from platformkit.ops.verify import RENDERERS, VerifyReport, run_checks

    try:
        contract, clients = _setup(args, deps)
        identity = check_access(clients)
        ctx = CheckContext(
            contract=contract,
            clients=clients,
            now=deps.now,
            http_get=deps.http_get,
            url=args.url or contract.url,
            check_http=not args.skip_http,
        )
        results = run_checks(
            ctx,
            attempts=max(args.attempts, 1),
            sleep=deps.sleep,
            log=lambda line: print(line, file=sys.stderr),
        )
    except (OutputsError, AwsAccessError) as exc:
        _err(str(exc))
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    report = VerifyReport(args.stack, clients.region, identity, results)
    sys.stdout.write(RENDERERS[args.format](report))
    return EXIT_OK if report.ok else EXIT_FAILED_CHECKS


def _dr_drill(args: argparse.Namespace, deps: OpsDeps) -> int:
    if _without_boto3():
        return EXIT_CANNOT_RUN
    from platformkit.ops.aws import AwsAccessError, check_access
    from platformkit.ops.dr_drill import DrillError, cleanup, run_drill

    def log(line: str) -> None:
        print(f"dr-drill: {line}", file=sys.stderr)

    try:
        contract, clients = _setup(args, deps)
        check_access(clients)
        if args.cleanup:
            deleted = cleanup(contract, args.stack, clients.rds, clients.region, log=log)
            print(f"deleted {len(deleted)} drill leftover(s){': ' if deleted else ''}"
                  + ", ".join(deleted))  # fmt: skip
            return EXIT_OK
        result = run_drill(
            contract,
            args.stack,
            clients.rds,
            clients.region,
            keep=args.keep,
            new_snapshot=args.new_snapshot,
            timeout_minutes=args.timeout,
            poll_seconds=args.poll,
            sleep=deps.sleep,
            clock=deps.clock,
            now=deps.now,
            log=log,
        )
    except (OutputsError, AwsAccessError) as exc:
        _err(str(exc))
        return EXIT_CANNOT_RUN
    except DrillError as exc:
        _err(str(exc))
        return EXIT_CANNOT_RUN if str(exc).startswith("refusing") else EXIT_FAILED_CHECKS
    except KeyboardInterrupt:
        _err("interrupted; the temporary instance was deleted")
        return EXIT_INTERRUPTED
    minutes = result.restore_seconds / 60
    verdict = "met" if result.met_rto else "MISSED"
    print(
        f"dr-drill {args.stack}: restored {result.snapshot_type} snapshot {result.snapshot} "
        f"of {result.source} into {result.instance} in {minutes:.1f} min; "
        f"RTO {result.rto_minutes} min {verdict}"
    )
    if result.kept:
        print(
            f"kept {result.instance}; delete it with "
            f"`platformkit dr-drill --cleanup --stack {args.stack}`"
        )
    return EXIT_OK if result.met_rto else EXIT_FAILED_CHECKS
