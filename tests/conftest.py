"""Fixtures every test folder may use."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

import autograder

pytest_plugins = ["pytester"]

# Suites of the fixture project are graded by the tests, not collected as tests themselves.
collect_ignore = ["fixtures"]

ROOT = os.geteuid() == 0
TEST_USER = "autograder-tester"
"""The ordinary account the tests run commands as, when they run as root."""


def install_copy(base: Path) -> Path:
    """A venv in ``base`` with this process's packages (hard links where the file system allows
    them: they are large, and read-only here) and a copy of the engine's checkout; returns its
    interpreter. Its folders are as open as ``base``'s parents let them be."""
    engine = base / "engine"
    package = Path(autograder.__file__).parent
    shutil.copytree(package, engine / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(package.parent / name, engine / name)
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    target = Path(sysconfig.get_path("purelib", vars={"base": str(base / "venv")}))
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if entry.name.startswith("__editable__"):
            continue
        if subprocess.run(["cp", "-al", str(entry), str(target)], capture_output=True).returncode != 0:
            subprocess.run(["cp", "-a", str(entry), str(target)], check=True)
    (target / "autograder-engine.pth").write_text(f"{engine}\n")
    return base / "venv" / "bin" / "python"


@pytest.fixture(scope="session")
def public_install() -> Path:
    """As root: an interpreter every user can run, with the engine and its packages, in a folder
    every user can enter outside /tmp (graders with a private /tmp see it too), whatever folder
    this checkout is in (root's home and ``mktemp -d`` are closed to others). Else this process's
    own interpreter."""
    if not ROOT:
        yield Path(sys.executable)
        return
    base = Path(tempfile.mkdtemp(prefix="autograder-public-", dir="/var/lib"))
    base.chmod(0o755)
    yield install_copy(base)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def make_install():
    """``install_copy``, for tests that need an install in a folder of their own."""
    return install_copy


@pytest.fixture(scope="session")
def ordinary_user() -> tuple[list[str], Path, int | None]:
    """The command prefix that runs a command as an ordinary user (made once, as root; the current
    user otherwise), that user's home, and their uid when it is not the current user."""
    if not ROOT:
        return [], Path.home(), None
    try:
        account = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER], check=True)
        account = pwd.getpwnam(TEST_USER)
    home = Path(account.pw_dir)
    prefix = ["setpriv", "--reuid", str(account.pw_uid), "--regid", str(account.pw_gid), "--init-groups"]
    return prefix, home, account.pw_uid
