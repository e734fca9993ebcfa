"""Stub generation from solution markers: ``autograder.grading.stubs``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.grading.stubs import (
    MarkerError,
    generate_template,
    make_stub,
    solution_functions,
    template_differences,
)

ACTIVATIONS = '''\
"""Activations and their derivatives."""

import numpy as np

_SCALE = 2.0


def sigmoid(x):
    """Logistic function.

    Args:
        x: array of any shape.
    """
    x = np.asarray(x)
    # BEGIN SOLUTION
    out = 1.0 / (1.0 + np.exp(-x))
    return out
    # END SOLUTION


def double(x):
    """A provided helper."""
    return _SCALE * x


def relu(x):
    """Rectifier."""
    # BEGIN SOLUTION
    return np.maximum(x, 0.0)
    # END SOLUTION


ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu}
'''

ACTIVATIONS_STUB = '''\
"""Activations and their derivatives."""

import numpy as np

_SCALE = 2.0


def sigmoid(x):
    """Logistic function.

    Args:
        x: array of any shape.
    """
    x = np.asarray(x)
    raise NotImplementedError("sigmoid (activations.py) is not implemented yet")


def double(x):
    """A provided helper."""
    return _SCALE * x


def relu(x):
    """Rectifier."""
    raise NotImplementedError("relu (activations.py) is not implemented yet")


ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu}
'''


def dedent(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def stub_error(source: str, filename: str = "mod.py") -> str:
    """The MarkerError message of ``make_stub`` on ``source``."""
    with pytest.raises(MarkerError) as caught:
        make_stub(dedent(source), filename)
    return str(caught.value)


# --- make_stub ----------------------------------------------------------------------------------


def test_stub_replaces_each_region_and_keeps_everything_else_byte_for_byte():
    assert make_stub(ACTIVATIONS, "activations.py") == ACTIVATIONS_STUB


def test_stub_line_takes_the_indentation_of_its_begin_marker():
    source = dedent(
        """
        class Layer:
            def forward(self, x):
                if x:
                    # BEGIN SOLUTION
                    return 1
                    # END SOLUTION
                return 0
        """
    )
    stub = make_stub(source, "layer.py")
    assert stub.splitlines()[3] == (
        '            raise NotImplementedError("Layer.forward (layer.py) is not implemented yet")'
    )
    assert stub.splitlines()[4] == "        return 0"


def test_stub_runs_and_raises_naming_function_and_file():
    namespace: dict = {}
    exec(compile(make_stub(ACTIVATIONS, "activations.py"), "activations.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^relu \(activations\.py\) is not implemented yet$"):
        namespace["relu"](1.0)
    assert namespace["double"](3.0) == 6.0
    assert namespace["ACTIVATIONS"]["relu"] is namespace["relu"]


def test_source_without_regions_is_its_own_stub():
    source = '"""Provided data."""\n\nSIZE = 3\n\n\ndef load():\n    return SIZE\n'
    assert make_stub(source, "data.py") == source
    assert solution_functions(source, "data.py") == []


def test_markers_inside_strings_are_text_not_markers():
    source = dedent(
        '''
        def f():
            """Example:

            # BEGIN SOLUTION
            """
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        '''
    )
    stub = make_stub(source, "f.py")
    assert '    # BEGIN SOLUTION\n    """\n' in stub
    assert "return 1" not in stub


def test_empty_region_becomes_a_stub_line():
    source = 'def f():\n    """Doc."""\n    # BEGIN SOLUTION\n    # END SOLUTION\n'
    assert make_stub(source, "f.py") == (
        'def f():\n    """Doc."""\n    raise NotImplementedError("f (f.py) is not implemented yet")\n'
    )


def test_line_endings_and_a_missing_final_newline_are_kept():
    source = "def f():\r\n    # BEGIN SOLUTION\r\n    return 1\r\n    # END SOLUTION"
    assert make_stub(source, "f.py") == ('def f():\r\n    raise NotImplementedError("f (f.py) is not implemented yet")')


