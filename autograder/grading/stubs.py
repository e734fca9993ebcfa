"""Student stubs generated from reference solutions that carry solution markers.

A *solution region* is a run of lines inside a function body, opened by a comment line whose
text is exactly ``# BEGIN SOLUTION`` and closed by a comment line ``# END SOLUTION`` at the same
indentation. The *stub* of a source file is that file with every region, markers included,
replaced by a single line at the indentation of its BEGIN marker::

    raise NotImplementedError("sigmoid (activations.py) is not implemented yet")

Every other line (module docstring, imports, signatures, docstrings, provided helpers, code
before and after a region) is kept byte for byte. The student template of an assignment is the
folder holding the stub of every ``*.py`` file of its solution folder, and nothing else.
"""

from __future__ import annotations

import ast
import io
import json
import shutil
import tokenize
from dataclasses import dataclass
from pathlib import Path

BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"
BYTECODE_CACHE = "__pycache__"
"""The one entry of a template folder that the generator neither writes nor removes."""


class MarkerError(ValueError):
    """The solution markers of a source file cannot be turned into a stub.

    The message reads ``FILE:LINE: problem``, LINE being a line of the solution source.
    """

    def __init__(self, filename: str, line: int, problem: str) -> None:
        super().__init__(f"{filename}:{line}: {problem}")
        self.filename = filename
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class _Region:
    """One solution region: the lines of its two markers (1-based) and their indentation."""

    begin: int
    end: int
    indent: str


@dataclass(frozen=True)
class _Stub:
    """Stub source text, and for each of its lines the 1-based source line it stands for."""

    text: str
    origin: tuple[int, ...]


@dataclass(frozen=True)
class _MarkedSource:
    """A solution source split into lines, with its regions and the function holding each."""

    filename: str
    lines: tuple[str, ...]
    regions: tuple[_Region, ...]
    functions: tuple[str, ...]


def make_stub(source: str, filename: str) -> str:
    """The stub of ``source``: each solution region replaced by a ``NotImplementedError`` line.

    ``filename`` is the file's name as shown to students and in errors. Raises ``MarkerError``
    when the source does not compile or its markers are malformed.
    """
    marked = _read_markers(source, filename)
    messages = [f"{name} ({filename}) is not implemented yet" for name in marked.functions]
    stub = _replace_regions(marked.lines, marked.regions, messages)
    _compile(stub, filename, "the generated stub does not compile")
    return stub.text


def solution_functions(source: str, filename: str) -> list[str]:
    """Names of the functions that hold a solution region, in file order, each once.

    A method is named ``Class.method``, a nested function ``outer.inner``.
    """
    return list(dict.fromkeys(_read_markers(source, filename).functions))


def solution_lines(source: str, filename: str) -> list[str]:
    """The lines inside the solution regions (markers excluded), in file order: what a stub
    must never contain."""
    marked = _read_markers(source, filename)
    return [line for region in marked.regions for line in marked.lines[region.begin : region.end - 1]]


def generate_template(solution_dir: Path, template_dir: Path) -> list[Path]:
    """Write the stub of every ``*.py`` file of ``solution_dir`` (not recursive) to ``template_dir``.

    ``template_dir`` is created if needed, and every other entry in it except ``__pycache__`` is
    removed, so that it holds exactly the generated stubs. All stubs are made before anything is
    written, so a ``MarkerError`` leaves the template untouched. Files are UTF-8 with ``\\n`` line
    endings, the same bytes for the same solution. Returns the written paths, sorted.
    """
    if template_dir.resolve() in (solution_dir.resolve(), *solution_dir.resolve().parents):
        raise ValueError(
            f"the template folder {template_dir} would hold the solution folder {solution_dir}; "
            "generating it would delete the solution"
        )
    stubs = _template_stubs(solution_dir)
    template_dir.mkdir(parents=True, exist_ok=True)
    for entry in template_dir.iterdir():
        if entry.name not in stubs and entry.name != BYTECODE_CACHE:
            _remove(entry)
    written = []
    for name, text in stubs.items():
        path = template_dir / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def template_differences(solution_dir: Path, template_dir: Path) -> list[str]:
    """How ``template_dir`` differs from what ``generate_template`` would write there.

    One readable line per file that is missing, extra or different; empty when in sync.
    """
    expected = _template_stubs(solution_dir)
    present = {}
    if template_dir.is_dir():
        present = {e.name: e for e in template_dir.iterdir() if e.name != BYTECODE_CACHE}
    differences = []
    for name in sorted(expected.keys() | present.keys()):
        if name not in present:
            differences.append(f"{name}: missing from {template_dir}")
        elif name not in expected:
            differences.append(f"{name}: extra in {template_dir}, not generated from {solution_dir}")
        elif not present[name].is_file():
            differences.append(f"{name}: not a regular file in {template_dir}")
        else:
            line = _first_different_line(expected[name], present[name].read_bytes())
            if line is not None:
                differences.append(f"{name}: differs from the stub of {solution_dir / name} from line {line} on")
    return differences


def _template_stubs(solution_dir: Path) -> dict[str, str]:
    """File name -> stub text for every ``*.py`` file of ``solution_dir``, sorted by name."""
    sources = sorted(p for p in solution_dir.glob("*.py") if p.is_file())
    if not sources:
        raise FileNotFoundError(f"no *.py files in the solution folder {solution_dir}")
    return {p.name: make_stub(p.read_text(encoding="utf-8"), p.name) for p in sources}


