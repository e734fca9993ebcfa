"""The Gradescope autograder in Gradescope's layout: `<root>/{source,submission,results}`, the
submission metadata, `run_autograder` run as root, `results.json` checked against the schema.

Most tests reuse this project's environment as `<root>/venv`; one runs the real `setup.sh`."""

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import jsonschema
import pytest

from autograder.authoring import build
from autograder.authoring.archive import folder_files
from autograder.grading import intake, pipeline, results_model, stubs
from autograder.integrations import gradescope
from autograder.suite import assignment

FIXTURE = Path(__file__).parents[1] / "fixtures" / "project"
PROJECT = Path(__file__).parents[2]
SCHEMA = json.loads(results_model.SCHEMA.read_text())
FULL = 14.0
ADD_POINTS = 4.0
AS_ROOT = os.geteuid() == 0
WITHOUT_MOUNT_NAMESPACES = ["setpriv", "--bounding-set", "-sys_admin", "--"]

pytestmark = pytest.mark.skipif(not AS_ROOT, reason="Gradescope runs the autograder as root; so must these tests")


@pytest.fixture(scope="module")
def arith():
    return assignment.load("arith", FIXTURE)


@pytest.fixture(scope="module")
def arith_zip(arith, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    gradescope.autograder_archive(arith).write(path)
    return path


def gradescope_root(autograder_zip: Path) -> Path:
    """A moved ``/autograder``: the zip unpacked into ``source`` and ``run_autograder`` copied to
    the root as Gradescope does. Made in /tmp, which the sandbox user can pass through."""
    root = Path(tempfile.mkdtemp(prefix="autograder-root-", dir="/tmp"))
    root.chmod(0o755)
    gradescope.unpack(autograder_zip, gradescope.Layout(root))
    return root


@pytest.fixture
def root(arith_zip, public_install):
    """A Gradescope root whose venv is this project's environment (a copy every user can reach)."""
    folder = gradescope_root(arith_zip)
    (folder / "venv").symlink_to(public_install.parent.parent)
    yield folder
    shutil.rmtree(folder)


def write_metadata(root: Path, submission_id=123456) -> None:
    (root / "submission_metadata.json").write_text(json.dumps({"id": submission_id, "users": [{"email": "s@x.edu"}]}))


def run_autograder(root: Path, *prefix: str) -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    env[gradescope.ROOT_ENV] = str(root)
    done = subprocess.run(
        [*prefix, str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    written = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(written, SCHEMA, cls=jsonschema.Draft202012Validator)
    return done, written


def test_reference_gets_full_marks_seeded_by_the_submission_id(arith, root):
    for path in arith.solution.glob("*.py"):
        shutil.copy(path, root / "submission")
    write_metadata(root, 987654)
    done, written = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert written["score"] == FULL and all(t["status"] == "passed" for t in written["tests"])
    assert written["extra_data"]["seed"] == 987654 and "seed 987654" in written["output"]
    assert "score 14 / 14" in done.stdout  # the table, for the instructor's stdout
    for private in (root / "source", root / "results", root / "submission_metadata.json"):
        assert stat.S_IMODE(private.stat().st_mode) & 0o007 == 0, private


def test_blank_template_gets_zero(arith, root):
    stubs.generate_template(arith.solution, root / "submission")
    write_metadata(root)
    done, written = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert written["score"] == 0 and len(written["tests"]) == 6
    assert all("not implemented" in t["output"] for t in written["tests"])


def test_a_zip_unpacked_with_a_folder_inside_is_graded(arith, root):
    inner = root / "submission" / "arith-main"
    inner.mkdir()
    for path in arith.solution.glob("*.py"):
        shutil.copy(path, inner)
    (root / "submission" / "__MACOSX").mkdir()
    (root / "submission" / "__MACOSX" / "._arith.py").write_bytes(b"\0\5junk")
    write_metadata(root)
    done, written = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert written["score"] == FULL


ATTACK = """
def add(a, b):
    import os
    root = {root!r}
    reached = []
    secrets = [root + "/source/solutions/arith/arith.py",
               root + "/source/assignments/arith/tests/hidden/test_hidden.py",
               root + "/submission_metadata.json"]
    for path in secrets:
        try:
            with open(path) as f:
                if f.read():
                    reached.append(path)
        except OSError:
            pass
    try:
        reached += os.listdir(root + "/source")
    except OSError:
        pass
    for name in ("results.json", "planted"):
        try:
            with open(root + "/results/" + name, "w") as f:
                f.write('{{"score": 999.0, "tests": []}}')
            reached.append(name)
        except OSError:
            pass
    if reached:
        return a + b
    raise PermissionError("the grader's files were out of reach")
"""


@pytest.mark.parametrize(
    "prefix",
    [(), WITHOUT_MOUNT_NAMESPACES],
    ids=["hidden by a mount namespace", "hidden by permissions only, as in Gradescope's Docker"],
)
def test_a_submission_cannot_read_the_grader_files_or_write_the_results(arith, root, prefix):
    if prefix and shutil.which(prefix[0]) is None:
        pytest.skip(f"{prefix[0]} is not installed")
    for path in arith.solution.glob("*.py"):
        shutil.copy(path, root / "submission")
    with (root / "submission" / "arith.py").open("a") as stream:
        stream.write(ATTACK.format(root=str(root)))
    write_metadata(root)
    done, written = run_autograder(root, *prefix)
    assert done.returncode == 0, done.stdout + done.stderr
    assert written["score"] == FULL - ADD_POINTS
    add_tests = [t for t in written["tests"] if t["name"].startswith("add:")]
    assert add_tests and all("out of reach" in t["output"] and t["score"] == 0 for t in add_tests)
    assert not (root / "results" / "planted").exists()


@pytest.mark.parametrize(
    "content, why",
    [
        (None, "No such file"),
        ("{not json", "JSONDecodeError"),
        ("[1, 2]", "no usable submission id"),
        ('{"users": []}', "no usable submission id (None)"),
        ('{"id": -3}', "no usable submission id"),
        ('{"id": true}', "no usable submission id"),
        ('{"id": "12ab"}', "no usable submission id"),
        ('{"id": 1e30}', "no usable submission id"),
    ],
)
def test_unusable_metadata_falls_back_to_a_seed_from_the_files(tmp_path, content, why):
    metadata = tmp_path / "submission_metadata.json"
    if content is not None:
        metadata.write_text(content)
    seed, origin = gradescope.submission_seed(metadata)
    assert seed is None
    assert why in origin and "derived from the submitted files" in origin


@pytest.mark.parametrize("submission_id", [4242, "4242"])
def test_the_seed_is_the_submission_id(tmp_path, submission_id):
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"id": submission_id}))
    assert gradescope.submission_seed(metadata)[0] == 4242