def test_tab_indentation_is_kept():
    source = "def f():\n\t# BEGIN SOLUTION\n\treturn 1\n\t# END SOLUTION\n"
    assert make_stub(source, "f.py").splitlines()[1].startswith("\traise NotImplementedError(")


def test_quotes_in_file_name_give_a_valid_literal():
    source = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    namespace: dict = {}
    exec(make_stub(source, 'odd"name\\.py'), namespace)
    with pytest.raises(NotImplementedError, match=r'^f \(odd"name\\\.py\) is not implemented yet$'):
        namespace["f"]()


# --- solution_functions -----------------------------------------------------------------------


def test_solution_functions_in_file_order():
    assert solution_functions(ACTIVATIONS, "activations.py") == ["sigmoid", "relu"]


def test_several_regions_in_one_function_name_it_once():
    source = dedent(
        """
        def train(x):
            # BEGIN SOLUTION
            x = x + 1
            # END SOLUTION
            y = x
            # BEGIN SOLUTION
            return y
            # END SOLUTION
        """
    )
    assert solution_functions(source, "optim.py") == ["train"]
    stub = make_stub(source, "optim.py")
    assert stub.count('raise NotImplementedError("train (optim.py) is not implemented yet")') == 2
    assert "    y = x\n" in stub


def test_methods_nested_functions_and_async_functions_are_named():
    source = dedent(
        """
        class Model:
            class Part:
                def run(self):
                    # BEGIN SOLUTION
                    pass
                    # END SOLUTION

            def fit(self):
                # BEGIN SOLUTION
                pass
                # END SOLUTION


        def outer():
            def inner():
                # BEGIN SOLUTION
                pass
                # END SOLUTION

            # BEGIN SOLUTION
            return inner
            # END SOLUTION


        async def fetch():
            # BEGIN SOLUTION
            pass
            # END SOLUTION
        """
    )
    assert solution_functions(source, "m.py") == [
        "Model.Part.run",
        "Model.fit",
        "outer.inner",
        "outer",
        "fetch",
    ]
    stub = make_stub(source, "m.py")
    assert '        raise NotImplementedError("outer.inner (m.py) is not implemented yet")' in stub
    assert '    raise NotImplementedError("outer (m.py) is not implemented yet")\n\n\nasync' in stub


def test_region_in_a_decorated_function_with_multiline_signature():
    source = dedent(
        """
        import functools


        @functools.lru_cache
        def table(
            n,
            # not a marker: the signature is not the body
            m=2,
        ):
            # BEGIN SOLUTION
            return n * m
            # END SOLUTION
        """
    )
    assert solution_functions(source, "t.py") == ["table"]


# --- malformed markers --------------------------------------------------------------------------


def test_marker_error_is_a_value_error_with_file_and_line():
    with pytest.raises(ValueError) as caught:
        make_stub("def f():\n    return 1\n    # END SOLUTION\n", "activations.py")
    assert isinstance(caught.value, MarkerError)
    assert (caught.value.filename, caught.value.line) == ("activations.py", 3)
    assert str(caught.value) == "activations.py:3: END SOLUTION without a matching BEGIN SOLUTION"


@pytest.mark.parametrize(
    "source, expected",
    [
        pytest.param(
            """
            def f():
                return 1
                # END SOLUTION
            """,
            "mod.py:3: END SOLUTION without a matching BEGIN SOLUTION",
            id="stray-end",
        ),
        pytest.param(
            """
            def f():
                x = 1
                # BEGIN SOLUTION
                return x
            """,
            "mod.py:3: BEGIN SOLUTION without a matching END SOLUTION",
            id="unclosed-begin",
        ),
        pytest.param(
            """
            def f():
                # BEGIN SOLUTION
                x = 1
                # BEGIN SOLUTION
                return x
                # END SOLUTION
            """,
            "mod.py:4: BEGIN SOLUTION inside the region opened at line 2 (regions cannot be nested)",
            id="nested-begin",
        ),
        pytest.param(
            """
            def f():
                # BEGIN SOLUTION
                return 1
              # END SOLUTION
            """,
            "mod.py:4: END SOLUTION is indented differently from its BEGIN SOLUTION at line 2",
            id="end-indentation",
        ),
        pytest.param(
            """
            import math

            # BEGIN SOLUTION
            X = math.pi
            # END SOLUTION
            """,
            "mod.py:3: solution region is not inside a function body",
            id="module-level",
        ),
        pytest.param(
            """
            class A:
                # BEGIN SOLUTION
                x = 1
                # END SOLUTION
            """,
            "mod.py:2: solution region is not inside a function body",
            id="class-body",
        ),
        pytest.param(
            """
            def make():
                class A:
                    # BEGIN SOLUTION
                    x = 1
                    # END SOLUTION

                return A
            """,
            "mod.py:3: solution region is not inside a function body",
            id="class-body-inside-a-function",
        ),
        pytest.param(
            """
            def f():
                return 1
            # BEGIN SOLUTION
            # END SOLUTION
            """,
            "mod.py:3: solution region is not inside a function body",
            id="after-function-body",
        ),
    ],
)
def test_malformed_markers(source, expected):
    assert stub_error(source) == expected


