"""Editing a module's source by its top-level statements, found by their AST line ranges.

Whole top-level definitions (functions and classes) are replaced by new text, and code can be
added after the module's imports; every other line stays byte for byte.
"""

from __future__ import annotations

import ast

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class UnknownDefinitions(ValueError):
    """Some names to replace are not defined at the top level of the module."""

    def __init__(self, names: list[str], filename: str) -> None:
        super().__init__(f"{', '.join(names)} not defined in {filename}")
        self.names = names
        self.filename = filename


def first_line(node: ast.stmt) -> int:
    """The 1-based first line of a statement, its decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])


def top_level_definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """The functions and classes defined at the top of a module, by name (the last one of a name wins)."""
    return {node.name: node for node in tree.body if isinstance(node, DEFINITIONS)}


def insertion_line(tree: ast.Module) -> int:
    """The line after which added code goes: the end of the last top-level import, else of the
    module docstring, else 0 (the top of the file)."""
    imports = [node.end_lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    if imports:
        return max(imports)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        return tree.body[0].end_lineno
    return 0


def replace_definitions(source: str, filename: str, replacements: dict[str, str], added: str = "") -> str:
    """``source`` with each top-level definition named in ``replacements`` replaced by its text, and
    ``added`` inserted after the imports (see ``insertion_line``).

    Raises ``UnknownDefinitions`` when a name is not defined at the top level of ``source``.
    """
    tree = ast.parse(source, filename=filename)
    targets = top_level_definitions(tree)
    unknown = sorted(set(replacements) - set(targets))
    if unknown:
        raise UnknownDefinitions(unknown, filename)
    edits = [(first_line(targets[name]) - 1, targets[name].end_lineno, text) for name, text in replacements.items()]
    after = insertion_line(tree)
    edits.append((after, after, added))
    lines = source.splitlines(keepends=True)
    for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        lines[start:end] = [text if text.endswith("\n") or not text else text + "\n"]
    return "".join(lines)
