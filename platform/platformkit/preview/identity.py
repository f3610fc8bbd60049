"""Where the fake cloud's resources live (region, account, partition) and seeded fake values.

Every fake value is derived from a hash of what names it (type token and logical name), so two
runs of the same program produce the same ids, ARNs and names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"
"""Region used when the program's config sets no ``aws:region``."""
DEFAULT_ACCOUNT_ID = "123456789012"
"""Account id of the fake caller identity."""


def digest(*parts: str) -> str:
    """A stable hex digest of ``parts`` (64 characters)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def uuid_from(seed: str) -> str:
    """A UUID-shaped string derived from ``seed``."""
    h = digest("uuid", seed)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def alnum(seed: str, length: int) -> str:
    """``length`` lower-case letters and digits derived from ``seed`` (API Gateway-style ids)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number = int(digest("alnum", seed), 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


@dataclass(frozen=True)
class Identity:
    """Where the fake resources live."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"
