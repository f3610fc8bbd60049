"""Run ``platformkit preview`` over Pulumi's public Python AWS examples (not a unit test).

Usage: ``python bench/preview_corpus.py EXAMPLES --workdir DIR [--python PY] [--install]
[--only NAME ...] [--timeout S] [--json FILE]``

``EXAMPLES`` is a checkout of github.com/pulumi/examples or a git directory of it (then each
program is exported with ``git archive``). Every ``aws-py-*`` directory holding a
``Pulumi.yaml`` is one program. Each is copied under ``--workdir``, given the stack config
its README asks for (``CONFIGS`` below; secrets as ``secure:`` values, which the engine
cannot decrypt, exactly as a real stack file holds them) and run three times with the
interpreter ``--python`` (default: this one): ``--mode up``, ``--mode preview``, and
``--mode up --policy-pack policies`` (the repository's pack). With ``--install``, each
program's ``requirements.txt`` is first installed into that interpreter's environment when
``pip`` can resolve it next to the installed ``pulumi-aws`` (a dry run decides); programs
whose requirements do not resolve are reported as ``not installable`` and not run.

An outcome is ``ok`` (exit 0, or 1 for the gate: the packs ran and found violations),
``unsupported`` (exit 2 naming a ``StackReference`` whose outputs are not supplied: the
corpus supplies none, and the engine needs them, as docs/preview.md says), ``failed`` (any
other exit 2) or ``hang`` (killed after
``--timeout`` seconds, default 120). The table and the counts go to stdout; ``--json``
writes every outcome with the last lines of stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POLICY_PACK = REPO / "policies"
DEFAULT_TIMEOUT = 120.0
UNSUPPORTED_MARKER = "the outputs of this stack are not supplied"
"""In the engine's error for a ``StackReference`` to a stack whose outputs nobody supplied
(``preview.stack_outputs.missing``)."""
_FAKE_CIPHERTEXT = "AAABAPlatformkitCorpusCiphertext0000000000=="

# The config each README asks for (`pulumi config set ...`), keyed by program directory.
# ``{"secure": ...}`` marks a value the README sets with ``--secret``.
_SECRET = {"secure": _FAKE_CIPHERTEXT}
CONFIGS: dict[str, dict[str, object]] = {
    "aws-py-ansible-wordpress": {
        "aws:region": "us-east-1",
        "dbInstanceSize": "db.t3.small",
        "dbName": "wordpressdb",
        "dbPassword": _SECRET,
        "dbUsername": "admin",
        "ec2InstanceSize": "t3.small",
        "privateKeyPath": "wordpress-keypair",
        "publicKeyPath": "wordpress-keypair.pub",
    },
    "aws-py-assume-role/assume-role": {
        "aws:region": "us-east-1",
        "roleToAssumeARN": "arn:aws:iam::123456789012:role/s3-access",
    },
    "aws-py-assume-role/create-role": {
        "aws:region": "us-east-1",
        "unprivilegedUsername": "somebody@example.com",
    },
    "aws-py-django-voting-app": {
        "aws:region": "us-west-2",
        "django-admin-name": "admin",
        "django-admin-password": _SECRET,
        "django-secret-key": _SECRET,
        "sql-admin-name": "admin",
        "sql-admin-password": _SECRET,
        "sql-user-name": "user",
        "sql-user-password": _SECRET,
    },
    "aws-py-dynamicresource": {
        "aws:region": "us-west-2",
        "sql-admin-name": "admin",
        "sql-admin-password": _SECRET,
        "sql-user-name": "user",
        "sql-user-password": _SECRET,
    },
    "aws-py-ec2-provisioners": {
        "aws:region": "us-west-2",
        "privateKey": _SECRET,
        "publicKey": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC corpus@example",
    },
    "aws-py-ecs-instances-autoapi/py-ecs-instance": {
        # What its automation program (automation/index.ts) sets.
        "aws:region": "us-east-1",
        "cfg:autoscalingGroupSize": "3",
    },
    "aws-py-hub-and-spoke-network": {"aws:region": "us-east-2", "create-firewall": "true"},
    "aws-py-langserve": {"aws:region": "us-east-1", "open-api-key": _SECRET},
    "aws-py-redshift-glue-etl": {
        # The defaults of Pulumi.yaml's template (what `pulumi new` writes to the stack file).
        "aws:region": "us-west-2",
        "clusterIdentifier": "my-redshift-cluster",
        "clusterNodeType": "ra3.xlplus",
        "clusterDBName": "dev",
        "clusterDBUsername": "admin",
        "clusterDBPassword": _SECRET,
        "glueDBName": "my-glue-db",
    },
    "aws-py-serverless-raw": {"aws:region": "us-east-2", "provisionedConcurrency": "1"},
    "aws-py-slackbot": {
        "aws:region": "us-east-2",
        "mentionbot:slackToken": _SECRET,
        "mentionbot:verificationToken": _SECRET,
    },
    "aws-py-stackreference/company": {"companyName": "ACME Widget Company"},
    "aws-py-stackreference/department": {"departmentName": "E-Commerce"},
    "aws-py-stackreference/team": {
        "aws:region": "us-west-2",
        "companyStack": "acme/aws-py-stackreference-company/dev",
        "departmentStack": "acme/aws-py-stackreference-department/dev",
        "teamName": "Frontend Dev",
    },
    "aws-py-static-website": {
        "aws:region": "us-west-2",
        "targetDomain": "www.acme-widgets.net",  # it refuses example.com outside a preview
        "pathToWebsiteContents": "./www",  # the template's default
    },
    "aws-py-voting-app": {"aws:region": "us-west-2", "redis-password": _SECRET},
    "aws-py-wordpress-fargate-rds": {
        "aws:region": "us-west-2",
        "db_password": _SECRET,
        "service_name": "my-wp-demo",
    },
}
# Files a README has the user create first (`ssh-keygen -f wordpress-keypair`).
_PUBLIC_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC corpus@example\n"
_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nY29ycHVz\n-----END OPENSSH PRIVATE KEY-----\n"
FILES: dict[str, dict[str, str]] = {
    "aws-py-ansible-wordpress": {
        "wordpress-keypair": _PRIVATE_KEY,
        "wordpress-keypair.pub": _PUBLIC_KEY,
    },
}
DEFAULT_REGIONS = {
    "aws-py-apigatewayv2-eventbridge": "us-west-2",
    "aws-py-s3-folder": "us-west-2",
    "aws-py-webserver": "us-west-2",
    "aws-py-stepfunctions": "us-east-2",
}
# Answers a user supplies for what cannot be derived offline (other stacks' outputs).
ANSWERS: dict[str, dict[str, object]] = {
    "aws-py-stackreference/team": {
        "stackReferences": {
            "acme/aws-py-stackreference-company/dev": {"companyName": "ACME Widget Company"},
            "acme/aws-py-stackreference-department/dev": {"departmentName": "E-Commerce"},
        }
    },
}
RUNS: dict[str, list[str]] = {
    "up": ["--mode", "up"],
    "preview": ["--mode", "preview"],
    "gate": ["--mode", "up", "--policy-pack", str(POLICY_PACK)],
}


@dataclass
class Outcome:
    """One run of one program."""

    program: str
    run: str
    status: str
    """``ok``, ``unsupported``, ``failed``, ``hang`` or ``not installable``."""
    seconds: float
    detail: str


def discover(examples: Path) -> list[str]:
    """Program directories (relative) of every ``aws-py-*`` Python project."""
    if (examples / "HEAD").is_file() and not (examples / ".git").exists():
        listing = subprocess.run(
            ["git", f"--git-dir={examples}", "ls-tree", "-r", "--name-only", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    else:
        listing = [str(p.relative_to(examples)) for p in examples.glob("aws-py-*/**/Pulumi.yaml")]
    return sorted(
        str(Path(name).parent)
        for name in listing
        if name.startswith("aws-py-") and Path(name).name == "Pulumi.yaml"
    )


def export(examples: Path, program: str, target: Path) -> None:
    """Copy ``program`` out of the examples checkout or git directory into ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if (examples / "HEAD").is_file() and not (examples / ".git").exists():
        # File by file: a snapshot may lack large blobs elsewhere, which ``git archive`` trips on.
        git = ["git", f"--git-dir={examples}"]
        listing = subprocess.run(
            [*git, "ls-tree", "-r", "HEAD", "--", program],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        for line in listing:
            meta, _, path = line.partition("\t")
            blob = meta.split()[2]
            content = subprocess.run([*git, "cat-file", "blob", blob], capture_output=True)
            if content.returncode != 0:
                continue
            destination = target / Path(path).relative_to(program)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content.stdout)
    else:
        shutil.copytree(examples / program, target)


