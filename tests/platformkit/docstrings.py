"""Check the documentation contract of component ``Args``: every field has a docstring.

Python keeps no runtime docstrings for ``TypedDict`` fields, so fields are documented with a
string literal on the line right under each annotation (the convention Pulumi's component
analyzer and Sphinx read). ``platformkit.reference`` parses them (it also renders
``docs/components.md`` from them); these helpers state the contract for tests::

    from tests.platformkit.docstrings import undocumented_fields
    import platformkit.cluster

    assert undocumented_fields(platformkit.cluster, "ClusterArgs") == []
"""

from __future__ import annotations

from types import ModuleType

from platformkit.reference import class_fields


def field_docstrings(module: ModuleType, typed_dict_name: str) -> dict[str, str | None]:
    """Map each field of ``typed_dict_name`` in ``module`` to its docstring (``None`` if absent).

    Raise ``LookupError`` if the class is missing, so a typo cannot make a check pass.
    """
    return {field.name: field.doc for field in class_fields(module, typed_dict_name)}


def undocumented_fields(module: ModuleType, typed_dict_name: str) -> list[str]:
    """Return the fields of ``typed_dict_name`` in ``module`` that have no docstring, in order."""
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
