"""What a database error means for the request: try again now, answer 503, or answer 422.

Takes SQLAlchemy's errors and the drivers' own alike (psycopg, PyMySQL, sqlite3): the pool
raises a failed connect as the driver's error.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# Deadlocks and serialization failures are safe to retry: the transaction rolled back whole.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_RETRYABLE_MYSQL_ERRNOS = {1205, 1213}
# PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong": 08 connection
# exception, 53 insufficient resources (too many connections), 57 operator intervention
# (statement timeout 57014, shutdown, starting up), 58 system error.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
# Lock timeout (55P03), and the old primary of a failover refusing writes (25006); deadlocks
# and serialization failures that outlived their retries (_RETRYABLE_SQLSTATES).
_UNAVAILABLE_SQLSTATES = {"55P03", "25006"} | _RETRYABLE_SQLSTATES
# MySQL/MariaDB server errors of the same kinds: too many connections (1040), shutdown (1053),
# read-only after a failover (1290, 1836), interrupted or killed (1317, 1927), statement
# timeout (MariaDB 1969, MySQL 3024); lock wait timeout and deadlock (_RETRYABLE_MYSQL_ERRNOS).
# The client's own errors of a server away (2002/2003 cannot connect, 2005 unknown host, 2006
# gone away, 2013 lost during a query, 2055 lost at a read) and pymysql's 0 (the connection is
# already closed) count too; other client errors (2014 commands out of sync) are bugs.
_UNAVAILABLE_MYSQL_ERRNOS = {1040, 1053, 1290, 1317, 1836, 1927, 1969, 3024}
_UNAVAILABLE_MYSQL_ERRNOS |= _RETRYABLE_MYSQL_ERRNOS | {0, 2002, 2003, 2005, 2006, 2013, 2055}
_DRIVERS = ("psycopg", "pymysql", "sqlite3")


def _from_driver(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by a database driver: only their errors carry error numbers
    and messages worth reading here (a bug's ``KeyError(0)`` is no MySQL error 0)."""
    return type(exc).__module__.split(".", 1)[0] in _DRIVERS


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot answer now, so the same request may succeed
    later: unreachable, restarting or failing over, a connection lost or cut at its deadline,
    a statement past ``DB_STATEMENT_TIMEOUT``, no pooled connection free within
    ``DB_CONNECT_TIMEOUT``, or lock contention that outlived its retries. The API answers
    these 503 with ``Retry-After``. ``False`` for anything else, bugs included (an unknown
    column stays a 500). Takes SQLAlchemy's errors and bare driver errors alike."""
    if isinstance(exc, PoolTimeoutError | DisconnectionError):
        # No pooled connection free in time, or none that would connect after retries.
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if exc.orig is None:
            return False
        exc = exc.orig
    if not _from_driver(exc):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in _UNAVAILABLE_SQLSTATES
    ):
        return True
    args = getattr(exc, "args", ())
    if args and type(args[0]) is int:  # MySQL error number (pymysql)
        return args[0] in _UNAVAILABLE_MYSQL_ERRNOS
    if "database is locked" in str(exc):  # SQLite, after its busy timeout
        return True
    # psycopg: an OperationalError without SQLSTATE comes from the client side (connection
    # refused, timed out, lost); errors from the server always carry one.
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    return "OperationalError" in kinds and hasattr(exc, "sqlstate") and sqlstate is None


# A number past what its column holds: PostgreSQL's numeric_value_out_of_range; MySQL's
# "out of range value for column" (1264, a stored value) and "value is out of range" (1690,
# an expression such as a running total).
_OUT_OF_RANGE_SQLSTATE = "22003"
_OUT_OF_RANGE_MYSQL_ERRNOS = {1264, 1690}
# models._sums_stay_integers: SQLite's stand-in for the same refusal.
_SQLITE_NOT_INTEGER = "CHECK constraint failed: ck_"


def is_out_of_range(exc: BaseException) -> bool:
    """Whether a write failed because a stored total would pass what its column holds (64-bit
    money, 32-bit counts): retrying cannot help, so it is the request's fault (422), never a
    503. SQLite raises ``OverflowError`` for a value past 64 bits before sending it, and
    refuses a running total that would stop being an integer with the rollups' CHECK."""
    if isinstance(exc, OverflowError):
        # Only sqlite3's; any other OverflowError (date arithmetic) is a bug.
        return "SQLite INTEGER" in str(exc)
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) == _OUT_OF_RANGE_SQLSTATE:
        return True
    args = getattr(orig, "args", ())
    if args and type(args[0]) is int:
        return args[0] in _OUT_OF_RANGE_MYSQL_ERRNOS
    message = str(orig)
    return message.startswith(_SQLITE_NOT_INTEGER) and message.endswith("_integers")


def is_retryable(exc: DBAPIError) -> bool:
    """Whether the failed transaction may simply run again: deadlock, serialization failure,
    SQLite's lock (a lost connection is ``run_in_transaction``'s own decision)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in _RETRYABLE_MYSQL_ERRNOS:
        return True
    return "database is locked" in str(orig)
