"""Similarity of a class: copies (identical, renamed) are found, independent solutions in other
styles are not, the template's code and code everyone writes do not count, a group is not
flagged against its own members, unusable code is skipped with its reason; in batch, in the
``similarity`` command, the gradebook and the report."""

import ast
import csv
import io
import itertools
import json
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import autograder.classroom
from autograder.classroom import batch, gradebook, report, similarity
from autograder.cli import cli
from autograder.suite import assignment

ROOT = Path(__file__).parent.parent.parent
STYLES = ROOT / "tests" / "fixtures" / "similarity"
INDEPENDENT = ("loops", "vectorised", "helpers")
FILES = ("optim.py", "gradcheck.py")


@pytest.fixture(scope="module")
def backprop():
    return assignment.load("backprop", ROOT)


def read(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def renamed(files: dict[str, bytes]) -> dict[str, bytes]:
    """Every local name a student would rename, renamed; comments reworded."""
    names = {
        "params": "weights",
        "grads": "gradient",
        "current": "w",
        "history": "losses",
        "epoch": "e",
        "batch_losses": "seen",
        "permutation": "order",
        "grad": "g",
        "original": "saved",
        "difference": "diff",
        "scale": "denom",
        "index": "i",
        "f_plus": "up",
        "f_minus": "down",
    }
    pattern = re.compile(rb"\b(" + b"|".join(n.encode() for n in names) + rb")\b")
    return {name: pattern.sub(lambda m: names[m[1].decode()].encode(), text) for name, text in files.items()}


@pytest.fixture(scope="module")
def template(backprop):
    return {name: (backprop.template / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def styles(backprop):
    """The reference and three independent solutions written in other styles."""
    return {"reference": read(backprop.solution), **{style: read(STYLES / style) for style in INDEPENDENT}}


def pair_scores(comparison) -> dict[frozenset, float]:
    return {frozenset((p.a, p.b)): p.similarity for p in comparison.pairs}


def test_identical_and_renamed_copies_are_flagged_as_each_others_closest(backprop, template, styles):
    submissions = {**styles, "copy": dict(styles["reference"]), "renamed": renamed(styles["reference"])}
    assert submissions["renamed"] != submissions["reference"]
    comparison = similarity.compare_class(submissions, template, backprop.similarity)
    flagged = {frozenset((p.a, p.b)) for p in comparison.flagged()}
    assert flagged == {
        frozenset(pair) for pair in [("reference", "copy"), ("reference", "renamed"), ("copy", "renamed")]
    }
    assert pair_scores(comparison)[frozenset(("copy", "reference"))] == 1.0
    assert pair_scores(comparison)[frozenset(("renamed", "reference"))] >= 0.95
    closest = comparison.closest()
    assert closest["renamed"][1] in {"reference", "copy"} and closest["copy"][1] in {"reference", "renamed"}
    for style in INDEPENDENT:
        assert closest[style][0] < backprop.similarity.threshold


def test_independent_solutions_in_different_styles_are_not_flagged(backprop, template, styles):
    comparison = similarity.compare_class(styles, template, backprop.similarity)
    assert comparison.compared == sorted(styles)
    assert comparison.flagged() == []
    assert max(pair_scores(comparison).values()) < backprop.similarity.threshold / 2


def test_a_copy_of_one_function_shows_that_function_with_the_shared_code_marked(backprop, template, styles):
    lifted = re.search(rb"def train\(.*?(?=\Z)", styles["reference"]["optim.py"], re.S)[0]
    copied = {
        **styles["loops"],
        "optim.py": re.sub(rb"def train\(.*\Z", lambda _: lifted, styles["loops"]["optim.py"], flags=re.S),
    }
    comparison = similarity.compare_class(
        {"reference": styles["reference"], "copied": copied}, template, backprop.similarity
    )
    pair = comparison.pairs[0]
    best = pair.functions[0]
    assert best.unit == "optim.py:train" and best.similarity == 1.0
    for code, spans in zip(best.code, best.spans):
        marked = "".join(code[start:end] for start, end in spans)
        assert "for idx in minibatch_indices(len(X), batch_size, seed + epoch)" in marked


def test_template_code_does_not_count(backprop, template, styles):
    """Two students who left the same stubs untouched share only the template: not similar, and
    a submission that is still the template is skipped with its reason."""
    one = {**template, "optim.py": styles["loops"]["optim.py"]}
    other = {**template, "optim.py": styles["vectorised"]["optim.py"]}
    comparison = similarity.compare_class(
        {"one": one, "other": other, "blank": dict(template)}, template, backprop.similarity
    )
    assert comparison.pairs == []
    assert "nothing to compare" in comparison.skipped["blank"]
    without_template = similarity.compare_class({"one": one, "other": other}, {}, backprop.similarity)
    assert without_template.pairs, "the template's stubs, docstrings and provided code would match otherwise"


def test_code_in_more_submissions_than_the_limit_is_everyones(backprop, template, styles):
    """A function that many students wrote alike does not make them similar; their other code
    decides. A submission whose code is all everyone's is skipped, saying so."""
    shared = re.search(rb"def sgd_step\(.*?\n(?=\n\ndef )", styles["reference"]["optim.py"], re.S)[0]
    class_ = {}
    for number, style in enumerate([*INDEPENDENT, "reference"] * 3):  # 4 styles, 3 copies each
        optim = re.sub(
            rb"def sgd_step\(.*?\n(?=\n\ndef )", lambda _: shared, styles[style]["optim.py"], count=1, flags=re.S
        )
        class_[f"{style}{number}"] = {**styles[style], "optim.py": optim}
    counted = similarity.compare_class(class_, template, replace(backprop.similarity, common_submissions=12))
    across = [p for p in counted.pairs if p.a.rstrip("0123456789") != p.b.rstrip("0123456789")]
    assert any(m.unit == "optim.py:sgd_step" for p in across for m in p.functions)
    common = similarity.compare_class(class_, template, replace(backprop.similarity, common_submissions=5))
    assert all(m.unit != "optim.py:sgd_step" for p in common.pairs for m in p.functions)
    assert {frozenset((p.a, p.b)) for p in common.flagged()} == {
        frozenset((a, b))
        for a, b in itertools.combinations(class_, 2)
        if a.rstrip("0123456789") == b.rstrip("0123456789")
    }
    everyones = similarity.compare_class(class_, template, replace(backprop.similarity, common_submissions=2))
    assert everyones.pairs == [] and set(everyones.skipped) == set(class_)
    assert "all its code is in more than 2 submissions" in everyones.skipped["loops0"]


def test_a_group_is_not_flagged_against_its_own_members(backprop, template, styles):
    submissions = {
        "group": styles["reference"],
        "member": dict(styles["reference"]),
        "stranger": dict(styles["reference"]),
    }
    people = {
        "group": [("Ada Lovelace", "0001", "ada@example.edu"), ("Bob Babbage", "0002", "bob@example.edu")],
        "member": [("Bob Babbage", "0002", "BOB@example.edu ")],
        "stranger": [("Carol Hopper", "0003", "carol@example.edu")],
    }
    comparison = similarity.compare_class(submissions, template, backprop.similarity, people=people)
    assert set(pair_scores(comparison)) == {frozenset(("group", "stranger")), frozenset(("member", "stranger"))}


def test_unusable_code_is_skipped_with_its_reason_and_the_rest_compared(backprop, template, styles):
    broken = {**styles["reference"], "gradcheck.py": b"def numerical_gradient(f, x\n"}
    submissions = {
        "reference": styles["reference"],
        "broken": broken,
        "latin": {"optim.py": b"# caf\xe9\n"},
        "empty": {},
    }
    comparison = similarity.compare_class(submissions, template, backprop.similarity, skipped={"corrupt": "not a zip"})
    assert comparison.notes["broken"] == ["gradcheck.py does not parse (line 1: '(' was never closed)"]
    assert frozenset(("broken", "reference")) in pair_scores(comparison)
    assert [m.unit.split(":")[0] for m in comparison.pairs[0].functions] == ["optim.py"] * 3
    assert comparison.skipped == {
        "corrupt": "not a zip",
        "latin": "nothing to compare: optim.py is not UTF-8 text",
        "empty": "nothing to compare: every function is the template's or too short to compare",
    }


def test_tokenising_in_several_processes_gives_the_same_pairs(backprop, template, styles):
    submissions = {f"{name}{n}": files for n in range(3) for name, files in styles.items()}
    alone = similarity.compare_class(submissions, template, backprop.similarity, jobs=1)
    shared = similarity.compare_class(submissions, template, backprop.similarity, jobs=2)
    assert similarity.as_json(alone)["closest"] == similarity.as_json(shared)["closest"]
    assert len(alone.flagged()) == 3 * 4  # each style with its two copies: 3 pairs per style


def test_bad_similarity_settings_are_refused_with_what_to_fix(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "fixtures" / "project", project)
    toml = project / "assignments" / "arith" / "assignment.toml"
    text = toml.read_text()
    toml.write_text(text + "\n[similarity]\nthreshold = 1.5\n")
    with pytest.raises(assignment.AssignmentError, match=r"\[similarity\]: threshold must be within"):
        assignment.load("arith", project)
    toml.write_text(text + "\n[similarity]\nlimit = 3\n")
    with pytest.raises(assignment.AssignmentError, match=r"\[similarity\]: .*unexpected keyword argument 'limit'"):
        assignment.load("arith", project)


# ---------------------------------------------------------------- in a batch, the command and the report


LONG_ADD = '''
def add(a, b):
    """a + b, the long way round."""
    total = 0
    for value in (a, b):
        if isinstance(value, bool):
            raise TypeError("no booleans")
        total = total + value
    return total
'''
OTHER_ADD = """
def add(a, b):
    return sum([a, b]) if not isinstance(a, str) else a + b
"""


@pytest.fixture(scope="module")
def similar_class(tmp_path_factory):
    """An arith class with a copied pair (one renamed), an independent one, a corrupt zip."""
    arith = assignment.load("arith", ROOT / "tests" / "fixtures" / "project")
    base = tmp_path_factory.mktemp("similar")
    good = {p.name: p.read_text() for p in arith.solution.glob("*.py")}
    for name, add in [
        ("ada", LONG_ADD),
        ("bob", LONG_ADD.replace("total", "acc").replace("value", "v")),
        ("carol", OTHER_ADD),
    ]:
        folder = base / "class" / name
        folder.mkdir(parents=True)
        (folder / "arith.py").write_text(good["arith.py"] + add)
        (folder / "vectors.py").write_text(good["vectors.py"])
    (base / "class" / "dan.zip").write_bytes(b"not a zip")
    out = base / "out"
    summary = batch.grade_class(arith, base / "class", out, jobs=2)
    return arith, out, summary


def test_batch_keeps_the_files_and_writes_the_similarity_and_its_gradebook_columns(similar_class):
    arith, out, summary = similar_class
    assert gradebook.read_files(out, "ada")["arith.py"].decode().endswith(LONG_ADD)
    assert gradebook.read_files(out, "dan") is None
    found = json.loads((out / gradebook.SIMILARITY).read_text())
    assert found["closest"]["ada"]["partner"] == "bob" and found["closest"]["ada"]["similarity"] >= 0.6
    assert "not a readable zip" in found["skipped"]["dan"]
    assert [(p["a"], p["b"]) for p in found["pairs"]] == [("ada", "bob")]
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((out / gradebook.GRADEBOOK).read_text()))}
    assert (
        rows["ada"]["similar_to"] == "bob" and float(rows["bob"]["similarity"]) == found["closest"]["bob"]["similarity"]
    )
    assert rows["carol"]["similar_to"] in ("", "ada", "bob") and rows["dan"]["similarity"] == ""
    assert summary["similarity"] == {"threshold": 0.6, "compared": 3, "skipped": 1, "flagged": 1}


def test_the_report_shows_the_pair_side_by_side_and_says_it_is_a_hint(similar_class):
    _, out, _ = similar_class
    page = report.write_report(out).read_text()
    section = page.split("<h2>Similar submissions</h2>", 1)[1]
    assert "a hint for a person to look at, not a verdict" in section
    assert "<h3>ada and bob:" in section
    assert re.search(r"<mark>[^<]*total = total \+ value", section) and re.search(r"<mark>[^<]*acc = acc \+ v", section)
    assert "not a readable zip" in section


def test_the_similarity_command_recomputes_on_a_graded_output(similar_class, tmp_path):
    _, out, _ = similar_class
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / gradebook.SIMILARITY).unlink()
    rows = csv.DictReader(io.StringIO(gradebook.gradebook_csv([], {}, None)))
    assert "similarity" not in (rows.fieldnames or [])
    result = CliRunner().invoke(
        cli, ["similarity", str(copy)], env={"AUTOGRADER_PROJECT": str(ROOT / "tests" / "fixtures" / "project")}
    )
    assert result.exit_code == 0, result.output
    assert "1 pair(s) at or above 0.6 among 3 submissions compared (1 skipped)" in result.output
    assert (
        json.loads((copy / gradebook.SIMILARITY).read_text())["closest"]
        == json.loads((out / gradebook.SIMILARITY).read_text())["closest"]
    )
    assert "similar_to" in (copy / gradebook.GRADEBOOK).read_text().splitlines()[0]


