"""The engine's subpackages import one way: suite <- sandbox <- grading <- classroom, authoring,
integrations and console <- cli. Nothing of ``autograder.suite`` (what a handout ships) imports any
other part of the engine, even lazily inside a function."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
LAYERS = {
    "autograder": 0,
    "suite": 0,
    "sandbox": 1,
    "grading": 2,
    "classroom": 3,
    "authoring": 3,
    "integrations": 3,
    "console": 3,
    "cli": 4,
    "__main__": 4,
}
"""The layer of each part of the engine; a module may import its own layer and those below."""


def part_of(module: str) -> str:
    """``autograder.grading.pipeline`` -> ``grading``; ``autograder`` -> ``autograder``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def engine_imports(path: Path) -> set[str]:
    """The engine modules a file imports, anywhere in it (``from autograder.x import y`` counts
    ``autograder.x.y`` when ``y`` is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "autograder"}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "autograder"
        ):
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if PACKAGE.parent.joinpath(*f"{node.module}.{alias.name}".split(".")).with_suffix(".py").exists()
            }
    return found


def module_of(path: Path) -> str:
    """``autograder/grading/pipeline.py`` -> ``autograder.grading.pipeline``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("autograder", *(parts[:-1] if parts[-1] == "__init__" else parts)))


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_one_way(path):
    here = part_of(module_of(path))
    above = sorted(m for m in engine_imports(path) if LAYERS[part_of(m)] > LAYERS[here])
    assert above == [], f"{path.relative_to(PACKAGE)} imports what is built on it"


def test_the_student_side_imports_only_itself():
    outside = {
        (path.name, module)
        for path in (PACKAGE / "suite").rglob("*.py")
        for module in engine_imports(path)
        if module != "autograder" and not module.startswith("autograder.suite")
    }
    assert outside == set()


def test_every_part_has_a_layer():
    assert {part_of(module_of(path)) for path in MODULES} <= set(LAYERS)


def test_the_command_line_loads_only_what_grading_one_submission_needs():
    """``autograder grade`` starts by importing the CLI: the authoring, classroom and integration
    machinery (verify, build, batch, report, Gradescope) is imported by the commands that use it."""
    code = "import sys, autograder.cli; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "autograder.grading.pipeline" in loaded
    assert [
        name
        for name in loaded
        if name.startswith(("autograder.authoring", "autograder.classroom", "autograder.integrations"))
    ] == []
