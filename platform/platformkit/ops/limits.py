"""Defaults of the ops commands, importable without boto3 (the CLI parser needs them)."""

DEFAULT_ATTEMPTS = 6
"""Tries per retryable ``verify`` check: 5+10+20+40+60 s of backoff, about 2¼ minutes."""
DEFAULT_TIMEOUT_MINUTES = 120
"""How long ``dr-drill`` waits for a snapshot and a restore together."""
DEFAULT_POLL_SECONDS = 30.0
"""How often ``dr-drill`` asks whether the restore is available."""
REPORT_FORMATS = ("json", "text")
"""``verify --format`` choices."""
