"""Day-two operations against a deployed stack: ``verify`` and ``dr-drill``.

Both read the stack's ``operations`` output and talk to AWS with boto3. See
``docs/operations.md``. Modules:

- ``contract``: the ``OperationsContract`` a stack exports and the tools parse back, and
  reading a stack's outputs (file or Pulumi CLI).
- ``aws``: the boto3 boundary (typed client views, session, actionable errors).
- ``checks``: one function per post-deploy check; ``verify`` runs them with retries.
- ``dr_drill``: restore the database into a temporary instance, time it against the RTO.
- ``cli``: the two subcommands' parsers and handlers; ``limits``: their defaults, importable
  without boto3.
"""

from platformkit.ops.cli import add_dr_drill as add_dr_drill
from platformkit.ops.cli import add_verify as add_verify
from platformkit.ops.contract import DatabaseContract as DatabaseContract
from platformkit.ops.contract import OperationsContract as OperationsContract
from platformkit.ops.contract import OutputsError as OutputsError
from platformkit.ops.contract import parse_contract as parse_contract
