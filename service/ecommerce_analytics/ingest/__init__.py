"""Order and refund writes: raw rows plus every rollup, in the caller's transaction.

Only orders this transaction actually inserted touch the rollups, so a retried order (same
``order_id``) is counted once, however many times or however concurrently it arrives.

Modules: ``validation`` (the checks beyond the schema and their limits), ``stored_form`` (an
order's input as stored: integer money, UTC, store-local day), ``rollups`` (a batch's rows and
the rollup writes), ``cohorts`` (the cohort reads and reconciliation), ``order_days`` (the
order-day rollups' deltas) and ``day_probes`` (the order days read for them), ``orders``
(``ingest_orders``: the write of a batch) and ``refunds`` (``record_refund``).
"""

from .orders import IngestResult as IngestResult
from .orders import ingest_orders as ingest_orders
from .refunds import RefundResult as RefundResult
from .refunds import record_refund as record_refund
from .validation import EARLIEST as EARLIEST
from .validation import MAX_FUTURE_SKEW as MAX_FUTURE_SKEW
from .validation import MAX_ORDER_GROSS as MAX_ORDER_GROSS
from .validation import validate_orders as validate_orders