def write_stack(program: str, directory: Path) -> None:
    """Write ``Pulumi.dev.yaml``, the files and the answers file the README asks for."""
    project = _project_name(directory)
    config = dict(CONFIGS.get(program, {}))
    config.setdefault("aws:region", DEFAULT_REGIONS.get(program, "us-east-1"))
    qualified = {key if ":" in key else f"{project}:{key}": v for key, v in config.items()}
    (directory / "Pulumi.dev.yaml").write_text(json.dumps({"config": qualified}, indent=2))
    for name, content in FILES.get(program, {}).items():
        (directory / name).write_text(content)
    if program in ANSWERS:
        (directory / "answers.json").write_text(json.dumps(ANSWERS[program], indent=2))


def _project_name(directory: Path) -> str:
    for line in (directory / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.partition(":")[2].strip().strip("'\"")
    return directory.name


def installable(python: str, requirements: Path) -> tuple[bool, str]:
    """Whether ``requirements`` resolve next to the installed ``pulumi-aws`` (pip dry run)."""
    pinned = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('pulumi-aws'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    command = [python, "-m", "pip", "install", "--quiet", "-r", str(requirements)]
    command.append(f"pulumi-aws=={pinned}")
    dry = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, check=False)
    if dry.returncode != 0:
        return False, _tail(dry.stderr)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.returncode == 0, _tail(done.stderr)


def run_one(python: str, directory: Path, run: str, timeout: float) -> tuple[str, float, str]:
    """Run one preview; return (status, seconds, last stderr lines)."""
    command = [python, "-c", "import sys; from platformkit.cli import main; sys.exit(main())"]
    command += ["preview", str(directory), "--stack", "dev", "--output", "/dev/null", *RUNS[run]]
    if (directory / "answers.json").is_file():
        command += ["--answers", str(directory / "answers.json")]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=directory
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return "hang", time.perf_counter() - start, _tail(stderr)
    seconds = time.perf_counter() - start
    if done.returncode == 0 or (run == "gate" and done.returncode == 1):
        return "ok", seconds, ""
    status = "unsupported" if UNSUPPORTED_MARKER in done.stderr else "failed"
    return status, seconds, _tail(done.stderr)


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("examples", type=Path, help="pulumi/examples checkout or git dir")
    parser.add_argument("--workdir", type=Path, required=True, help="where programs are copied")
    parser.add_argument("--python", default=sys.executable, help="interpreter with platformkit")
    parser.add_argument("--install", action="store_true", help="pip install requirements first")
    parser.add_argument("--only", action="append", default=[], help="program(s) to run")
    parser.add_argument("--runs", default="up,preview,gate", help="comma-separated runs")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--json", type=Path, help="write every outcome here")
    args = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    programs = [p for p in discover(args.examples) if not args.only or p in args.only]
    for program in programs:
        directory = args.workdir / program
        export(args.examples, program, directory)
        write_stack(program, directory)
        requirements = directory / "requirements.txt"
        if args.install and requirements.is_file():
            ok, detail = installable(args.python, requirements)
            if not ok:
                outcomes.append(Outcome(program, "all", "not installable", 0.0, detail))
                print(f"{program:48} not installable", flush=True)
                continue
        statuses = []
        for run in args.runs.split(","):
            status, seconds, detail = run_one(args.python, directory, run, args.timeout)
            outcomes.append(Outcome(program, run, status, round(seconds, 2), detail))
            statuses.append(f"{run}={status} ({seconds:.1f}s)")
        print(f"{program:48} " + "  ".join(statuses), flush=True)
    tried = sorted({o.program for o in outcomes if o.status != "not installable"})
    print(f"\nprograms found: {len(programs)}; run: {len(tried)}")
    for run in args.runs.split(","):
        counts: dict[str, int] = {}
        for outcome in outcomes:
            if outcome.run == run:
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
        print(f"{run:8} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
