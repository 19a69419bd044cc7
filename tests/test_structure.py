"""The package's structure stays as DESIGN.md describes it: one table of encoders and heads, no
private helper used outside its module. Static checks of the source (ast), no training."""
import ast
from pathlib import Path

import selfsup

PACKAGE = Path(selfsup.__file__).parent


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path))


def test_encoders_and_heads_are_registered_in_one_place():
    """Only nets/__init__.py fills ENCODERS and HEADS: no `HEADS[name] = ...` or `.update()` elsewhere."""
    registries = {"ENCODERS", "HEADS"}
    writers = set()
    for name, tree in modules():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            stored = [t.value for t in targets if isinstance(t, ast.Subscript)]
            called = [node.func.value] if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                           and node.func.attr in ("update", "setdefault", "pop")) else []
            for obj in stored + called:
                if (isinstance(obj, ast.Name) and obj.id in registries) or \
                        (isinstance(obj, ast.Attribute) and obj.attr in registries):
                    writers.add(name)
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in registries:
                writers.add(name)
    assert writers == {"nets/__init__.py"}


def test_no_private_name_is_used_outside_its_module():
    """`from .x import _helper` or `v._helper(...)` across modules: promote the helper or move the caller.
    (Private *modules* such as `_validate` or `pretext/_patches` are fine inside the package.)"""
    offenders = []
    for name, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module is not None:  # not `from . import _validate`
                offenders += [f"{name}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id not in ("self", "cls")
                    and node.value.id in _imported_modules(tree)):
                offenders.append(f"{name}: {node.value.id}.{node.attr}")
    assert offenders == []


def _imported_modules(tree) -> set[str]:
    """Names bound to selfsup modules in this file (`from . import _validate as v` -> "v")."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            names |= {a.asname or a.name for a in node.names if not a.name[0].isupper()}
    return names
