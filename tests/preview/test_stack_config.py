"""Config checks emulating the Pulumi CLI: each kind of error names the file and the key."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from platformkit.preview.answers import Answers
from platformkit.preview.errors import ConfigError
from platformkit.preview.project import load_project
from platformkit.preview.stack_config import load_stack_config
from tests.preview.conftest import CIPHERTEXT, PROGRAMS


def _project(tmp_path: Path, project_yaml: str, stack_yaml: str, stack: str = "dev") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(project_yaml))
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(textwrap.dedent(stack_yaml))
    (tmp_path / "__main__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        (
            "unknown-key",
            "Pulumi.unknown-key.yaml: basic:azCuont: not declared in Pulumi.yaml's config block",
        ),
        ("wrong-type", 'Pulumi.wrong-type.yaml: basic:azCount: expected integer, got "three"'),
        ("plain-secret", "Pulumi.plain-secret.yaml: basic:dbPassword: must be a secret"),
        ("missing-value", "Pulumi.missing-value.yaml: basic:owner: missing required value"),
    ],
)
def test_invalid_config_names_file_and_key(stack: str, message: str) -> None:
    project = load_project(PROGRAMS / "basic")
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project, stack)
    assert message in str(caught.value)
    assert str(caught.value).startswith("error: ")


def test_plain_secret_value_is_not_echoed() -> None:
    project = load_project(PROGRAMS / "basic")
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project, "plain-secret")
    assert "hunter2" not in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _project(
        tmp_path,
        """
        name: p
        runtime: python
        config:
          count: {type: integer}
          flag: {type: boolean, default: false}
        """,
        """
        config:
          p:count: many
          p:flag: maybe
          p:extra: 1
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_stack_config(load_project(tmp_path), "dev")
    assert len(caught.value.problems) == 3
    assert 'p:flag: expected boolean, got "maybe"' in str(caught.value)


def test_missing_stack_file_lists_available_stacks_when_config_is_required() -> None:
    project = load_project(PROGRAMS / "basic")
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project, "staging")
    message = str(caught.value)
    assert "Pulumi.staging.yaml does not exist" in message
    assert "available stacks: dev, missing-value, plain-secret, unknown-key, wrong-type" in message


def test_a_stack_without_a_stack_file_gets_the_project_defaults(tmp_path: Path) -> None:
    # The CLI runs a stack that has no Pulumi.<stack>.yaml with the project's config only.
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nconfig:\n  size: 3\n")
    (tmp_path / "__main__.py").write_text("")
    config = load_stack_config(load_project(tmp_path), "fresh")
    assert config.values == {"p:size": "3"}


def test_values_are_passed_like_the_cli_passes_them() -> None:
    config = load_stack_config(load_project(PROGRAMS / "basic"), "dev")
    assert config.values["basic:azCount"] == "3"
    assert config.values["basic:enableLogs"] == "true"  # declared default
    assert config.values["basic:retentionDays"] == "14"  # shorthand default
    assert json.loads(config.values["basic:zones"]) == ["a", "b"]
    assert json.loads(config.values["basic:tags"]) == {"team": "analytics", "cost-center": "42"}
    assert config.values["aws:region"] == "eu-west-1"  # the stack overrides Pulumi.yaml's value
    assert config.values["basic:dbPassword"] != CIPHERTEXT  # never the ciphertext
    assert config.secret_keys == ["basic:dbPassword"]


def test_project_values_of_other_namespaces_apply_when_the_stack_omits_them(
    tmp_path: Path,
) -> None:
    _project(
        tmp_path,
        """
        name: p
        runtime: python
        config:
          aws:region: us-west-2
          aws:skipMetadataApiCheck: {value: false}
        """,
        "config: {}\n",
    )
    config = load_stack_config(load_project(tmp_path), "dev")
    assert config.values == {"aws:region": "us-west-2", "aws:skipMetadataApiCheck": "false"}


