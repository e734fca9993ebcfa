"""Variants: overrides of reference functions, applied by AST line ranges."""

import textwrap

import pytest

from autograder.authoring.variants import Variant, VariantError, apply, discover, materialise, read_overrides

SOLUTION = textwrap.dedent('''\
    """Module doc."""

    import numpy as np


    def f(x):
        """Doc of f."""
        return x + 1


    @staticmethod
    def g(x):
        return x * 2


    def h(x):
        return f(x) - 1
''')


def overrides(tmp_path, text, name="mod.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_read_and_apply_a_two_function_variant(tmp_path):
    path = overrides(
        tmp_path,
        '''\
        """Bugs of mod."""
        import math


        def f__off_by_two(x):
            """f adds two."""
            return x + 2


        def h__off_by_two(x):
            return math.floor(x)
    ''',
    )
    [variant] = read_overrides(path)
    assert variant.id == "mod.off_by_two" and variant.description == "f adds two."
    patched = apply(SOLUTION, variant, "mod.py")
    namespace = {}
    exec(compile(patched, "mod.py", "exec"), namespace)
    assert namespace["f"](1) == 3 and namespace["h"](2.5) == 2 and namespace["g"](2) == 4
    assert "import numpy as np\nimport math\n" in patched
    assert '"""Module doc."""' in patched


def test_several_variants_in_one_file_are_separate(tmp_path):
    path = overrides(
        tmp_path,
        '''\
        def f__a(x):
            """a"""
            return 0


        def f__b(x):
            """b"""
            return 1
    ''',
    )
    assert [v.name for v in read_overrides(path)] == ["a", "b"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x = 1\n", "only imports and functions"),
        ("def f__a(x):\n    return 0\n", "needs a docstring"),
        ("def f__a(x:\n", "mod.py:1"),
    ],
)
def test_malformed_override_files(tmp_path, text, message):
    with pytest.raises(VariantError, match=message):
        read_overrides(overrides(tmp_path, text))


def test_unknown_function_is_an_error():
    variant = Variant(module="mod", name="x", description="d", functions={"nope": "def nope():\n    pass\n"})
    with pytest.raises(VariantError, match="replaces nope, not defined in mod.py"):
        apply(SOLUTION, variant, "mod.py")


def test_materialise_copies_the_whole_solution(tmp_path):
    solution = tmp_path / "solution"
    solution.mkdir()
    (solution / "mod.py").write_text(SOLUTION)
    (solution / "other.py").write_text("Y = 1\n")
    folder = tmp_path / "mutants"
    folder.mkdir()
    overrides(folder, 'def f__zero(x):\n    """zero"""\n    return 0\n')
    [variant] = discover(folder)
    materialise(solution, variant, tmp_path / "out")
    assert (tmp_path / "out" / "other.py").read_text() == "Y = 1\n"
    assert "return 0" in (tmp_path / "out" / "mod.py").read_text()
    assert discover(tmp_path / "missing") == []
