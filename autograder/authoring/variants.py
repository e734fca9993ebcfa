"""Variants of a reference solution, written as small overrides: the bug corpus (mutants) and
alternative correct implementations of an assignment.

``assignments/NAME/mutants/<module>.py`` and ``assignments/NAME/alternatives/<module>.py`` hold
functions named ``<function>__<variant>``: each replaces ``<function>`` of ``solutions/NAME/<module>.py``
in the variant called ``<module>.<variant>``. Functions sharing a variant name form one variant
(e.g. ``affine_forward__dict_cache`` and ``affine_backward__dict_cache``). The first line of a
variant function's docstring describes it. Import statements of the override file are added to
the variant's module; any other module-level statement is an error.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import source_edit

SEPARATOR = "__"


class VariantError(ValueError):
    """An override file is malformed; the message names the file and line."""


@dataclass
class Variant:
    """One buggy or alternative version of the reference: ``module.name`` with the replaced
    functions' sources."""

    module: str
    name: str
    description: str = ""
    functions: dict[str, str] = field(default_factory=dict)
    """Replaced function -> its new source, already renamed to the function it replaces."""
    imports: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"


def read_overrides(path: Path) -> list[Variant]:
    """The variants defined in one override file, in file order."""
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as err:
        raise VariantError(f"{path}:{err.lineno}: {err.msg}") from None
    variants: dict[str, Variant] = {}
    imports = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append("".join(lines[node.lineno - 1 : node.end_lineno]))
        elif isinstance(node, ast.FunctionDef) and SEPARATOR in node.name.strip("_"):
            function, _, name = node.name.partition(SEPARATOR)
            variant = variants.setdefault(name, Variant(module=path.stem, name=name))
            text = "".join(lines[source_edit.first_line(node) - 1 : node.end_lineno])
            variant.functions[function] = text.replace(f"def {node.name}(", f"def {function}(", 1)
            doc = ast.get_docstring(node)
            if doc and not variant.description:
                variant.description = doc.strip().splitlines()[0]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            continue  # the module docstring
        else:
            raise VariantError(
                f"{path}:{node.lineno}: only imports and functions named <function>{SEPARATOR}<variant> belong here"
            )
    for variant in variants.values():
        variant.imports = imports
        if not variant.description:
            raise VariantError(f"{path}: variant {variant.name} needs a docstring that describes it")
    return list(variants.values())


def apply(solution_source: str, variant: Variant, filename: str) -> str:
    """The solution module's source with the variant's functions in place of the originals and
    its imports added after the module's own imports."""
    try:
        return source_edit.replace_definitions(solution_source, filename, variant.functions, "".join(variant.imports))
    except source_edit.UnknownDefinitions as err:
        raise VariantError(f"variant {variant.id} replaces {', '.join(err.names)}, not defined in {filename}") from None


def discover(folder: Path) -> list[Variant]:
    """All variants of the override files in ``folder`` (none if it does not exist)."""
    return [v for path in sorted(folder.glob("*.py")) for v in read_overrides(path)]


def materialise(solution: Path, variant: Variant, target: Path) -> None:
    """Write the whole solution into ``target`` with ``variant`` applied to its module."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(solution.glob("*.py")):
        source = path.read_text()
        if path.stem == variant.module:
            source = apply(source, variant, path.name)
        (target / path.name).write_text(source)
    if not (solution / f"{variant.module}.py").exists():
        raise VariantError(f"variant {variant.id}: there is no {variant.module}.py in {solution}")
