"""Stack configuration: ``Pulumi.yaml``'s declarations checked against ``Pulumi.<stack>.yaml``.

This emulates what the Pulumi CLI does before it starts a program:

- ``Pulumi.yaml``'s ``config:`` block declares keys of the project namespace, each either a
  mapping (``type``: string | integer | boolean | array | object, ``description``,
  ``default``, ``secret: true``, ``items`` for arrays, ``value``) or a plain value, the
  shorthand for a default whose type is inferred from it. Keys of other namespaces
  (``aws:region``) may be given a project-wide value, plain or as ``{value: ...}``.
- A stack value of a declared key must have its type (scalars are stored as strings, so an
  integer may be written ``3`` or ``"3"``), must be ``secure:`` when the key is ``secret``,
  and a declared key without a default must be set. When the project declares any key of its
  own namespace, a stack key of that namespace it does not declare is an error.
- Values reach the program the way the CLI passes them: fully qualified keys
  (``project:key``), strings as-is, booleans as ``true``/``false``, numbers as digits, lists
  and objects as compact JSON. A ``secure:`` value cannot be decrypted offline: it becomes the
  value the user's answers file supplies, else a placeholder of the declared type (a string
  shaped by the key's name, ``0``, ``false``, ``[]``, ``{}``) and the key is marked secret, so
  ``pulumi.Config().require_secret(...)`` returns a secret Output.
- ESC environments the stack file imports (``environment:``) are read from the files the
  user supplied (``esc_environments``): their ``pulumiConfig`` is checked like the stack
  file's config and applies under it (a key declared ``secret: true`` is then secret); their
  ``environmentVariables`` go to the program. An import without a file is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformkit.preview.answers import Answers
from platformkit.preview.errors import ConfigError
from platformkit.preview.esc_environments import OpenedEnvironment
from platformkit.preview.project import Project, load_stack_file, missing_stack_note
from platformkit.preview.secret_values import placeholder

SECRET_PLACEHOLDER = "[secret]"
"""What a ``secure:`` string nested in an object becomes (a top-level one gets a stand-in)."""

CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
"""The types ``Pulumi.yaml`` may declare."""

_PLACEHOLDERS = {
    "string": SECRET_PLACEHOLDER,
    "integer": "0",
    "boolean": "false",
    "array": "[]",
    "object": "{}",
}
_DECLARATION_FIELDS = {"type", "description", "default", "secret", "items", "value"}
_MISSING = object()


@dataclass(frozen=True)
class ConfigDeclaration:
    """One key declared in ``Pulumi.yaml``'s ``config:`` block."""

    key: str
    """The fully qualified key, ``project:name``."""
    type: str | None = None
    """One of ``CONFIG_TYPES``; ``None`` when undeclared (any value)."""
    description: str | None = None
    default: Any = _MISSING
    """The value applied when the stack omits the key; ``_MISSING`` when required."""
    secret: bool = False
    items: str | None = None
    """Element type of an ``array``."""

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING


@dataclass
class StackConfig:
    """The config a stack's program sees."""

    stack_file: Path
    values: dict[str, str] = field(default_factory=dict)
    """Fully qualified key → value string, as ``pulumi.runtime.set_all_config`` takes it."""
    secret_keys: list[str] = field(default_factory=list)
    """Keys whose value is secret (sorted)."""
    environment_variables: dict[str, str] = field(default_factory=dict)
    """Variables the imported ESC environments set for the program."""

    @property
    def region(self) -> str | None:
        """``aws:region`` when set."""
        return self.values.get("aws:region")


