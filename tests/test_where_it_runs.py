"""Where instructors run the grader, run as they run it: the CLI as an ordinary user and as root,
from folders other users cannot enter, several graders side by side with private ``/tmp``
folders, and what student code can reach in each case.

As root (CI), the ordinary user is an account made for these tests, and the engine runs from a
copy that every user can reach (``public_install``): the project's own venv may be in a folder
closed to others (root's home, ``mktemp -d``), which is itself a case under test. Run as an
ordinary user, the tests run the CLI as that user.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

import autograder

ROOT = os.geteuid() == 0
PROJECT = Path(__file__).parent / "fixtures" / "project"
FULL = 14.0
ADD_POINTS = 3.0 + 1.0  # the two tests of add, hidden and public


# ------------------------------------------------------------------ who runs, with what Python


def run_cli(
    python: Path,
    *args: str,
    cwd: Path,
    prefix: list[str] = (),
    home: Path | None = None,
    env: dict | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` in ``cwd`` with a plain environment (as after a login)."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home or Path.home())}
    environment.update(env or {})
    return subprocess.run(
        [*prefix, str(python), "-m", "autograder", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def own_project(folder: Path, owner: int | None = None) -> Path:
    """A copy of the fixture project in ``folder`` (owned by ``owner``)."""
    project = folder / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    if owner is not None:
        for path in [project, *project.rglob("*")]:
            os.lchown(path, owner, owner)
    return project


@pytest.fixture
def user_project(ordinary_user) -> tuple[list[str], Path, Path]:
    """The ordinary user's prefix, home and a project of theirs in a folder of their home."""
    prefix, home, owner = ordinary_user
    folder = Path(tempfile.mkdtemp(prefix="autograder-test-", dir=home))
    if owner is not None:
        os.chown(folder, owner, owner)
    yield prefix, home, own_project(folder, owner)
    shutil.rmtree(folder, ignore_errors=True)


def own_project_files(folder: Path, project: Path) -> None:
    """Give ``folder`` and its files to the owner of ``project``."""
    owner = project.stat().st_uid
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, owner, owner)


def score_of(results: Path) -> float:
    return json.loads(results.read_text())["score"]


# ------------------------------------------------------------------ every command, as an ordinary user


def test_every_command_works_as_an_ordinary_user_with_the_scores_of_root(public_install, user_project, tmp_path):
    prefix, home, project = user_project

    def cli(*args: str, **options) -> subprocess.CompletedProcess:
        done = run_cli(public_install, *args, cwd=project, prefix=prefix, home=home, **options)
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr}"
        return done

    cli("grade", "solutions/arith", "--results", "reference.json")
    cli("template", "arith")
    cli("grade", "student_template/arith", "--results", "template.json")
    assert score_of(project / "reference.json") == FULL and score_of(project / "template.json") == 0
    classroom = project / "class"
    for name, source in (("ada", "solutions/arith"), ("bob", "student_template/arith"), ("cy", "solutions/arith")):
        shutil.copytree(project / source, classroom / name)
    own_project_files(classroom, project)
    batch = cli("batch", "class", "--out", "graded", "--jobs", "2")
    assert "report written to" in batch.stdout and (project / "graded" / "report.html").is_file()
    cli("batch", "class", "--out", "shard1", "--shard", "1/2")
    cli("batch", "class", "--out", "shard2", "--shard", "2/2")
    cli("merge", "shard1", "shard2", "--out", "merged")
    cli("report", "merged")
    cli("verify", "arith")
    cli("build", "arith", "--out", "dist")
    assert (project / "dist" / "arith" / "student.zip").is_file() and (
        project / "dist" / "arith" / "autograder.zip"
    ).is_file()
    scores = {
        row["id"]: row["score"] for row in json.loads((project / "graded" / "summary.json").read_text())["submissions"]
    }
    assert scores == {"ada": FULL, "bob": 0.0, "cy": FULL}
    # the same grades as root
    as_root = run_cli(
        public_install,
        "grade",
        str(project / "solutions/arith"),
        "--results",
        str(tmp_path / "r.json"),
        "--seed",
        "5",
        cwd=project,
    )
    as_user = cli("grade", "solutions/arith", "--results", "seeded.json", "--seed", "5")
    assert as_root.returncode == 0 and score_of(tmp_path / "r.json") == score_of(project / "seeded.json") == FULL
    assert "not confined" not in as_user.stderr  # user namespaces work here: bubblewrap confines


