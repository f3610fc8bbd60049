"""The database: engine and sessions (``engine``), driver-level reads (``reads``), write
transactions (``transactions``), what an error means (``failures``) and client-side deadlines
(``watchdog``). Created by ``create_app``, never at import time.

No wait on the database is unbounded while serving requests (``DB_CONNECT_TIMEOUT``,
``DB_STATEMENT_TIMEOUT``): connecting and waiting for a pooled connection take at most the
connect timeout; the server cancels a statement at the statement timeout, and one second
later the client gives up on a server that stopped answering altogether (pymysql's read
timeout; for psycopg, which has none, ``Watchdog``). ``is_unavailable`` tells such failures,
and every other sign that the database is away, from bugs: the API answers them 503.
"""

from .engine import EXTENSION_KEY as EXTENSION_KEY
from .engine import POOL_RECYCLE_S as POOL_RECYCLE_S
from .engine import SQLITE_BUSY_MS as SQLITE_BUSY_MS
from .engine import Database as Database
from .engine import get_db as get_db
from .engine import get_session as get_session
from .engine import init_app as init_app
from .failures import is_out_of_range as is_out_of_range
from .failures import is_retryable as is_retryable
from .failures import is_unavailable as is_unavailable
from .reads import DriverStatement as DriverStatement
from .reads import fetch_all as fetch_all
from .reads import fetch_one as fetch_one
from .transactions import MAX_ATTEMPTS as MAX_ATTEMPTS
from .transactions import run_in_transaction as run_in_transaction
from .watchdog import time_limit as time_limit
