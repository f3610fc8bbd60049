"""Day-two operations against a deployed stack: ``verify`` and ``dr-drill``.

Both read the stack's ``operations`` output (``platformkit.ops.contract``) and talk to AWS
with boto3 through ``platformkit.ops.aws``. See ``docs/operations.md``.
"""

from platformkit.ops.cli import add_dr_drill as add_dr_drill
from platformkit.ops.cli import add_verify as add_verify
from platformkit.ops.contract import DatabaseContract as DatabaseContract
from platformkit.ops.contract import OperationsContract as OperationsContract
from platformkit.ops.contract import OutputsError as OutputsError
from platformkit.ops.contract import parse_contract as parse_contract
