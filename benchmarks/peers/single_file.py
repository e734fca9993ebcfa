"""A multi-module submission as one script, for graders that take exactly one ``.py`` file
(otter-grader).

The student's modules are concatenated in dependency order (a module after the modules it
imports, otherwise in the assignment's order). Their flat imports of each other are taken out:
``from activations import relu`` goes (``relu`` is defined above), ``from activations import relu
as r`` becomes ``r = relu``, ``import layers`` goes and ``layers.affine_forward`` becomes
``affine_forward``. Every other line is kept as written. A module that does not parse is kept
as it is, so the script fails the way the file would.
"""

from __future__ import annotations

import ast
from pathlib import Path


def flat_imports(tree: ast.AST, modules: set[str]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` that import one of ``modules`` by flat name."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module in modules
            or isinstance(node, ast.Import)
            and any(alias.name in modules for alias in node.names)
        ):
            found.append(node)
    return found


def imported_modules(source: str, modules: set[str]) -> set[str]:
    """Which of ``modules`` the module ``source`` imports (none when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in flat_imports(tree, modules):
        names |= {node.module} if isinstance(node, ast.ImportFrom) else {a.name for a in node.names} & modules
    return names


def dependency_order(sources: dict[str, str]) -> list[str]:
    """The module names of ``sources`` (in the assignment's order) with each after its imports;
    an import cycle is broken in the assignment's order."""
    needs = {name: imported_modules(source, set(sources)) - {name} for name, source in sources.items()}
    order: list[str] = []
    while len(order) < len(sources):
        waiting = [name for name in sources if name not in order]
        ready = [name for name in waiting if needs[name] <= set(order)]
        order.append(ready[0] if ready else waiting[0])
    return order


def replacement(node: ast.Import | ast.ImportFrom, modules: set[str]) -> str:
    """What a flat import statement becomes: the aliases it binds to other names, else ``pass``
    (which keeps a block that held only the import valid); imports of other modules in the same
    ``import`` statement are kept."""
    if isinstance(node, ast.ImportFrom):
        parts = [f"{a.asname} = {a.name}" for a in node.names if a.asname and a.asname != a.name]
    else:
        kept = [a for a in node.names if a.name not in modules]
        parts = [f"import {', '.join(a.name + (f' as {a.asname}' if a.asname else '') for a in kept)}"] if kept else []
    return "; ".join(parts) or "pass"


def without_flat_imports(source: str, modules: set[str]) -> str:
    """``source`` with its flat imports of ``modules`` taken out and ``module.name`` unqualified."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    imports = flat_imports(tree, modules)
    qualifiers = {
        a.asname or a.name for n in imports if isinstance(n, ast.Import) for a in n.names if a.name in modules
    }
    edits = [(n.lineno, n.col_offset, n.end_lineno, n.end_col_offset, replacement(n, modules)) for n in imports]
    edits += [
        (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset, n.attr)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in qualifiers
    ]
    lines = source.encode().splitlines(keepends=True)  # ast offsets count UTF-8 bytes
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = source.encode()
    for line, column, end_line, end_column, new in sorted(edits, reverse=True):
        text = text[: starts[line - 1] + column] + new.encode() + text[starts[end_line - 1] + end_column :]
    return text.decode()


def single_script(folder: Path, modules: tuple[str, ...]) -> str:
    """The modules of ``folder`` named in ``modules`` (those that exist) as one script."""
    sources = {name: (folder / f"{name}.py").read_text() for name in modules if (folder / f"{name}.py").is_file()}
    names = set(modules)
    return "\n\n".join(
        f"# ---- {name}.py\n{without_flat_imports(sources[name], names)}" for name in dependency_order(sources)
    )
