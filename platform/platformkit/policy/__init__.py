"""The platformkit CrossGuard rules: pure validators grouped by AWS area, and the pack's parts.

- ``core``: the ``Rule`` model (metadata, ``check`` filtering by resource type, conversion to
  an SDK policy) and the property helpers validators share.
- One module per AWS area, each a ``RULES`` tuple: ``network``, ``load_balancer``, ``s3``,
  ``ecs``, ``rds``, ``ecr``, ``logs``, ``kms``, ``iam``, ``tagging``, ``cost``.
- ``catalog``: every rule in pack order, lookups, ``build_policies`` (rules wrapped for
  unknown values and waivers).
- ``waivers``: the waiver file, and the ``waived-violations`` records report writers read back
  with ``parse_waiver_message`` (as the offline gate does).
- ``pack_config``: per-environment config files, validated offline; ``docs`` regenerates
  ``docs/policies.md``'s rule table from them and the catalog.
- ``secrets``: tells secret inputs from literals; ``pack``: the pack's name, shipped directory
  and ``serve``, which ``policies/__main__.py`` and ``policy_pack/__main__.py`` call.
"""

from pathlib import Path

from .catalog import ALL_POLICIES as ALL_POLICIES
from .catalog import RULE_NAMES as RULE_NAMES
from .catalog import RULES as RULES
from .catalog import WAIVABLE_RULE_NAMES as WAIVABLE_RULE_NAMES
from .catalog import WAIVED_VIOLATIONS as WAIVED_VIOLATIONS
from .catalog import build_policies as build_policies
from .catalog import get_rule as get_rule
from .catalog import rule_metadata as rule_metadata
from .core import FAIL_ON_UNKNOWN as FAIL_ON_UNKNOWN
from .core import UNKNOWN_PREFIX as UNKNOWN_PREFIX
from .core import Rule as Rule
from .pack_config import PackConfigError as PackConfigError
from .pack_config import effective_level as effective_level
from .pack_config import effective_settings as effective_settings
from .pack_config import load_pack_config as load_pack_config
from .pack_config import validate_pack_config as validate_pack_config
from .waivers import MESSAGE_PREFIX as MESSAGE_PREFIX
from .waivers import WAIVERS_ENV as WAIVERS_ENV
from .waivers import Waiver as Waiver
from .waivers import WaiverError as WaiverError
from .waivers import WaiverLedger as WaiverLedger
from .waivers import WaiverRecord as WaiverRecord
from .waivers import WaiverSet as WaiverSet
from .waivers import apply_waivers as apply_waivers
from .waivers import load_waivers as _load_waivers
from .waivers import parse_waiver_message as parse_waiver_message
from .waivers import parse_waivers as parse_waivers


def load_waivers(path: Path | None = None) -> WaiverSet:
    """Load and validate a waiver file against this pack's rules.

    ``$PLATFORMKIT_WAIVERS`` overrides ``path``; raises ``WaiverError`` naming each bad entry.
    """
    return _load_waivers(path, WAIVABLE_RULE_NAMES)