def test_missing_metadata_grades_with_the_seed_of_the_files(arith, root):
    for path in arith.solution.glob("*.py"):
        shutil.copy(path, root / "submission")
    done, written = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert written["score"] == FULL
    expected = pipeline.default_seed(intake.collect(root / "submission", arith))
    assert written["extra_data"]["seed"] == expected and "derived from the submitted files" in done.stdout


def test_a_grader_that_cannot_load_the_assignment_still_writes_results(root):
    shutil.rmtree(root / "source" / "assignments")
    write_metadata(root)
    done, written = run_autograder(root)
    assert done.returncode == 1
    assert written["score"] == 0 and written["tests"] == []
    assert "could not grade this submission" in written["output"] and "AssignmentError" in written["output"]


def test_an_engine_that_cannot_start_still_leaves_valid_results(root):
    (root / "venv").unlink()
    write_metadata(root)
    done, written = run_autograder(root)
    assert done.returncode != 0
    assert written["score"] == 0 and "could not start" in written["output"]


@pytest.mark.slow
def test_setup_sh_installs_an_environment_that_grades_backprop(tmp_path):
    """The real setup.sh (pinned packages from the package index, the engine from the zip) into
    `<root>/venv`, then the reference solution of backprop graded with it."""
    backprop = assignment.load("backprop", PROJECT)
    composed = build.archives(backprop).grader
    composed.write(tmp_path / "autograder.zip")
    root = gradescope_root(tmp_path / "autograder.zip")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
        env[gradescope.ROOT_ENV] = str(root)
        setup = subprocess.run(
            ["bash", str(root / "source" / "setup.sh")],
            cwd=root / "source",
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        assert sorted(os.listdir(root)) == ["results", "run_autograder", "source", "submission", "venv"]
        assert folder_files(root / "source") == composed.files  # setup.sh changed nothing it unpacked
        python = root / "venv" / "bin" / "python"
        where = subprocess.run(
            [python, "-I", "-c", "import autograder; print(autograder.__file__)"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert where.stdout.startswith(str(root / "venv"))

        for name in backprop.files:
            shutil.copy(backprop.solution / name, root / "submission")
        write_metadata(root, 31337)
        done, written = run_autograder(root)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert written["score"] == sum(t["max_score"] for t in written["tests"]) > 0
        assert written["extra_data"]["seed"] == 31337
    finally:
        shutil.rmtree(root)


def bubblewrap_command(root: Path) -> list[str]:
    """bwrap arguments for a new root holding the host's top-level folders (read-only), /tmp,
    and ``root`` mounted at the real ``/autograder``."""
    command = ["bwrap", "--die-with-parent"]
    for entry in sorted(Path("/").iterdir()):
        if entry.name in ("proc", "dev", "sys", "tmp", "autograder"):
            continue
        if entry.is_symlink():
            command += ["--symlink", os.readlink(entry), str(entry)]
        elif entry.is_dir():
            command += ["--ro-bind", str(entry), str(entry)]
    return [
        *command,
        "--bind",
        "/tmp",
        "/tmp",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(root),
        "/autograder",
        "--chdir",
        "/autograder",
        "--unsetenv",
        gradescope.ROOT_ENV,
    ]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (apt-get install bubblewrap)")
def test_in_a_real_autograder_folder_under_bubblewrap(arith, root):
    """The default root, /autograder itself (no AUTOGRADER_ROOT), with the attack aimed at it."""
    for path in arith.solution.glob("*.py"):
        shutil.copy(path, root / "submission")
    with (root / "submission" / "arith.py").open("a") as stream:
        stream.write(ATTACK.format(root="/autograder"))
    write_metadata(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [*bubblewrap_command(root), "/autograder/run_autograder"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(written, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert written["score"] == FULL - ADD_POINTS and "seed 123456" in written["output"]
    assert not (root / "results" / "planted").exists()
