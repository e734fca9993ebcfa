"""The handout runs its public tests on Linux, macOS and Windows, and ships only the student side.

The handout is installed from its own ``requirements.txt`` into a fresh virtual environment; its
``pytest`` then runs three times: as is, and with what macOS and Windows lack made unavailable
(by a ``sitecustomize`` module on ``PYTHONPATH``, so nothing of the handout is changed): on
macOS, libc has no ``unshare`` and ``os`` no ``pidfd_open``; on Windows, ``fcntl``, ``resource``,
``pwd``, ``grp`` and ``termios`` cannot be imported, ``os`` has no ``fork``, ``pidfd_open``,
``readv`` or ``writev``, and ``ctypes.CDLL(None)`` fails.
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from autograder.authoring import handout
from autograder.grading import pipeline
from autograder.suite import assignment

ROOT = Path(__file__).resolve().parents[2]
BACKPROP = assignment.load("backprop", ROOT)
LINUX_ONLY_MODULES = ("fcntl", "resource", "pwd", "grp", "termios")

SIMULATION = textwrap.dedent('''
    """Makes this interpreter look like SIMULATED_PLATFORM's (macos or windows) to the code it runs."""
    import ctypes
    import os
    import sys

    platform = os.environ["SIMULATED_PLATFORM"]
    missing_modules = {"fcntl", "resource", "pwd", "grp", "termios"} if platform == "windows" else set()
    missing_os = {"windows": ("fork", "pidfd_open", "readv", "writev"), "macos": ("pidfd_open",)}[platform]


    class Unavailable:
        def find_spec(self, name, path=None, target=None):
            if name in missing_modules:
                raise ModuleNotFoundError(f"No module named {name!r} (simulated {platform})", name=name)
            return None


    sys.meta_path.insert(0, Unavailable())
    for name in missing_modules:
        sys.modules.pop(name, None)
    for name in missing_os:
        if hasattr(os, name):
            delattr(os, name)

    real_cdll = ctypes.CDLL


    class SimulatedCDLL(real_cdll):
        def __init__(self, name, *args, **kwargs):
            if name is None and platform == "windows":
                raise TypeError("expected str, bytes or os.PathLike object, not NoneType (simulated windows)")
            super().__init__(name, *args, **kwargs)

        def __getattr__(self, name):
            if name == "unshare":
                raise AttributeError(f"{name} (simulated {platform})")
            return super().__getattr__(name)


    ctypes.CDLL = SimulatedCDLL
''')


@pytest.fixture(scope="module")
def installed_handout(tmp_path_factory) -> tuple[Path, Path]:
    """The backprop handout with the reference solution's files, and the Python of a fresh venv
    holding what its ``requirements.txt`` asks for."""
    folder = tmp_path_factory.mktemp("handout")
    points = handout.SuitePoints.of(pipeline.collect_manifest(BACKPROP))
    for name, content in handout.handout_archive(BACKPROP, points).files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    root = folder / BACKPROP.name
    for name in BACKPROP.files:
        shutil.copy(BACKPROP.solution / name, root / name)
    env_dir = folder / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "-r", root / "requirements.txt"], check=True, timeout=900)
    return root, python


def run_public_tests(root: Path, python: Path, simulated: str | None, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "PYTEST"))}
    if simulated:
        (tmp_path / "sitecustomize.py").write_text(SIMULATION)
        env |= {"PYTHONPATH": str(tmp_path), "SIMULATED_PLATFORM": simulated}
    return subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize("simulated", [None, "macos", "windows"])
def test_the_public_tests_earn_the_same_points_on_every_platform(installed_handout, simulated, tmp_path):
    root, python = installed_handout
    result = run_public_tests(root, python, simulated, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"public tests: 33\.5/33\.5 points", result.stdout), result.stdout[-2000:]
    assert re.search(r"\b59 passed\b", result.stdout), result.stdout[-2000:]


@pytest.mark.slow
def test_the_simulation_breaks_what_is_linux_only(installed_handout, tmp_path):
    """The simulated platforms do take away what they claim (else the test above proves nothing)."""
    root, python = installed_handout
    (tmp_path / "sitecustomize.py").write_text(SIMULATION)
    probe = (
        "import ctypes, os\nfor name in ('fcntl', 'resource', 'pwd', 'grp', 'termios'):\n"
        "    try:\n        __import__(name)\n    except ImportError:\n        print('no', name)\n"
        "print('fork' in dir(os), hasattr(os, 'pidfd_open'))\n"
        "try:\n    ctypes.CDLL(None).unshare\nexcept (AttributeError, TypeError):\n    print('no unshare')\n"
    )
    outputs = {}
    for platform in ("macos", "windows"):
        env = {"PYTHONPATH": str(tmp_path), "SIMULATED_PLATFORM": platform, "PATH": os.environ["PATH"]}
        outputs[platform] = subprocess.run(
            [python, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout.split("\n")
    assert outputs["macos"][:2] == ["True False", "no unshare"]
    assert outputs["windows"] == [*(f"no {name}" for name in LINUX_ONLY_MODULES), "False False", "no unshare", ""]


def test_the_handout_ships_only_the_student_side_and_asks_for_no_instructor_tool():
    points = handout.SuitePoints(public=1, hidden=1)
    files = handout.handout_archive(BACKPROP, points).files
    engine = sorted(name.split("/", 1)[1] for name in files if name.split("/")[1] == "autograder")
    assert engine[0] == "autograder/__init__.py"
    assert all(name.startswith("autograder/suite/") for name in engine[1:]) and "autograder/suite/plugin.py" in engine
    wanted = {
        handout.requirement_name(line)
        for line in files["backprop/requirements.txt"].decode().splitlines()
        if line and not line.startswith("#")
    }
    assert {"numpy", "scipy", "pytest"} <= wanted
    assert wanted.isdisjoint({"click", "rich", "pyyaml", "nbformat"})


def test_the_student_side_imports_no_other_part_of_the_engine():
    """Every module of ``autograder.suite``, imported in a fresh interpreter, loads no engine module
    outside ``autograder/suite/`` and no third-party package but numpy and pytest (with pytest's
    own); what is Linux-only is covered by the simulated platforms above (pytest itself imports
    some of it on Linux)."""
    package = ROOT / "autograder" / "suite"
    modules = [
        "autograder.suite." + ".".join(path.relative_to(package).with_suffix("").parts).replace(".__init__", "")
        for path in sorted(package.rglob("*.py"))
        if path.name != "__init__.py" or path.parent != package
    ]
    probe = (
        f"import sys\nbefore = set(sys.modules)\nfor m in {modules!r}:\n    __import__(m)\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    engine = {name for name in loaded if name.split(".")[0] == "autograder"}
    assert engine and all(name == "autograder" or name.startswith("autograder.suite") for name in engine), engine
    third_party = (
        {name.split(".")[0] for name in loaded}
        - set(sys.stdlib_module_names)
        - {"autograder", "_pytest", "py", "pluggy", "iniconfig", "packaging", "pygments", "_distutils_hack"}
    )
    assert third_party <= {"numpy", "pytest"}, third_party