def load_stack_config(project: Project, stack: str, answers: Answers | None = None) -> StackConfig:
    """Read and check ``Pulumi.<stack>.yaml`` against ``project``'s declarations.

    A stack without a stack file has only the project's defaults (as with the CLI). Raises
    ``ConfigError`` listing every problem (each naming the file and the key) when the config
    is invalid; a missing stack file is then named too, with the stacks that have one.

    A ``secure:`` string becomes the value ``answers`` supplies for its key, else a plausible
    stand-in shaped by its name (``secret_values``); either way the key is marked secret.
    """
    stack_file = load_stack_file(project, stack)
    path = stack_file.path
    stack_name = project.display_path(path)
    project_name = project.display_path(project.project_file)
    problems: list[str] = []
    declarations, project_values = parse_declarations(
        project.name, project.config, project_name, problems
    )

    config = StackConfig(stack_file=path)
    secrets: set[str] = set()
    # Key → (value, where it was set, from an ESC environment?); the stack file's own
    # config is read last, so it wins over the environments' pulumiConfig.
    given: dict[str, tuple[Any, str, bool]] = {}
    opened = _opened(stack_file.environments, answers, stack_name, problems)
    for environment in opened:
        for key, raw_value in environment.pulumi_config.items():
            qualified = key if ":" in key else f"{project.name}:{key}"
            given[qualified] = (raw_value, environment.label, True)
        config.environment_variables.update(environment.environment_variables)
    for raw_key, raw_value in stack_file.config.items():
        key = str(raw_key)
        if ":" not in key:
            problems.append(
                f"{stack_name}: {key}: configuration keys must be namespaced, "
                f"e.g. {project.name}:{key}"
            )
            continue
        namespace, _, name = key.partition(":")
        if namespace == project.name:
            # A key of the project namespace may be written with nested ``:`` only here.
            key = f"{project.name}:{name}"
        given[key] = (raw_value, stack_name, False)

    own_declared = any(k.startswith(f"{project.name}:") for k in declarations)
    for key, (raw_value, where, from_environment) in given.items():
        declaration = declarations.get(key)
        if declaration is None and own_declared and key.startswith(f"{project.name}:"):
            known = ", ".join(sorted(k.partition(":")[2] for k in declarations)) or "none"
            problems.append(
                f"{where}: {key}: not declared in {project_name}'s config block "
                f"(declared keys: {known})"
            )
            continue
        value, is_secret = _encode(raw_value, declaration)
        if declaration is not None:
            # ``esc env open`` prints secrets in plain text: a secret key is taken as given.
            problem = (
                _type_problem(declaration, raw_value)
                if from_environment
                else _check(declaration, raw_value, is_secret)
            )
            if problem:
                problems.append(f"{where}: {key}: {problem}")
                continue
            is_secret = is_secret or (from_environment and declaration.secret)
        config.values[key] = value
        if is_secret:
            secrets.add(key)

    for key, declaration in sorted(declarations.items()):
        if key in given:
            continue
        if not declaration.has_default:
            if len(opened) < len(stack_file.environments):
                continue  # an environment not opened may well set it: that error is enough
            problems.append(
                f"{stack_name}: {key}: missing required value "
                f"(declared in {project_name} without a default)"
            )
            continue
        value, _ = _encode(declaration.default, None)
        config.values[key] = value
        if declaration.secret:
            secrets.add(key)
    for key, raw_value in project_values.items():
        if key not in given:
            config.values[key], is_secret = _encode(raw_value, None)
            if is_secret:
                secrets.add(key)

    if problems:
        if not path.is_file():
            problems.append(missing_stack_note(project, stack))
        raise ConfigError(problems)
    config.secret_keys = sorted(secrets)
    for key in config.secret_keys:
        supplied = answers.secret_for(key) if answers is not None else None
        if supplied is not None:
            config.values[key] = _encode(supplied, None)[0]
        elif config.values.get(key) == SECRET_PLACEHOLDER:
            config.values[key] = placeholder(key)
    return config


def _opened(
    names: list[str], answers: Answers | None, stack_name: str, problems: list[str]
) -> list[OpenedEnvironment]:
    supplied = answers.environments if answers is not None else {}
    opened = []
    for name in names:
        if name in supplied:
            opened.append(supplied[name])
        else:
            problems.append(
                f"{stack_name}: environment: ESC environment {name!r} cannot be opened "
                f"offline; pass --environment {name}=FILE with what `esc env open {name}` prints"
            )
    return opened


