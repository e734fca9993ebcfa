"""Notebook submissions: the assignment's modules rebuilt from the functions a student wrote in a
Jupyter notebook (nbformat v4) instead of the ``.py`` files.

The notebook is never run: this happens in the trusted grading process. Its code cells are
compiled (IPython syntax such as ``%matplotlib inline``, ``!pip install ...`` or ``name?`` is first
replaced by ``pass`` on the lines Python rejects; a cell that still does not compile is skipped and
reported), and of their top-level statements only these are taken:

- the ``def`` of every *contract function*: the functions holding a solution region in the
  assignment's reference solution (``stubs.solution_functions``), so nothing is hard-coded. As
  when the notebook runs top to bottom, the last definition of a name wins.
- what the taken code uses by name, when the notebook binds that name at the top level: import
  statements, helper functions and classes, and assignments (constants); and in turn what those
  use. Exploring or plotting code that no contract function uses is never taken, nor are
  ``from x import *``, relative and ``__future__`` imports. A cell opened by a cell magic other
  than ``%%time``, ``%%timeit``, ``%%capture`` or ``%%prun`` holds no Python and is skipped.

Cells are numbered from 1 at the top of the notebook, markdown cells included; lines from 1 at
the top of their cell.

Each module is its student stub (``stubs.make_stub`` of the solution, i.e. the student template,
which keeps provided code such as a registry) with the found definitions in place of their stubs,
and the imports and helpers they need added after its own imports, in notebook order. Names the
stub itself binds are never taken from the notebook. A contract function of another module that is
used by name is imported from that module (``from layers import affine_forward``), unless the
two modules would then import each other. A contract function the notebook does not define keeps
its ``NotImplementedError`` stub, so exactly its tests fail.
"""

from __future__ import annotations

import ast
import json
import re
import symtable
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat is imported when a notebook is read, not by every grading run
    import nbformat

from autograder.grading import source_edit, stubs
from autograder.suite.assignment import Assignment

MAX_NOTEBOOK_BYTES = 32 << 20
"""Notebooks carry their outputs (plots as images), so they may be much larger than a module."""
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
"""Cell magics whose body is Python code run in the notebook's namespace."""
IPYTHON_LINE = re.compile(
    r"""^\s*(
        [%!]                        # a line magic or a shell command
      | [\w.]+\s*=\s*[%!]           # name = %magic, name = !command
      | \?                          # ?name
      | [\w.]+\s*\?\??\s*$          # name?, name??
    )""",
    re.VERBOSE,
)
MAX_REASON_CHARS = 160


class NotebookError(ValueError):
    """The file is not a usable Jupyter notebook; the one-line message says why."""


@dataclass(frozen=True)
class Statement:
    """A top-level statement of a notebook cell that may be taken into a module."""

    cell: int
    """Position of its cell in the notebook, 1-based, markdown cells included."""
    line: int
    """Line of the statement in its cell, 1-based (the ``def`` line of a function)."""
    text: str
    binds: tuple[str, ...]
    uses: frozenset[str]
    """Global names the statement reads, at the top level or inside its functions."""
    defines: bool
    """A ``def`` or ``class`` statement."""
    imported_module: str | None = None
    """The top-level module an import statement imports, else None."""