def test_syntax_error_in_the_source_names_its_line():
    message = stub_error(
        """
        def f():
            # BEGIN SOLUTION
            return (1
            # END SOLUTION


        def g():
            pass
        """
    )
    assert message.startswith("mod.py:3: syntax error: ")


@pytest.mark.parametrize(
    "source, line, reason",
    [
        pytest.param(
            """
            def f(x):
                for i in x:
                # BEGIN SOLUTION
                    pass
                # END SOLUTION
            """,
            3,
            "expected an indented block",
            id="region-holds-a-block-body",
        ),
        pytest.param(
            """
            def outer():
                # BEGIN SOLUTION
                x = 1
                # END SOLUTION

                def inner():
                    nonlocal x
                    return x

                return inner
            """,
            7,
            "no binding for nonlocal 'x' found",
            id="stub-breaks-a-nonlocal",
        ),
    ],
)
def test_stub_that_does_not_compile_names_the_source_line(source, line, reason):
    message = stub_error(source)
    assert message.startswith(f"mod.py:{line}: the generated stub does not compile: ")
    assert reason in message


@pytest.mark.parametrize(
    "marker_line",
    ["#BEGIN SOLUTION", "# begin solution", "# BEGIN SOLUTION.", "# END  SOLUTION", "x = 1  # END SOLUTION"],
)
def test_near_miss_markers_are_errors_not_left_in_place(marker_line):
    message = stub_error(f"def f():\n    {marker_line}\n    return 1\n")
    assert message.startswith("mod.py:2: ")
    assert "looks like a solution marker" in message


def test_solution_functions_checks_markers_too():
    with pytest.raises(MarkerError, match=r"^layers\.py:2: BEGIN SOLUTION without"):
        solution_functions("def f():\n    # BEGIN SOLUTION\n    return 1\n", "layers.py")


# --- generate_template and template_differences ----------------------------------------------


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    folder = tmp_path / "solutions" / "demo"
    folder.mkdir(parents=True)
    (folder / "activations.py").write_text(ACTIVATIONS)
    (folder / "optim.py").write_text("def step(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n")
    (folder / "notes.txt").write_text("not a module\n")
    (folder / "helpers").mkdir()
    (folder / "helpers" / "deep.py").write_text("X = 1\n")
    return folder


def test_generate_template_writes_one_stub_per_module(solution, tmp_path):
    template = tmp_path / "student_template" / "demo"
    written = generate_template(solution, template)
    assert written == [template / "activations.py", template / "optim.py"]
    assert sorted(p.name for p in template.iterdir()) == ["activations.py", "optim.py"]
    assert (template / "activations.py").read_bytes() == ACTIVATIONS_STUB.encode()
    assert template_differences(solution, template) == []


def test_generate_template_removes_stale_entries_but_keeps_bytecode_cache(solution, tmp_path):
    template = tmp_path / "template"
    (template / "old_folder").mkdir(parents=True)
    (template / "old_folder" / "x.py").write_text("")
    (template / "removed_module.py").write_text("def gone(): pass\n")
    (template / "optim.py").write_text("stale\n")
    (template / "__pycache__").mkdir()
    (template / "__pycache__" / "optim.cpython-311.pyc").write_bytes(b"\0")
    generate_template(solution, template)
    assert sorted(p.name for p in template.iterdir()) == ["__pycache__", "activations.py", "optim.py"]
    assert (template / "__pycache__" / "optim.cpython-311.pyc").exists()
    assert template_differences(solution, template) == []


