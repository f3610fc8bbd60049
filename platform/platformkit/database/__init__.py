"""``Database``: an RDS MySQL (default) or PostgreSQL instance with production defaults.

- ``args``: ``DatabaseArgs``, ``DatabaseRef`` and the defaults, ranges and tables they use;
- ``settings``: the arguments read into ``DatabaseSettings``;
- ``component``: the ``Database`` component and its resources.
"""

from platformkit.database.args import BACKUP_RETENTION_DAYS as BACKUP_RETENTION_DAYS
from platformkit.database.args import ENGINE as ENGINE
from platformkit.database.args import DatabaseArgs as DatabaseArgs
from platformkit.database.args import DatabaseRef as DatabaseRef
from platformkit.database.args import HasDatabaseRef as HasDatabaseRef
from platformkit.database.args import as_database_ref as as_database_ref
from platformkit.database.component import Database as Database

__all__ = [
    "as_database_ref",
    "HasDatabaseRef",
    "BACKUP_RETENTION_DAYS",
    "ENGINE",
    "Database",
    "DatabaseArgs",
    "DatabaseRef",
]