@dataclass
class NotebookCode:
    """What the code cells of a notebook bind at the top level, and the cells that were not read."""

    statements: list[Statement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per code cell that was not read, and why."""

    def last_binding(self) -> dict[str, Statement]:
        """Name -> the last statement binding it, as after running the notebook top to bottom."""
        return {name: statement for statement in self.statements for name in statement.binds}

    def last_definition(self) -> dict[str, Statement]:
        """Name -> the last ``def`` or ``class`` statement of that name."""
        return {s.binds[0]: s for s in self.statements if s.defines}


@dataclass
class NotebookSubmission:
    """The modules rebuilt from a notebook, and how they were found."""

    files: dict[str, bytes] = field(default_factory=dict)
    """Module file name -> source."""
    found: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    """Module file name -> contract function -> (cell, line) of the definition taken."""
    not_found: dict[str, list[str]] = field(default_factory=dict)
    """Module file name -> contract functions the notebook does not define."""
    skipped_cells: list[str] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)
    """One line per name a module uses but cannot import without an import cycle."""

    def notes(self, label: str) -> list[str]:
        """Student-facing lines (Markdown) saying what was taken from the notebook ``label``."""
        lines = [f"Graded the functions defined in the notebook `{label}` (the notebook itself was not run)."]
        for filename, found in self.found.items():
            where = ", ".join(f"`{name}` (cell {cell}, line {line})" for name, (cell, line) in found.items())
            missing = ", ".join(f"`{name}`" for name in self.not_found[filename])
            if not found and not missing:  # a module without functions to write
                continue
            if not found:
                lines.append(f"`{filename}`: none of its functions was found ({missing}); their tests fail.")
            elif missing:
                lines.append(f"`{filename}`: found {where}; not found, so their tests fail: {missing}.")
            else:
                lines.append(f"`{filename}`: found {where}.")
        return lines + self.skipped_cells + self.not_imported


def read_notebook(content: bytes) -> nbformat.NotebookNode:
    """The validated nbformat v4 notebook in ``content``; ``NotebookError`` when it is not one."""
    import nbformat

    if len(content) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the notebook is larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise NotebookError(f"not a Jupyter notebook: the file is not valid JSON ({err})") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookError("not a Jupyter notebook: the JSON has no 'nbformat' version")
    if data["nbformat"] != 4:
        raise NotebookError(
            f"the notebook is in format version {data['nbformat']!r}; open it in Jupyter and save it (version 4)"
        )
    if not isinstance(data.get("nbformat_minor", 0), int):
        raise NotebookError("not a valid Jupyter notebook: top level: 'nbformat_minor' is not a whole number")
    notebook = nbformat.from_dict(data)
    problem = validation_problem(notebook)
    if problem:
        raise NotebookError(f"not a valid Jupyter notebook: {problem}")
    return notebook


def validation_problem(notebook: nbformat.NotebookNode) -> str | None:
    """Why ``nbformat.validate`` rejects the notebook (where and what), or None when it is valid."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids, which validate repairs
            nbformat.validate(notebook)
        return None
    except nbformat.ValidationError as err:
        error = err
    except (KeyError, TypeError, AttributeError, IndexError):
        # validate's repairs stumble on a structure this broken; the schema alone says why
        try:
            error = next(nbformat.validator.iter_validate(notebook), None)
        except (KeyError, TypeError, AttributeError, IndexError):
            error = None
        if error is None:
            return "its structure is not that of a notebook"
    path = list(error.absolute_path)
    where = f"cell {path[1] + 1}" if len(path) > 1 and path[0] == "cells" else "/".join(map(str, path))
    reason = "it matches none of the allowed forms" if error.validator == "oneOf" else error.message
    return f"{where or 'top level'}: {clip(reason)}"


def clip(text: str) -> str:
    """``text`` on one line, at most ``MAX_REASON_CHARS`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def compile_cell(source: str, label: str) -> tuple[str, ast.Module]:
    """The cell's code with IPython syntax neutralised, and its syntax tree.

    Only lines Python rejects are touched, so text inside strings is never changed. Raises
    ``SyntaxError`` (or ``ValueError``) when the cell is not Python even so.
    """
    lines = source.splitlines(keepends=True)
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split()[0] if lines[0][2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            raise ValueError(f"a %%{magic} cell holds no Python code")
    for _ in range(len(lines) + 1):
        text = "".join(lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. invalid escape sequences: the grader's log is no place for them
                compile(text, label, "exec", dont_inherit=True)
                return text, ast.parse(text, label)
        except SyntaxError as err:
            index = (err.lineno or 0) - 1
            if not 0 <= index < len(lines) or not IPYTHON_LINE.match(lines[index]):
                raise
            line = lines[index]
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = line[: len(line) - len(line.lstrip())] + "pass" + ending
    raise SyntaxError("too many IPython lines", (label, 1, 0, ""))


def names_used(text: str) -> frozenset[str]:
    """Global names that the top-level statement ``text`` reads, at the top level or inside its
    functions, classes, lambdas and comprehensions (a function's own locals are not included)."""
    table = symtable.symtable(text, "<cell>", "exec")
    used = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced()}
    pending = list(table.get_children())
    while pending:
        scope = pending.pop()
        used |= {
            s.get_name() for s in scope.get_symbols() if s.is_global() and (s.is_referenced() or s.is_declared_global())
        }
        pending.extend(scope.get_children())
    return frozenset(used)


def assigned_names(target: ast.expr) -> list[str] | None:
    """The names an assignment target binds, or None when it binds something else (``a[0]``, ``a.b``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return assigned_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [assigned_names(element) for element in target.elts]
        return None if None in names else [name for group in names for name in group]
    return None


def import_statements(node: ast.Import | ast.ImportFrom, cell: int) -> list[Statement]:
    """One statement per name an import binds (``import a, b`` gives two), so that only the names
    used are taken. Relative, ``__future__`` and ``*`` imports are never taken."""
    if isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__"):
        return []
    statements = []
    for alias in node.names:
        if alias.name == "*":
            continue
        if isinstance(node, ast.ImportFrom):
            single, module = ast.ImportFrom(node.module, [alias], 0), node.module
        else:
            single, module = ast.Import([alias]), alias.name
        bound = alias.asname or alias.name.split(".")[0]
        text = ast.unparse(single) + "\n"
        statements.append(Statement(cell, node.lineno, text, (bound,), frozenset(), False, module.split(".")[0]))
    return statements


def top_level_statements(tree: ast.Module, text: str, cell: int) -> list[Statement]:
    """The statements of one compiled cell that may be taken: imports, function and class
    definitions, and assignments to names."""
    lines = text.splitlines(keepends=True)
    taken = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            taken.extend(import_statements(node, cell))
        elif isinstance(node, source_edit.DEFINITIONS):
            statement = "".join(lines[source_edit.first_line(node) - 1 : node.end_lineno])
            taken.append(Statement(cell, node.lineno, statement, (node.name,), names_used(statement), True))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [assigned_names(target) for target in targets]
            if None in names:
                continue
            statement = ast.get_source_segment(text, node) + "\n"
            binds = tuple(dict.fromkeys(name for group in names for name in group))
            taken.append(Statement(cell, node.lineno, statement, binds, names_used(statement), False))
    return taken


def notebook_code(notebook: nbformat.NotebookNode) -> NotebookCode:
    """The statements that may be taken from the notebook's code cells, in notebook order."""
    code = NotebookCode()
    for number, cell in enumerate(notebook.cells, start=1):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type != "code" or not source.strip():
            continue
        try:
            text, tree = compile_cell(source, f"cell {number}")
        except SyntaxError as err:
            where = f"line {err.lineno}: " if err.lineno else ""
            code.skipped.append(f"Cell {number} was not read: {where}{type(err).__name__}: {clip(err.msg)}.")
            continue
        except (ValueError, MemoryError, RecursionError) as err:
            code.skipped.append(f"Cell {number} was not read: {clip(str(err))}.")
            continue
        code.statements.extend(top_level_statements(tree, text, number))
    return code


@dataclass(frozen=True)
class ModuleContract:
    """One module of the assignment as a notebook can provide it."""

    filename: str
    stub: str
    functions: tuple[str, ...]
    """Top-level names of its contract functions (``Class`` for a method ``Class.method``)."""
    bound: frozenset[str]
    """Every name the stub binds at the top level."""
    imports: frozenset[str]
    """The assignment's modules that the stub imports at the top level."""


def module_contracts(assignment: Assignment) -> dict[str, ModuleContract]:
    """Module name -> its contract, for each submitted ``.py`` file that has a reference solution."""
    contracts = {}
    for filename in assignment.files:
        path = assignment.solution / filename
        if not filename.endswith(".py") or not path.is_file():
            continue
        solution = path.read_text(encoding="utf-8")
        stub = stubs.make_stub(solution, filename)
        functions = tuple(dict.fromkeys(n.split(".")[0] for n in stubs.solution_functions(solution, filename)))
        statements = top_level_statements(ast.parse(stub, filename), stub, 0)
        contracts[filename[:-3]] = ModuleContract(
            filename=filename,
            stub=stub,
            functions=functions,
            bound=frozenset(name for s in statements for name in s.binds),
            imports=frozenset(s.imported_module for s in statements if s.imported_module in assignment.modules),
        )
    return contracts


class ImportGraph:
    """Which of the assignment's modules import which at the top level, so that no import added
    to a rebuilt module closes a cycle (a cycle of top-level imports fails at import time)."""

    def __init__(self, contracts: dict[str, ModuleContract]) -> None:
        self.edges = {module: set(contract.imports) for module, contract in contracts.items()}

    def reaches(self, start: str, goal: str) -> bool:
        seen, pending = set(), [start]
        while pending:
            module = pending.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                pending.extend(self.edges.get(module, ()))
        return False

    def link(self, importer: str, imported: str) -> bool:
        """Record that ``importer`` imports ``imported``; False (and nothing recorded) if that would
        close a cycle. A module importing itself is harmless."""
        if importer != imported:
            if self.reaches(imported, importer):
                return False
            self.edges.setdefault(importer, set()).add(imported)
        return True


def rebuild_module(
    module: str,
    contracts: dict[str, ModuleContract],
    code: NotebookCode,
    graph: ImportGraph,
    result: NotebookSubmission,
) -> None:
    """Rebuild one module from the notebook into ``result``."""
    contract = contracts[module]
    definitions = code.last_definition()
    bindings = code.last_binding()
    owners = {name: other for other, c in contracts.items() if other != module for name in c.functions}
    replacements: dict[str, str] = {}
    found = result.found.setdefault(contract.filename, {})
    pending: list[str] = []
    for name in contract.functions:
        if name in definitions:
            replacements[name] = definitions[name].text
            found[name] = (definitions[name].cell, definitions[name].line)
            pending.extend(sorted(definitions[name].uses))
    result.not_found[contract.filename] = [name for name in contract.functions if name not in found]
    cross_imports: dict[str, list[str]] = {}
    taken: set[Statement] = set()
    seen: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in seen or name in contract.bound:
            continue
        seen.add(name)
        statement = bindings.get(name)
        imported = owners.get(name) or (statement.imported_module if statement else None)
        if imported in contracts and not graph.link(module, imported):
            result.not_imported.append(
                f"`{contract.filename}` uses `{name}` but cannot import it from `{imported}.py`: "
                "the files would then import each other in a circle."
            )
        elif name in owners:
            cross_imports.setdefault(owners[name], []).append(name)
        elif statement is not None:
            taken.add(statement)
            pending.extend(sorted(statement.uses))
    in_order = sorted(taken, key=lambda s: (s.cell, s.line, s.binds))
    added = "".join(f"from {other} import {', '.join(names)}\n" for other, names in cross_imports.items())
    added += "".join(s.text for s in in_order if s.imported_module is not None)
    added += "".join(f"\n\n{s.text.rstrip()}\n" for s in in_order if s.imported_module is None)
    source = source_edit.replace_definitions(contract.stub, contract.filename, replacements, added)
    result.files[contract.filename] = source.encode("utf-8")


def extract(content: bytes, assignment: Assignment) -> NotebookSubmission:
    """The assignment's modules rebuilt from the notebook in ``content``.

    Raises ``NotebookError`` when ``content`` is not a valid nbformat v4 notebook.
    """
    code = notebook_code(read_notebook(content))
    contracts = module_contracts(assignment)
    graph = ImportGraph(contracts)
    result = NotebookSubmission(skipped_cells=code.skipped)
    for module in contracts:
        rebuild_module(module, contracts, code, graph, result)
    return result