def _remove(entry: Path) -> None:
    """Delete a file, a link or a whole folder."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()


def _first_different_line(expected: str, actual: bytes) -> int | None:
    """The first 1-based line where ``actual`` differs from ``expected``; None when identical."""
    if actual == expected.encode("utf-8"):
        return None
    wanted = expected.splitlines(keepends=True)
    found = actual.decode("utf-8", errors="replace").splitlines(keepends=True)
    for number, (want, got) in enumerate(zip(wanted, found), start=1):
        if want != got:
            return number
    return min(len(wanted), len(found)) + 1


def _read_markers(source: str, filename: str) -> _MarkedSource:
    """Check ``source`` and find its regions and the function that holds each of them.

    The function of a region is found in a stub whose regions hold a bare ``raise``: the
    innermost function containing that statement, which sits on the BEGIN marker's line.
    """
    _compile(_Stub(source, ()), filename, "syntax error")
    lines = tuple(io.StringIO(source, newline="").readlines())
    regions = _pair_markers(_marker_comments(source, filename), filename)
    probe = _replace_regions(lines, regions, [""] * len(regions))
    owners = _raise_owners(_compile(probe, filename, "the generated stub does not compile"))
    functions = []
    for region in regions:
        owner = owners.get(probe.origin.index(region.begin) + 1)
        if owner is None:
            raise MarkerError(filename, region.begin, "solution region is not inside a function body")
        functions.append(owner)
    return _MarkedSource(filename, lines, regions, tuple(functions))


def _marker_comments(source: str, filename: str) -> list[tuple[int, str, str]]:
    """``(line, marker, indentation)`` of every marker comment, in order.

    Only real comments count (not text inside strings). A comment that looks like a marker but
    is not one, such as ``#BEGIN SOLUTION`` or a marker after code, is an error: left in place
    it would hand the solution to students.
    """
    markers = []
    for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
        if token.type != tokenize.COMMENT:
            continue
        line, column = token.start
        if token.line.strip() in (BEGIN_MARKER, END_MARKER):
            markers.append((line, token.string, token.line[:column]))
        elif "".join(token.string.upper().split()).startswith(("#BEGINSOLUTION", "#ENDSOLUTION")):
            raise MarkerError(
                filename,
                line,
                f"{token.string!r} looks like a solution marker; a marker is a line holding "
                f"exactly {BEGIN_MARKER!r} or {END_MARKER!r}",
            )
    return markers


def _pair_markers(markers: list[tuple[int, str, str]], filename: str) -> tuple[_Region, ...]:
    """Match each BEGIN marker with the END marker that follows it."""
    regions = []
    opened: tuple[int, str] | None = None
    for line, marker, indent in markers:
        if marker == BEGIN_MARKER:
            if opened is not None:
                raise MarkerError(
                    filename,
                    line,
                    f"BEGIN SOLUTION inside the region opened at line {opened[0]} (regions cannot be nested)",
                )
            opened = (line, indent)
        elif opened is None:
            raise MarkerError(filename, line, "END SOLUTION without a matching BEGIN SOLUTION")
        elif indent != opened[1]:
            raise MarkerError(
                filename,
                line,
                f"END SOLUTION is indented differently from its BEGIN SOLUTION at line {opened[0]}",
            )
        else:
            regions.append(_Region(opened[0], line, indent))
            opened = None
    if opened is not None:
        raise MarkerError(filename, opened[0], "BEGIN SOLUTION without a matching END SOLUTION")
    return tuple(regions)


def _replace_regions(source_lines: tuple[str, ...], regions: tuple[_Region, ...], messages: list[str]) -> _Stub:
    """The source with region ``i`` replaced by a line raising ``NotImplementedError(messages[i])``."""
    lines: list[str] = []
    origin: list[int] = []
    kept_from = 1
    for region, message in zip(regions, messages):
        lines.extend(source_lines[kept_from - 1 : region.begin - 1])
        origin.extend(range(kept_from, region.begin))
        end_line = source_lines[region.end - 1]
        ending = end_line[len(end_line.rstrip("\r\n")) :]
        # A JSON string is also a valid double-quoted Python string literal.
        literal = json.dumps(message, ensure_ascii=False)
        lines.append(f"{region.indent}raise NotImplementedError({literal}){ending}")
        origin.append(region.begin)
        kept_from = region.end + 1
    lines.extend(source_lines[kept_from - 1 :])
    origin.extend(range(kept_from, len(source_lines) + 1))
    return _Stub("".join(lines), tuple(origin))


def _compile(stub: _Stub, filename: str, problem: str) -> ast.Module:
    """Parse and compile ``stub.text``; a ``SyntaxError`` becomes a ``MarkerError`` naming the
    source line (through ``stub.origin`` when given)."""
    try:
        tree = ast.parse(stub.text, filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except SyntaxError as err:
        line = err.lineno or 1
        if stub.origin:
            line = stub.origin[min(line, len(stub.origin)) - 1]
        raise MarkerError(filename, line, f"{problem}: {err.msg}") from None
    return tree


def _raise_owners(tree: ast.Module) -> dict[int, str]:
    """Line of every ``raise`` statement inside a function -> dotted name of the innermost one."""
    owners: dict[int, str] = {}

    def visit(node: ast.AST, scope: tuple[str, ...], function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Raise) and function is not None:
                owners[child.lineno] = function
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = (*scope, child.name)
                visit(child, inner, ".".join(inner))
            elif isinstance(child, ast.ClassDef):
                visit(child, (*scope, child.name), None)
            else:
                visit(child, scope, function)

    visit(tree, (), None)
    return owners
