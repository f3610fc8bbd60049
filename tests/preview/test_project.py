"""Loading Pulumi.yaml: main as a directory or a file, runtime forms, missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformkit.preview.errors import ProjectError
from platformkit.preview.project import load_project
from tests.preview.conftest import EXAMPLE, PROGRAMS


def test_main_directory_is_the_working_directory() -> None:
    project = load_project(PROGRAMS / "subdir_main")
    assert project.name == "subdir-main"
    assert project.entry_point == (PROGRAMS / "subdir_main" / "app" / "__main__.py").resolve()
    assert project.working_directory == (PROGRAMS / "subdir_main" / "app").resolve()
    assert project.runtime == "python"
    assert project.runtime_options == {"virtualenv": "venv"}


def test_main_file_runs_from_the_project_directory() -> None:
    project = load_project(PROGRAMS / "file_main")
    assert project.entry_point.name == "program.py"
    assert project.working_directory == (PROGRAMS / "file_main").resolve()


def test_default_main_is_the_project_directory() -> None:
    project = load_project(EXAMPLE)
    assert project.entry_point == EXAMPLE / "__main__.py"
    assert project.available_stacks() == ["dev"]


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=f"no Pulumi.yaml in {tmp_path}"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("project_yaml", "message"),
    [
        ("name: p\nruntime: nodejs\n", "runtime 'nodejs' is not supported"),
        ("name: p\nruntime: python\nmain: ../elsewhere\n", "must stay inside"),
        ("name: p\nruntime: python\nmain: missing/\n", "does not exist"),
        ("runtime: python\n", "missing required field 'name'"),
        ("name: p\nruntime: [python\n", "invalid YAML"),
    ],
)
def test_invalid_project_files(tmp_path: Path, project_yaml: str, message: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(project_yaml)
    (tmp_path / "__main__.py").write_text("")
    with pytest.raises(ProjectError, match=message):
        load_project(tmp_path)