def test_the_similarity_command_refuses_what_is_not_a_batch_output(tmp_path):
    result = CliRunner().invoke(cli, ["similarity", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not the output of autograder batch" in result.output


def test_student_code_in_the_report_is_escaped_and_marked_as_written(similar_class, tmp_path):
    _, out, _ = similar_class
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    found = json.loads((copy / gradebook.SIMILARITY).read_text())
    hostile = "x = '</pre><script>alert(1)</script>'  # <b>"
    function = found["pairs"][0]["functions"][0]
    function["code"] = [hostile, hostile]
    function["spans"] = [[[4, 20], [10, 30]], []]  # an overlap is marked once
    (copy / gradebook.SIMILARITY).write_text(json.dumps(found))
    page = report.write_report(copy).read_text()
    assert "<script>" not in page and "<b>" not in page
    marked = "x = <mark>&#x27;&lt;/pre&gt;&lt;script&gt;a</mark><mark>lert(1)&lt;/s</mark>cript&gt;&#x27;  # &lt;b&gt;"
    assert f"<pre>{marked}</pre></td><td><pre>{marked.replace('<mark>', '').replace('</mark>', '')}</pre>" in page


def test_without_copydetect_the_similarity_is_left_out_and_the_command_says_how_to_install_it(
    similar_class, tmp_path, monkeypatch
):
    arith, out, _ = similar_class
    monkeypatch.setitem(sys.modules, "copydetect", None)  # import copydetect raises ImportError
    monkeypatch.delitem(sys.modules, "autograder.classroom.similarity")
    monkeypatch.delattr(autograder.classroom, "similarity")
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    env = {"AUTOGRADER_PROJECT": str(ROOT / "tests" / "fixtures" / "project")}
    result = CliRunner().invoke(cli, ["similarity", str(copy)], env=env)
    assert result.exit_code == 2
    assert "install it with: pip install copydetect" in result.output
    records = [gradebook.read_record(copy, i) for i in ("ada", "bob", "carol", "dan")]
    assert batch.compare_if_installed(copy, records, arith, 1) is False
    assert not (copy / gradebook.SIMILARITY).exists()
    assert gradebook.rewrite(copy)["similarity"] is None
    assert "similar_to" not in (copy / gradebook.GRADEBOOK).read_text().splitlines()[0]


ODD_SOURCES = {
    "crlf": 'def f(x):\r\n    return x  # é\r\n\r\nclass C:\r\n    def m(self):\r\n        return \'ü\' + """a\r\nb"""\r\n',
    "cr": "def f(x):\r    return (x +\r        1)\r",
    "form feed": "x = 1\n\x0c\ndef f():\n    return '\x0c'  \n",
    "no final newline": "def f():\n    return {'ключ': [1,\n  2]}",
    "tabs": "class C:\n\tdef m(self):\n\t\treturn 1\n",
}


@pytest.mark.parametrize("name", [*ODD_SOURCES, "the assignment's own files"])
def test_source_segments_are_those_of_the_standard_library(name):
    """Every node of the odd sources; every statement of the assignment's files (each node of
    theirs would take the standard function a minute)."""
    if name in ODD_SOURCES:
        sources, kinds = [ODD_SOURCES[name]], ast.AST
    else:
        folders = [ROOT / "solutions" / "backprop", ROOT / "assignments" / "backprop" / "mutants"]
        sources, kinds = [path.read_text() for folder in folders for path in sorted(folder.glob("*.py"))], ast.stmt
    for source in sources:
        segments = similarity.SourceSegments(source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, kinds):
                assert segments.of(node) == (ast.get_source_segment(source, node) or "")