def parse_declarations(
    project_name: str, raw: dict[str, Any], filename: str, problems: list[str]
) -> tuple[dict[str, ConfigDeclaration], dict[str, Any]]:
    """Split ``Pulumi.yaml``'s ``config:`` block into declarations and foreign values.

    Returns (project-namespace key → declaration, other-namespace key → value); malformed
    declarations are appended to ``problems``.
    """
    declarations: dict[str, ConfigDeclaration] = {}
    values: dict[str, Any] = {}
    for raw_key, spec in raw.items():
        key = str(raw_key)
        namespace, sep, name = key.partition(":")
        if not sep:
            namespace, name = project_name, key
        full = f"{namespace}:{name}"
        is_declaration = isinstance(spec, dict) and bool(spec) and set(spec) <= _DECLARATION_FIELDS
        if namespace != project_name:
            if is_declaration and set(spec) - {"value"}:
                problems.append(
                    f"{filename}: {full}: only 'value' may be set for a key outside the "
                    f"project namespace {project_name!r}"
                )
            elif is_declaration:
                values[full] = spec["value"]
            else:
                values[full] = spec
            continue
        if not is_declaration:
            # Shorthand: a plain value is the key's default, its type inferred from it.
            declarations[full] = ConfigDeclaration(full, type=_infer_type(spec), default=spec)
            continue
        declared_type = spec.get("type")
        if declared_type is not None and declared_type not in CONFIG_TYPES:
            problems.append(
                f"{filename}: {full}: unknown type {declared_type!r} "
                f"(expected one of {', '.join(CONFIG_TYPES)})"
            )
            continue
        items = spec.get("items")
        item_type = items.get("type") if isinstance(items, dict) else None
        if declared_type == "array" and item_type is not None and item_type not in CONFIG_TYPES:
            problems.append(f"{filename}: {full}: unknown items type {item_type!r}")
            continue
        default = spec.get("default", spec.get("value", _MISSING))
        declaration = ConfigDeclaration(
            full,
            type=declared_type or (_infer_type(default) if default is not _MISSING else None),
            description=spec.get("description"),
            default=default,
            secret=bool(spec.get("secret", False)),
            items=item_type,
        )
        if declaration.has_default and declaration.default is not None:
            problem = _type_problem(declaration, declaration.default)
            if problem:
                problems.append(f"{filename}: {full}: default: {problem}")
                continue
        declarations[full] = declaration
    return declarations, values


def _infer_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _contains_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _redact(value: Any) -> Any:
    if _is_secure(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _encode(raw: Any, declaration: ConfigDeclaration | None) -> tuple[str, bool]:
    """The value string the CLI would pass, and whether it is secret."""
    if _is_secure(raw):
        declared = declaration.type if declaration is not None else None
        return _PLACEHOLDERS.get(declared or "string", SECRET_PLACEHOLDER), True
    secret = _contains_secure(raw)
    if isinstance(raw, dict | list):
        return json.dumps(_redact(raw), separators=(",", ":")), secret
    return _scalar(raw), secret


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check(declaration: ConfigDeclaration, raw: Any, is_secret: bool) -> str | None:
    if declaration.secret and not _is_secure(raw):
        return (
            "must be a secret (declared 'secret: true'); set it with "
            f"`pulumi config set --secret {declaration.key.partition(':')[2]} <value>`"
        )
    if _is_secure(raw):
        # Ciphertext cannot be decrypted offline, so its type cannot be checked.
        return None
    return _type_problem(declaration, raw)


def _type_problem(declaration: ConfigDeclaration, value: Any) -> str | None:
    expected = declaration.type
    if expected is None or _matches(expected, declaration.items, value):
        return None
    shown = f"array<{declaration.items}>" if expected == "array" and declaration.items else expected
    return f"expected {shown}, got {json.dumps(_redact(value))}"


def _matches(expected: str, items: str | None, value: Any) -> bool:
    # Scalars live in stack files as strings (``pulumi config set n 3`` writes "3"), so an
    # integer or boolean is whatever parses as one, as the CLI's own check does.
    if expected == "string":
        return not isinstance(value, dict | list) and value is not None
    if expected == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, str):
            try:
                int(value.strip(), 10)
            except ValueError:
                return False
            return value.strip() == value and value != ""
        return False
    if expected == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if expected == "array":
        if not isinstance(value, list):
            return False
        return items is None or all(_item_matches(items, v) for v in value)
    if expected == "object":
        return isinstance(value, dict)
    return True


def _item_matches(items: str, value: Any) -> bool:
    # Array elements are JSON values, so they must have the type itself.
    if _is_secure(value):
        return True
    if items == "string":
        return isinstance(value, str)
    if items == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if items == "boolean":
        return isinstance(value, bool)
    if items == "array":
        return isinstance(value, list)
    if items == "object":
        return isinstance(value, dict)
    return True