def test_generate_template_is_deterministic_with_unix_line_endings(solution, tmp_path):
    (solution / "optim.py").write_bytes(
        b"def step(x):\r\n    # BEGIN SOLUTION\r\n    return x\r\n    # END SOLUTION\r\n"
    )
    first, second = tmp_path / "first", tmp_path / "second"
    generate_template(solution, first)
    generate_template(solution, second)
    for name in ("activations.py", "optim.py"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "optim.py").read_bytes() == (
        b'def step(x):\n    raise NotImplementedError("step (optim.py) is not implemented yet")\n'
    )
    before = (first / "optim.py").read_bytes()
    generate_template(solution, first)
    assert (first / "optim.py").read_bytes() == before


def test_generate_template_leaves_the_template_untouched_on_marker_errors(solution, tmp_path):
    template = tmp_path / "template"
    generate_template(solution, template)
    (template / "extra.py").write_text("kept\n")
    (solution / "optim.py").write_text("def step(x):\n    # BEGIN SOLUTION\n    return x\n")
    with pytest.raises(MarkerError, match=r"^optim\.py:2: "):
        generate_template(solution, template)
    assert (template / "extra.py").read_text() == "kept\n"
    assert "raise NotImplementedError" in (template / "optim.py").read_text()


@pytest.mark.parametrize("target", ["same", "parent"])
def test_generate_template_refuses_to_delete_the_solution(solution, target):
    template = solution if target == "same" else solution.parent
    with pytest.raises(ValueError, match="would delete the solution"):
        generate_template(solution, template)
    assert (solution / "activations.py").read_text() == ACTIVATIONS


def test_generate_template_needs_python_files(tmp_path):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "absent"):
        with pytest.raises(FileNotFoundError, match="no \\*.py files"):
            generate_template(folder, tmp_path / "template")
        with pytest.raises(FileNotFoundError, match="no \\*.py files"):
            template_differences(folder, tmp_path / "template")
    assert not (tmp_path / "template").exists()


def test_template_differences_reports_missing_extra_and_different_files(solution, tmp_path):
    template = tmp_path / "template"
    generate_template(solution, template)
    (template / "activations.py").unlink()
    (template / "optim.py").write_text("def step(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n")
    (template / "leftover.py").write_text("")
    (template / "__pycache__").mkdir()
    differences = template_differences(solution, template)
    assert differences == [
        f"activations.py: missing from {template}",
        f"leftover.py: extra in {template}, not generated from {solution}",
        f"optim.py: differs from the stub of {solution / 'optim.py'} from line 2 on",
    ]


def test_template_differences_sees_a_truncated_file_and_a_folder_in_place_of_a_file(solution, tmp_path):
    template = tmp_path / "template"
    generate_template(solution, template)
    stub_lines = (template / "activations.py").read_text().splitlines(keepends=True)
    (template / "activations.py").write_text("".join(stub_lines[:5]))
    (template / "optim.py").unlink()
    (template / "optim.py").mkdir()
    assert template_differences(solution, template) == [
        f"activations.py: differs from the stub of {solution / 'activations.py'} from line 6 on",
        f"optim.py: not a regular file in {template}",
    ]


def test_template_differences_of_a_missing_template_lists_every_module(solution, tmp_path):
    template = tmp_path / "nowhere"
    assert template_differences(solution, template) == [
        f"activations.py: missing from {template}",
        f"optim.py: missing from {template}",
    ]


def test_template_differences_sees_a_single_changed_byte(solution, tmp_path):
    template = tmp_path / "template"
    generate_template(solution, template)
    path = template / "optim.py"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n", 1))
    assert template_differences(solution, template) == [
        f"optim.py: differs from the stub of {solution / 'optim.py'} from line 1 on"
    ]
