"""Check the documentation contract of component ``Args``: every field has a docstring.

Python keeps no runtime docstrings for ``TypedDict`` fields, so fields are documented with a
string literal on the line right under each annotation (the convention Pulumi's component
analyzer and Sphinx read). This helper parses the module source with ``ast`` to find them::

    from tests.platformkit.docstrings import undocumented_fields
    import platformkit.cluster

    assert undocumented_fields(platformkit.cluster, "ClusterArgs") == []
"""

from __future__ import annotations

import ast
import inspect
from types import ModuleType


def _class_def(module: ModuleType, name: str) -> ast.ClassDef:
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f"class {name!r} not found in module {module.__name__!r}")


def _docstring(node: ast.stmt | None) -> str | None:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return node.value.value
    return None


def field_docstrings(module: ModuleType, typed_dict_name: str) -> dict[str, str | None]:
    """Map each field of ``typed_dict_name`` in ``module`` to its docstring (``None`` if absent).

    A field's docstring is the string literal statement that directly follows its annotation
    in the class body. Fields inherited from base classes are not included.
    """
    body = _class_def(module, typed_dict_name).body
    docs: dict[str, str | None] = {}
    for index, statement in enumerate(body):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            following = body[index + 1] if index + 1 < len(body) else None
            doc = _docstring(following)
            docs[statement.target.id] = doc.strip() if doc and doc.strip() else None
    return docs


def undocumented_fields(module: ModuleType, typed_dict_name: str) -> list[str]:
    """Return the fields of ``typed_dict_name`` in ``module`` that have no docstring, in order.

    Raise ``LookupError`` if the class is missing, so a typo cannot make the check pass.
    """
    return [name for name, doc in field_docstrings(module, typed_dict_name).items() if doc is None]


def fields_without_default(module: ModuleType, typed_dict_name: str) -> list[str]:
    """Return the documented fields whose docstring does not state a default ("Defaults to").

    Required fields have no default; callers exclude them (e.g. ``network``) as they see fit.
    """
    return [
        name
        for name, doc in field_docstrings(module, typed_dict_name).items()
        if doc is not None and "Defaults to" not in doc
    ]