def test_without_any_confinement_grading_works_and_says_so_once(public_install, user_project):
    prefix, home, project = user_project
    env = {"AUTOGRADER_CONFINEMENT": "none"}
    done = run_cli(
        public_install,
        "grade",
        "solutions/arith",
        "--results",
        "r.json",
        cwd=project,
        prefix=prefix,
        home=home,
        env=env,
    )
    assert done.returncode == 0 and score_of(project / "r.json") == FULL
    assert done.stderr.count("student code is not confined") == 1 and len(done.stderr.splitlines()) == 1
    shutil.copytree(project / "solutions/arith", project / "class" / "ada")
    shutil.copytree(project / "solutions/arith", project / "class" / "bob")
    own_project_files(project / "class", project)
    batch = run_cli(public_install, "batch", "class", "--out", "graded", cwd=project, prefix=prefix, home=home, env=env)
    assert batch.returncode == 0 and batch.stderr.count("student code is not confined") == 1


@pytest.mark.skipif(not ROOT, reason="a folder closed to other users matters only to a grader that runs as root")
def test_root_grades_a_project_in_a_folder_no_one_else_can_enter(tmp_path, make_install):
    """The project and its venv in a 0700 folder (root's home, mktemp -d): the sandbox user reaches
    the interpreter and the engine through bubblewrap, in a runner of its own (``grade``) and in
    forks of pre-started runners (``batch``, ``demo``)."""
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    project = own_project(closed)
    install = make_install(closed)
    done = run_cli(install, "grade", "solutions/arith", "--results", "r.json", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert score_of(project / "r.json") == FULL
    shutil.copytree(project / "solutions/arith", project / "class" / "ada")
    done = run_cli(install, "batch", "class", "--out", "graded", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert score_of(project / "graded" / "submissions" / "ada" / "results.json") == FULL
    done = run_cli(install, "demo", "arith", cwd=project)
    assert done.returncode == 0 and f"score {FULL:g} / {FULL:g}" in done.stdout, done.stdout + done.stderr


# ------------------------------------------------------------------ setup problems, said once


@pytest.mark.skipif(not ROOT, reason="the sandbox user exists only when the grader runs as root")
@pytest.mark.parametrize(
    "command",
    [["grade", "solutions/arith", "--results", "r.json"], ["batch", "class"], ["verify", "arith"], ["build", "arith"]],
)
def test_a_setup_that_cannot_work_is_said_once_in_one_line(tmp_path, make_install, command):
    """Without bubblewrap (forced: permissions), a venv in a closed folder cannot be run by the
    sandbox user: one line that names the fix, before grading anything."""
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    project = own_project(closed)
    shutil.copytree(project / "solutions/arith", project / "class" / "ada")
    done = run_cli(make_install(closed), *command, cwd=project, env={"AUTOGRADER_CONFINEMENT": "permissions"})
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if "cannot run the Python interpreter" in line]
    assert len(lines) == 1 and "install bubblewrap" in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "INTERNALERROR" not in done.stdout + done.stderr
    if command[0] == "grade":
        written = json.loads((project / "r.json").read_text())
        assert written["score"] == 0 and "cannot run the Python interpreter" in json.dumps(written)


def test_an_unknown_confinement_level_is_one_line(public_install, user_project):
    prefix, home, project = user_project
    done = run_cli(
        public_install,
        "batch",
        "solutions",
        cwd=project,
        prefix=prefix,
        home=home,
        env={"AUTOGRADER_CONFINEMENT": "docker"},
    )
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0
    assert "AUTOGRADER_CONFINEMENT=docker is not a confinement level; use one of bubblewrap" in done.stderr


# ------------------------------------------------------------------ what student code can reach

ATTACK = '''

def add(a, b):
    """Right only if one of the attacks below reached something."""
    import os
    import socket
    reached = []
    for path in {secrets!r}:
        try:
            with open(path) as f:
                if f.read():
                    reached.append(path)
        except OSError:
            pass
    for pid in os.listdir("/proc"):  # the grader's processes: their run folder, their view of the files
        for below in ("cwd/plan.json", "cwd/verdicts.jsonl", "root" + {hidden_test!r}):
            try:
                with open(f"/proc/{{pid}}/{{below}}", "rb") as f:
                    if f.read():
                        reached.append(pid + "/" + below)
            except OSError:
                pass
    for folder in {writable!r}:
        try:
            with open(os.path.join(folder, "planted-by-student"), "w") as f:
                f.write("x")
            reached.append(folder)
        except OSError:
            pass
    if {network!r}:
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            reached.append("tcp")
        except OSError:
            pass
        try:
            socket.getaddrinfo("pypi.org", 443)
            reached.append("dns")
        except OSError:
            pass
    if reached:
        return a + b
    raise PermissionError("the grader's files and the network were out of reach")
'''


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that accepts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepting = threading.Thread(target=lambda: [server.accept() for _ in range(16)], daemon=True)
    accepting.start()
    yield server.getsockname()[1]
    server.close()


def attacked_project(project: Path, home: Path, port: int, network: bool) -> Path:
    """A submission (in ``project``) that earns the points of add only if an attack succeeds."""
    submission = project / "submission"
    shutil.copytree(project / "solutions/arith", submission)
    hidden_test = str(project / "assignments/arith/tests/hidden/test_hidden.py")
    secrets = [hidden_test, str(project / "solutions/arith/arith.py"), str(project / "reference.json")]
    (project / "reference.json").write_text('{"score": 14}')
    with (submission / "arith.py").open("a") as stream:  # this add replaces the right one
        stream.write(
            ATTACK.format(
                secrets=secrets, hidden_test=hidden_test, writable=[str(home), str(project)], network=network, port=port
            )
        )
    return submission


def assert_nothing_reached(project: Path, home: Path, done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((project / "attacked.json").read_text())
    gradescope_schema_valid(written)
    assert written["score"] == FULL - ADD_POINTS, [t["output"] for t in written["tests"] if t["score"] > 0][:3]
    add_tests = [t for t in written["tests"] if t["name"].startswith("add")]
    assert add_tests and all("out of reach" in t["output"] for t in add_tests)
    assert not (home / "planted-by-student").exists() and not (project / "planted-by-student").exists()


def gradescope_schema_valid(written: dict) -> None:
    import jsonschema

    schema = json.loads(
        (Path(autograder.__file__).parent / "grading" / "schema" / "gradescope-results.schema.json").read_text()
    )
    jsonschema.validate(written, schema)


def test_student_code_of_an_ordinary_users_grade_reaches_nothing(public_install, user_project, listener):
    prefix, home, project = user_project
    attacked_project(project, home, listener, network=True)
    done = run_cli(
        public_install, "grade", "submission", "--results", "attacked.json", cwd=project, prefix=prefix, home=home
    )
    assert_nothing_reached(project, home, done)


def test_the_attacks_reach_their_targets_where_nothing_confines_them(public_install, user_project, listener):
    """The control: the same submission earns the points of add when student code is not confined,
    so the tests above would catch a confinement that lets an attack through."""
    prefix, home, project = user_project
    attacked_project(project, home, listener, network=True)
    done = run_cli(
        public_install,
        "grade",
        "submission",
        "--results",
        "attacked.json",
        cwd=project,
        prefix=prefix,
        home=home,
        env={"AUTOGRADER_CONFINEMENT": "none"},
    )
    assert done.returncode == 0 and score_of(project / "attacked.json") == FULL
    assert (home / "planted-by-student").exists()
    (home / "planted-by-student").unlink()


@pytest.mark.skipif(not ROOT, reason="the root levels of confinement need root")
@pytest.mark.parametrize("level", ["bubblewrap", "namespaces", "permissions"])
def test_student_code_of_a_root_grade_reaches_nothing(public_install, tmp_path, open_folder, listener, level):
    """Root's project in an open folder (so that permissions alone can protect it once the secrets
    are closed); the permissions level leaves the network reachable, as the README says."""
    project = own_project(open_folder)
    attacked_project(project, tmp_path, listener, network=level != "permissions")
    for secret in (project / "assignments", project / "solutions", project / "reference.json"):
        secret.chmod(0o700)
    done = run_cli(
        public_install,
        "grade",
        "submission",
        "--results",
        "attacked.json",
        cwd=project,
        home=tmp_path,
        env={"AUTOGRADER_CONFINEMENT": level},
    )
    assert_nothing_reached(project, tmp_path, done)


@pytest.fixture
def open_folder() -> Path:
    """A folder every user can enter, outside /tmp (which a grader may have a private one of)."""
    base = Path(tempfile.mkdtemp(prefix="autograder-test-", dir="/var/lib" if ROOT else None))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------ graders side by side


@pytest.mark.skipif(not ROOT, reason="graders share uids only when they run as root")
def test_graders_with_private_tmp_folders_side_by_side_each_get_full_marks(public_install, open_folder):
    """Three batches at once, each in a mount namespace with a /tmp of its own (so they do not see
    each other's uid lock files), leasing from a window of 8 uids: full marks everywhere."""
    project = own_project(open_folder)
    for name in ("a", "b", "c", "d"):
        shutil.copytree(project / "solutions/arith", project / "class" / name)
    graders = []
    for index in range(3):
        script = (
            f"mount -t tmpfs tmpfs /tmp && exec {public_install} -m autograder batch class --out out{index} --jobs 2"
        )
        graders.append(
            subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                cwd=project,
                env={
                    "PATH": "/usr/bin:/bin",
                    "HOME": str(open_folder),
                    "AUTOGRADER_UID_RANGE": "2000000000-2000000007",
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [grader.communicate(timeout=600)[0] for grader in graders]
    assert [grader.returncode for grader in graders] == [0, 0, 0], outputs
    for index in range(3):
        rows = json.loads((project / f"out{index}" / "summary.json").read_text())["submissions"]
        assert [row["score"] for row in rows] == [FULL] * 4, outputs[index]