@pytest.mark.parametrize(
    ("declared", "value", "ok"),
    [
        ("integer", "3", True),
        ("integer", '"3"', True),
        ("integer", "3.5", False),
        ("integer", "true", False),
        ("boolean", "false", True),
        ("boolean", '"true"', True),
        ("boolean", "yes-please", False),
        ("string", "42", True),
        ("string", "[a]", False),
        ("array", "[a, b]", True),
        ("array", "a", False),
        ("object", "{a: 1}", True),
        ("object", "[1]", False),
    ],
)
def test_type_checks(tmp_path: Path, declared: str, value: str, ok: bool) -> None:
    _project(
        tmp_path,
        f"name: p\nruntime: python\nconfig:\n  key: {{type: {declared}}}\n",
        f"config:\n  p:key: {value}\n",
    )
    project = load_project(tmp_path)
    if ok:
        load_stack_config(project, "dev")
    else:
        with pytest.raises(ConfigError, match=f"Pulumi.dev.yaml: p:key: expected {declared}"):
            load_stack_config(project, "dev")


def test_array_items_are_checked(tmp_path: Path) -> None:
    _project(
        tmp_path,
        "name: p\nruntime: python\nconfig:\n  ports: {type: array, items: {type: integer}}\n",
        "config:\n  p:ports: [80, http]\n",
    )
    with pytest.raises(ConfigError, match=r"p:ports: expected array<integer>"):
        load_stack_config(load_project(tmp_path), "dev")


def test_secure_values_become_typed_placeholders(tmp_path: Path) -> None:
    _project(
        tmp_path,
        """
        name: p
        runtime: python
        config:
          port: {type: integer, secret: true}
          creds: {type: object}
        """,
        """
        config:
          p:port: {secure: v1:abc}
          p:creds:
            user: admin
            password: {secure: v1:def}
        """,
    )
    config = load_stack_config(load_project(tmp_path), "dev")
    assert config.values["p:port"] == "0"
    assert json.loads(config.values["p:creds"]) == {"user": "admin", "password": "[secret]"}
    assert config.secret_keys == ["p:creds", "p:port"]
    assert "v1:" not in json.dumps(config.values)


def test_undeclared_keys_are_allowed_when_the_project_declares_none(tmp_path: Path) -> None:
    _project(tmp_path, "name: p\nruntime: python\n", "config:\n  p:anything: 1\n")
    assert load_stack_config(load_project(tmp_path), "dev").values == {"p:anything": "1"}


def test_keys_must_be_namespaced(tmp_path: Path) -> None:
    _project(tmp_path, "name: p\nruntime: python\n", "config:\n  region: x\n")
    with pytest.raises(ConfigError, match="Pulumi.dev.yaml: region: configuration keys must be"):
        load_stack_config(load_project(tmp_path), "dev")


@pytest.mark.parametrize(
    ("key", "starts"),
    [
        ("privateKey", "-----BEGIN RSA PRIVATE KEY-----\n"),
        ("tlsCertificate", "-----BEGIN CERTIFICATE-----\n"),
        ("dbPassword", "Preview-"),
        ("apiToken", "preview-"),
    ],
)
def test_secrets_get_a_usable_stand_in_shaped_by_their_name(
    tmp_path: Path, key: str, starts: str
) -> None:
    # A program parses its secrets (a PEM key, a password rule); "[secret]" broke those.
    _project(tmp_path, "name: p\nruntime: python\n", f"config:\n  p:{key}: {{secure: v1:x}}\n")
    config = load_stack_config(load_project(tmp_path), "dev")
    assert config.values[f"p:{key}"].startswith(starts)
    assert config.secret_keys == [f"p:{key}"]


def test_secrets_supplied_by_the_user_are_used(tmp_path: Path) -> None:
    _project(tmp_path, "name: p\nruntime: python\n", "config:\n  p:dbPassword: {secure: v1:x}\n")
    answers = Answers(secrets={"dbPassword": "hunter2-Long"})
    config = load_stack_config(load_project(tmp_path), "dev", answers)
    assert config.values["p:dbPassword"] == "hunter2-Long"
    assert config.secret_keys == ["p:dbPassword"]
