"""The sandboxed worker: calls, handles, function references, warnings, and containment of
student code that exits, loops, crashes, floods, forks or snoops."""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox.isolation import Confinement
from autograder.sandbox.uids import UidLease, candidate_uids, claims_on, kill_all, prepare_scratch, processes_of
from autograder.sandbox.worker_process import OutputBuffer, SandboxConfig, SandboxError, Worker, check_hidden_paths
from autograder.suite.assignment import Limits
from autograder.suite.codec import CodecError, FunctionRef, Handle
from autograder.suite.errors import StudentError

ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="needs root (dedicated uid, mount namespace)")
UID_LEVELS = (Confinement.BUBBLEWRAP, Confinement.NAMESPACES, Confinement.PERMISSIONS)
"""The confinements with a dedicated uid, each of which the root-only tests try."""
HIDING_LEVELS = (Confinement.BUBBLEWRAP, Confinement.NAMESPACES)

STUDENT_SOURCES = {
    "activations.py": """
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def noisy(x):
    print("computing", x)
    return x


def scale_in_place(x, factor=2.0):
    x *= factor


def fail(x):
    return helper(x)


def helper(x):
    raise ValueError(f"cannot handle {x}")


def inverse(x):
    print("inverse of", x)
    if x == 0:
        raise ZeroDivisionError("x is 0")
    return 1.0 / x


def nap(seconds):
    import time
    time.sleep(seconds)
    return seconds
""",
    "layers.py": """
import numpy as np
from activations import sigmoid


def affine_forward(x, W, b):
    out = x @ W.T + b

    def cache():
        return x, W

    return out, cache


def affine_backward(dout, cache):
    x, W = cache()
    return dout @ W, dout.T @ x, dout.sum(axis=0)


def sigmoid_layer(z):
    return sigmoid(z)


NOT_A_FUNCTION = 3
""",
    "network.py": """
import numpy as np


def square_loss(w):
    return float(np.sum(w ** 2)), 2 * w
""",
    "optim.py": """
def descend(loss, w, steps=3, learning_rate=0.25):
    for _ in range(steps):
        _, grad = loss(w)
        w = w - learning_rate * grad
    return w


def apply(function, *args):
    return function(*args)
""",
    "data.py": """
import numpy as np


def make_data(n):
    return np.arange(n, dtype=float)
""",
    "returns.py": """
import numpy as np


class MyArray(np.ndarray):
    pass


def my_array():
    return np.zeros(3).view(MyArray)


def object_array():
    return np.array([1, "a"], dtype=object)


def a_set():
    return {1, 2}


def mixed():
    return np.ones(2), (lambda: 1), {"n": np.int64(4)}


def zeros(n):
    return np.zeros(n)


def deep():
    value = []
    for _ in range(500):
        value = [value]
    return value
""",
    "broken_syntax.py": """
def fine():
    return 1
def broken(:
    return 2
""",
    "broken_name.py": """
import numpy as np
value = undefined_thing + 1
""",
    "uses_broken.py": """
from broken_name import value
""",
}

HOSTILE_SOURCE = """
import os
import resource
import subprocess
import sys
import time

import numpy as np


def exit_hard():
    os._exit(0)


def exit_soft():
    sys.exit(3)


def interrupt():
    raise KeyboardInterrupt


def pytest_exit():
    import pytest
    pytest.exit("stop everything")


def generator_exit():
    raise GeneratorExit


def loop():
    while True:
        pass


def huge_array():
    return np.ones(10**10)


def growing_list():
    chunks = []
    while True:
        chunks.append(bytearray(10**7))


def segfault():
    import ctypes
    return ctypes.string_at(0)


def print_flood(lines):
    line = "x" * 99
    for _ in range(lines):
        print(line)
    return "done"


def write_file(megabytes):
    with open("big.bin", "wb") as file:
        for _ in range(megabytes):
            file.write(b"0" * 2**20)


def forge_reply():
    fd = int(sys.argv[sys.argv.index("--reply-fd") + 1])
    os.write(fd, b"garbage that is not a message at all")
    time.sleep(5)


def forge_message(value):
    from autograder.suite.codec import encode, write_message

    write_message(int(sys.argv[sys.argv.index("--reply-fd") + 1]), encode(value))
    time.sleep(5)


def close_pipes():
    os.closerange(3, 256)
    time.sleep(5)


def fork_bomb():
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)


def start_child(new_session, seconds):
    child = subprocess.Popen(["sleep", seconds], start_new_session=new_session)
    return os.getsid(child.pid) == child.pid


def read_file(path):
    with open(path) as file:
        return file.read()


def list_folder(path):
    return sorted(os.listdir(path))


def whoami():
    return os.getuid(), os.getgid(), os.getgroups()


def environment():
    return dict(os.environ)


def open_fds():
    return sorted(int(fd) for fd in os.listdir("/proc/self/fd"))


def stdin_data():
    return sys.stdin.read()


def limits():
    names = ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC")
    return {name: list(resource.getrlimit(getattr(resource, name))) for name in names}


def where():
    return os.getcwd(), sys.path[0]
"""


def write_modules(folder: Path, sources: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        (folder / name).write_text(source.lstrip("\n"))
    return folder


@pytest.fixture
def scratch(tmp_path) -> Path:
    return write_modules(tmp_path / "scratch", {**STUDENT_SOURCES, "hostile.py": HOSTILE_SOURCE})


def make_worker(scratch: Path, **options) -> Worker:
    limit_fields = set(Limits.__dataclass_fields__)
    limits = Limits(**{key: value for key, value in options.items() if key in limit_fields})
    rest = {key: value for key, value in options.items() if key not in limit_fields}
    return Worker(SandboxConfig(scratch=scratch, limits=limits, **rest))


@pytest.fixture
def open_base():
    """A folder that other users may enter (tmp_path may not be); as root, one outside the folders
    bubblewrap conceals anyway, so that a test of hiding sees the hiding of the path itself."""
    base = Path(tempfile.mkdtemp(prefix="autograder-test-", dir="/var/lib" if ROOT else "/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def reachable_for(level: Confinement, monkeypatch, public_install) -> Confinement:
    """``level``, with the worker's interpreter one the uid can run where only bubblewrap would
    show it this checkout's (which may be in a folder closed to others)."""
    if level is not Confinement.BUBBLEWRAP:
        monkeypatch.setattr(sys, "executable", str(public_install))
    return level


@pytest.fixture(params=UID_LEVELS, ids=lambda level: level.value)
def uid_level(request, monkeypatch, public_install) -> Confinement:
    """Each confinement with a dedicated uid."""
    return reachable_for(request.param, monkeypatch, public_install)


@pytest.fixture(params=HIDING_LEVELS, ids=lambda level: level.value)
def hiding_level(request, monkeypatch, public_install) -> Confinement:
    """Each confinement that hides paths in namespaces."""
    return reachable_for(request.param, monkeypatch, public_install)


def sleeping(seconds: str) -> list[int]:
    """The processes of this machine running ``sleep SECONDS`` (pids as the grader sees them)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/cmdline").read_bytes() == b"sleep\0" + seconds.encode() + b"\0":
                found.append(int(entry)) if alive(int(entry)) else None
        except OSError:
            continue
    return found


def unique_seconds() -> str:
    """A sleep duration no other process uses, to find a test's children by."""
    return f"{300 + time.monotonic_ns() % 10**6 / 10**7:.7f}"


@pytest.fixture
def worker(scratch):
    with make_worker(scratch) as worker:
        yield worker


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "State:\tZ" not in status.read()
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def raises(kind: str, match: str | None = None):
    """``pytest.raises`` for a ``StudentError`` of ``kind`` whose message matches ``match``."""
    with pytest.raises(StudentError, match=match) as info:
        yield info
    assert info.value.kind == kind, f"{info.value.kind}: {info.value}"


def assert_recovers(worker: Worker) -> None:
    """The next call works (in a fresh worker process if the last one was stopped)."""
    np.testing.assert_allclose(worker.call("activations", "sigmoid", (np.zeros(2),)).value, [0.5, 0.5])


# ------------------------------------------------------------------ ordinary calls


def test_a_call_returns_its_value_with_its_metadata(worker):
    result = worker.call("activations", "sigmoid", (np.array([0.0, 2.0]),))
    np.testing.assert_allclose(result.value, [0.5, 1 / (1 + np.exp(-2))], rtol=1e-15)
    assert result.value.dtype == np.float64
    assert result.warnings == [] and result.args_after is None and result.kwargs_after is None
    assert 0 < result.seconds < 5
    assert worker.generation == 1


def test_modules_import_each_other_by_flat_name(worker):
    assert worker.call("layers", "sigmoid_layer", (0.0,)).value == 0.5


def test_the_worker_runs_in_the_scratch_folder_first_on_the_path(worker, scratch):
    cwd, first = worker.call("hostile", "where").value
    assert Path(cwd).resolve() == scratch.resolve() == Path(first).resolve()
    assert worker.call("layers", "sigmoid_layer", (0.0,)).value == 0.5
    assert not (scratch / "__pycache__").exists()  # no bytecode left in the scratch folder


def test_handles_round_trip_a_closure_cache(worker):
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    out, cache = worker.call("layers", "affine_forward", (x, W, b)).value
    np.testing.assert_allclose(out, x @ W.T + b)
    assert type(cache) is Handle and cache.type_name == "function" and cache.generation == 1
    dout = rng.standard_normal((4, 2))
    dx, dW, db = worker.call("layers", "affine_backward", (dout, cache)).value
    np.testing.assert_allclose(dx, dout @ W)
    np.testing.assert_allclose(dW, dout.T @ x)
    np.testing.assert_allclose(db, dout.sum(axis=0))


def test_function_refs_cross_modules_including_provided_ones(worker):
    w = worker.call("optim", "descend", (FunctionRef("network", "square_loss"), np.array([8.0, -4.0]))).value
    np.testing.assert_allclose(w, [1.0, -0.5])
    data = worker.call("optim", "apply", (FunctionRef("data", "make_data"), 3)).value
    np.testing.assert_array_equal(data, [0.0, 1.0, 2.0])


def test_a_function_ref_to_a_missing_function_is_reported(worker):
    with raises("missing", "network.py has no function nope"):
        worker.call("optim", "apply", (FunctionRef("network", "nope"),))


def test_warnings_are_reported_with_the_students_file_and_line(worker):
    result = worker.call("activations", "sigmoid", (np.array([-1000.0, 0.0]),))
    assert result.warnings == ["RuntimeWarning: overflow encountered in exp (activations.py:5)"]
    np.testing.assert_array_equal(result.value, [0.0, 0.5])


def test_numpy_error_state_is_reset_for_every_call(scratch):
    write_modules(
        scratch,
        {
            "errstate.py": """
import numpy as np


def silence():
    np.seterr(all="ignore")


def divide():
    return np.array([1.0]) / np.array([0.0])
"""
        },
    )
    with make_worker(scratch) as worker:
        worker.call("errstate", "silence")
        assert worker.call("errstate", "divide").warnings == [
            "RuntimeWarning: divide by zero encountered in divide (errstate.py:9)"
        ]


def test_repeated_warnings_are_counted_not_repeated(scratch):
    write_modules(
        scratch,
        {
            "warner.py": """
import warnings


def warn_often():
    for i in range(1000):
        warnings.warn("same")
    for i in range(100):
        warnings.warn(f"different {i}")
"""
        },
    )
    with make_worker(scratch) as worker:
        caught = worker.call("warner", "warn_often").warnings
    assert caught[0] == "UserWarning: same (warner.py:6) [1000 times]"
    assert len(caught) == 21 and caught[-1] == "... and 81 other warnings"


def test_return_args_shows_in_place_modification(worker):
    x = np.array([1.0, 2.0])
    result = worker.call("activations", "scale_in_place", (x,), {"factor": 3.0}, return_args=True)
    assert result.value is None
    np.testing.assert_array_equal(result.args_after[0], [3.0, 6.0])
    assert result.kwargs_after == {"factor": 3.0}
    np.testing.assert_array_equal(x, [1.0, 2.0])  # the grader's own array is untouched


def test_printed_output_is_captured_apart_from_the_protocol(worker):
    assert worker.call("activations", "noisy", (7,)).value == 7
    assert worker.take_output() == "computing 7\n"
    assert worker.take_output() == ""


def test_exceptions_carry_the_students_traceback_only(worker):
    with raises("exception", "fail raised ValueError: cannot handle 5") as info:
        worker.call("activations", "fail", (5,))
    lines = str(info.value).splitlines()
    assert lines[1:] == [
        "Traceback (your files only, most recent call last):",
        "  activations.py line 18: return helper(x)",
        '  activations.py line 22: raise ValueError(f"cannot handle {x}")',
    ]
    assert worker.generation == 1  # the worker survives


def test_a_wrong_call_signature_is_the_students_exception(worker):
    with raises("exception", r"sigmoid raised TypeError: sigmoid\(\) takes 1 positional argument"):
        worker.call("activations", "sigmoid", (1, 2))


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("broken_syntax", r"^broken_syntax.py line 3: SyntaxError: .*\n    def broken\(:\n {4,}\^"),
        ("broken_name", r"^broken_name.py line 2: NameError: name 'undefined_thing' is not defined"),
        ("uses_broken", r"^broken_name.py line 2: NameError"),
    ],
)
def test_import_errors_name_the_file_and_line_every_time(worker, module, message):
    for _ in range(2):
        with raises("import", message):
            worker.call(module, "anything")


def test_missing_modules_and_functions(worker):
    with raises("missing", "^convolution.py was not submitted$"):
        worker.call("convolution", "conv_forward")
    with raises("missing", "^layers.py has no function relu_forward$"):
        worker.call("layers", "relu_forward")
    with raises("missing", "^layers.py has no function NOT_A_FUNCTION$"):
        worker.call("layers", "NOT_A_FUNCTION")
    with raises("missing", "was not submitted"):
        worker.call("os", "system", ("true",))


@pytest.mark.parametrize(
    ("function", "type_name", "note"),
    [
        ("my_array", "MyArray", "an ndarray subclass"),
        ("object_array", "ndarray[object]", "a numpy array of dtype object, not a numeric one"),
        ("a_set", "set", ""),
    ],
)
def test_values_that_are_not_plain_come_back_as_handles(worker, function, type_name, note):
    value = worker.call("returns", function).value
    assert type(value) is Handle and (value.type_name, value.note) == (type_name, note)


def test_plain_parts_of_a_mixed_value_stay_plain(worker):
    array, function, info = worker.call("returns", "mixed").value
    assert type(array) is np.ndarray and type(function) is Handle and type(info["n"]) is np.int64


def test_the_grader_cannot_send_values_that_are_not_plain(worker):
    with pytest.raises(TypeError, match="cannot pass a set"):
        worker.call("activations", "sigmoid", ({1},))


def test_released_handles_are_dropped_by_the_worker(worker):
    _, cache = worker.call("layers", "affine_forward", (np.ones((1, 1)), np.ones((1, 1)), np.ones(1))).value
    stale = Handle(cache.id, cache.type_name, cache.generation)
    del cache
    worker.call("activations", "sigmoid", (0.0,))  # carries the release
    with raises("bad-reply", "no longer exists"):
        worker.call("layers", "affine_backward", (np.ones((1, 1)), stale))


# ------------------------------------------------------------------ replies the grader refuses


def test_a_reply_over_the_size_limit_is_refused_and_the_worker_survives(scratch):
    with make_worker(scratch, max_reply_bytes=1 << 20) as worker:
        with raises("bad-reply", "zeros returned a value that cannot be sent back"):
            worker.call("returns", "zeros", (1_000_000,))
        assert worker.call("returns", "zeros", (10,)).value.shape == (10,)
        assert worker.generation == 1


def test_a_too_deep_reply_is_refused(worker):
    with raises("bad-reply", "nested more than"):
        worker.call("returns", "deep")


def test_forged_bytes_on_the_reply_pipe_restart_the_worker(worker):
    with raises("bad-reply", "malformed reply"):
        worker.call("hostile", "forge_reply", timeout=5)
    assert_recovers(worker)
    assert worker.generation == 2


@pytest.mark.parametrize(
    ("forged", "error"),
    [
        ({"status": "ok", "value": 1}, "neither a result nor a failure"),
        (
            {
                "status": "ok",
                "value": 1,
                "warnings": [3],
                "args_after": None,
                "kwargs_after": None,
                "aliases": None,
                "replaced": None,
            },
            "warnings",
        ),
        (
            {
                "status": "ok",
                "value": 1,
                "warnings": [],
                "args_after": [],
                "kwargs_after": None,
                "aliases": None,
                "replaced": None,
            },
            "arguments after",
        ),
        (
            {
                "status": "ok",
                "value": 1,
                "warnings": [],
                "args_after": (),
                "kwargs_after": {},
                "aliases": [["", "x"]],
                "replaced": None,
            },
            "shared-memory report",
        ),
        (
            {
                "status": "ok",
                "value": 1,
                "warnings": [],
                "args_after": (),
                "kwargs_after": {},
                "aliases": [],
                "replaced": [[0.5, ""]],
            },
            "replaced items",
        ),
        ({"status": "error", "failure": {"kind": "exception"}}, "malformed failure"),
        (
            {
                "status": "error",
                "failure": {"kind": "boom", "summary": "", "exc_type": "", "frames": [], "syntax": None},
            },
            "malformed failure",
        ),
        (
            {
                "status": "error",
                "failure": {"kind": "crash", "summary": "", "exc_type": "", "frames": [["a", "1", ""]], "syntax": None},
            },
            "malformed failure",
        ),
        ("ready", "neither a result nor a failure"),
    ],
)
def test_well_formed_messages_of_the_wrong_shape_are_refused(worker, forged, error):
    with raises("bad-reply", error):
        worker.call("hostile", "forge_message", (forged,), timeout=5)
    assert_recovers(worker)


# ------------------------------------------------------------------ containment


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("exit_soft", r"^exit_soft raised SystemExit: 3 \(your code called sys.exit"),
        ("interrupt", "^interrupt raised KeyboardInterrupt"),
        ("pytest_exit", "^pytest_exit raised Exit: stop everything"),
        ("generator_exit", "^generator_exit raised GeneratorExit"),
    ],
)
def test_exits_and_interrupts_are_the_students_exceptions(worker, function, message):
    with raises("exception", message):
        worker.call("hostile", function)
    assert_recovers(worker)
    assert worker.generation == 1


def test_os_exit_is_a_crash_and_the_next_call_gets_a_fresh_worker(worker):
    with raises(
        "crash",
        r"^the worker process exited with code 0 while running hostile.exit_hard "
        r"\(does your code call sys.exit, os._exit or exit\?\)$",
    ):
        worker.call("hostile", "exit_hard")
    assert_recovers(worker)
    assert worker.generation == 2


def test_a_segfault_is_a_crash(worker):
    with raises("crash", "killed by SIGSEGV: segmentation fault while running hostile.segfault"):
        worker.call("hostile", "segfault")
    assert_recovers(worker)


def test_closing_the_protocol_pipes_is_a_crash(worker):
    with raises("crash", "hostile.close_pipes"):
        worker.call("hostile", "close_pipes", timeout=10)
    assert_recovers(worker)


def test_an_infinite_loop_times_out_and_handles_of_the_old_worker_are_refused(worker):
    _, cache = worker.call("layers", "affine_forward", (np.ones((1, 1)), np.ones((1, 1)), np.ones(1))).value
    start = time.monotonic()
    with raises("timeout", r"^hostile.loop did not return within 0.5 s; is there an infinite loop\?$"):
        worker.call("hostile", "loop", timeout=0.5)
    assert time.monotonic() - start < 3
    assert_recovers(worker)
    assert worker.generation == 2
    with raises("bad-reply", "earlier worker process"):
        worker.call("layers", "affine_backward", (np.ones((1, 1)), cache))


def test_the_default_timeout_comes_from_the_limits(scratch):
    with make_worker(scratch, call_timeout_seconds=0.3) as worker:
        with raises("timeout", "within 0.3 s"):
            worker.call("hostile", "loop")


@pytest.mark.parametrize("function", ["huge_array", "growing_list"])
def test_a_memory_bomb_is_a_memory_error(scratch, function):
    with make_worker(scratch, memory_mb=600) as worker:
        with raises("exception", f"^{function} raised MemoryError"):
            worker.call("hostile", function, timeout=30)
        assert_recovers(worker)
        assert worker.generation == 1


def test_numpy_and_scipy_import_well_within_the_default_memory_limit(scratch):
    write_modules(
        scratch,
        {
            "heavy.py": """
import numpy as np
import scipy.special


def peak_mb():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmPeak")).split()[1]) // 1024
"""
        },
    )
    with make_worker(scratch) as worker:
        assert worker.call("heavy", "peak_mb").value < Limits().memory_mb * 0.6


def test_cpu_time_is_limited(scratch):
    with make_worker(scratch, cpu_seconds=1) as worker:
        with raises("crash", "killed by SIGXCPU: CPU time limit exceeded"):
            worker.call("hostile", "loop", timeout=20)
        assert_recovers(worker)


def test_files_larger_than_the_limit_cannot_be_written(scratch):
    with make_worker(scratch, file_size_mb=1) as worker:
        with raises("exception", r"write_file raised OSError: \[Errno 27\] File too large"):
            worker.call("hostile", "write_file", (3,))
        assert_recovers(worker)
    assert (scratch / "big.bin").stat().st_size <= 1 << 20


def test_a_print_flood_is_truncated_and_the_call_still_returns(scratch):
    start = time.monotonic()
    with make_worker(scratch, max_output_chars=2000) as worker:
        assert worker.call("hostile", "print_flood", (1_000_000,), timeout=30).value == "done"
        output = worker.take_output()
    assert time.monotonic() - start < 10
    head, marker, tail = output.partition("\n[... ")
    assert head.startswith("x" * 99 + "\n") and len(head) == 1000
    assert marker and "bytes of output cut ...]\n" in tail and tail.endswith("x" * 99 + "\n")
    assert len(output) < 2100
    cut = int(tail.split()[0])
    assert cut == 100_000_000 - 2000


def test_the_environment_is_scrubbed(worker, scratch, monkeypatch):
    env = worker.call("hostile", "environment").value
    assert set(env) <= {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "LC_CTYPE",
        "PWD",  # the scratch folder, as HOME says (bubblewrap sets it)
    }
    assert env["PATH"] == "/usr/bin:/bin" and Path(env["HOME"]) == scratch and env["OMP_NUM_THREADS"] == "1"


def test_blas_settings_are_copied_only_when_set(scratch, monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    monkeypatch.setenv("SECRET_TOKEN", "do not leak")
    with make_worker(scratch) as worker:
        env = worker.call("hostile", "environment").value
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and "OPENBLAS_L2_SIZE" not in env and "SECRET_TOKEN" not in env


def test_only_the_workers_own_file_descriptors_are_open(worker):
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)
    try:
        fds = worker.call("hostile", "open_fds").value
    finally:
        os.close(leaked)
    assert len(fds) == 6 and fds[:3] == [0, 1, 2]  # stdio, request, reply, and the listing itself
    assert worker.call("hostile", "stdin_data").value == ""


def test_resource_limits_are_set(scratch):
    with make_worker(scratch, cpu_seconds=7, memory_mb=900, file_size_mb=3, processes=5) as worker:
        limits = worker.call("hostile", "limits").value
    mb = 1 << 20
    assert limits["RLIMIT_CPU"] == [7, 9]
    assert limits["RLIMIT_AS"] == [900 * mb, 900 * mb]
    assert limits["RLIMIT_FSIZE"] == [3 * mb, 3 * mb]
    assert limits["RLIMIT_CORE"] == [0, 0]
    # without a dedicated uid the limit counts the grader's own tasks too
    assert 5 < limits["RLIMIT_NPROC"][0] == limits["RLIMIT_NPROC"][1] != resource.RLIM_INFINITY


def test_close_kills_the_children_of_the_worker(worker):
    seconds = unique_seconds()
    worker.call("hostile", "start_child", (False, seconds))
    assert wait_for(lambda: len(sleeping(seconds)) == 1)
    worker.close()
    worker.close()  # idempotent
    assert sleeping(seconds) == []


def test_a_crash_kills_the_children_too(worker):
    seconds = unique_seconds()
    worker.call("hostile", "start_child", (False, seconds))
    assert wait_for(lambda: len(sleeping(seconds)) == 1)
    with raises("crash"):
        worker.call("hostile", "exit_hard")
    assert wait_for(lambda: sleeping(seconds) == [])


# ------------------------------------------------------------------ grader-side problems


def test_a_missing_scratch_folder_is_a_sandbox_error(tmp_path):
    with pytest.raises(SandboxError, match="cannot start the worker process"):
        make_worker(tmp_path / "nowhere").call("activations", "sigmoid", (0.0,))


def test_a_memory_limit_too_small_for_python_is_a_sandbox_error(scratch):
    with pytest.raises(SandboxError, match="did not start"):
        make_worker(scratch, memory_mb=30).call("activations", "sigmoid", (0.0,))


@pytest.mark.parametrize("level", [Confinement.NAMESPACES, Confinement.PERMISSIONS, Confinement.NONE])
def test_hidden_paths_need_bubblewrap_or_a_dedicated_uid(scratch, level):
    with pytest.raises(SandboxError, match="bubblewrap or from a dedicated uid"):
        make_worker(scratch, hidden_paths=(scratch.parent,), confinement=level)


NEEDS_ROOT = """
import pathlib, pytest
from autograder.sandbox.uids import UidLease
from autograder.sandbox.worker_process import SandboxConfig, Worker
from autograder.suite.assignment import Limits
from autograder.suite.errors import SandboxError
with pytest.raises(SandboxError, match="needs the grader to run as root"):
    Worker(SandboxConfig(scratch=pathlib.Path("."), limits=Limits(), uid=2000000000))
with pytest.raises(SandboxError, match="needs the grader to run as root"):
    UidLease().__enter__()
print("refused")
"""


def test_a_dedicated_uid_needs_root(public_install, ordinary_user):
    prefix, home, _ = ordinary_user
    done = subprocess.run(
        [*prefix, str(public_install), "-c", NEEDS_ROOT],
        cwd=home,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    assert done.returncode == 0 and done.stdout.strip() == "refused", done.stderr


def test_kill_all_refuses_root_and_the_graders_own_uid():
    for uid in {0, os.getuid()}:
        with pytest.raises(ValueError, match="refusing"):
            kill_all(uid)
    if not ROOT:
        with pytest.raises(SandboxError, match="needs the grader to run as root"):
            kill_all(61000)


def test_hidden_paths_are_checked_by_mode_bits_where_they_cannot_be_mounted_over(open_base):
    uid = 61999
    base = open_base / "base"
    (base / "open").mkdir(parents=True)
    (base / "open" / "tests.py").write_text("secret")
    (base / "closed").mkdir()
    (base / "closed" / "tests.py").write_text("secret")
    (base / "metadata.json").write_text("secret")
    for path in (base, base / "open"):
        path.chmod(0o755)
    (base / "closed").chmod(0o750)
    (base / "metadata.json").chmod(0o640)
    (base / "open" / "tests.py").chmod(0o600)
    check_hidden_paths(
        (
            base / "closed",
            base / "metadata.json",
            base / "open" / "tests.py",
            base / "closed" / "tests.py",
            base / "does-not-exist",
        ),
        uid,
    )
    with pytest.raises(SandboxError, match=f"could read the hidden path {base / 'open'} .*; run: chmod o= "):
        check_hidden_paths((base / "closed", base / "open"), uid)
    (base / "metadata.json").chmod(0o644)
    with pytest.raises(SandboxError, match="metadata.json"):
        check_hidden_paths((base / "metadata.json",), uid)
    (base / "open").chmod(0o751)  # can be entered but not listed: still exposed
    with pytest.raises(SandboxError, match="open"):
        check_hidden_paths((base / "open",), uid)
    (base / "open").chmod(0o754)  # can be listed but not entered: names leak
    with pytest.raises(SandboxError, match="open"):
        check_hidden_paths((base / "open",), uid)
    if ROOT:
        os.chown(base / "metadata.json", uid, uid)
        (base / "metadata.json").chmod(0o600)
        with pytest.raises(SandboxError, match="chown 0:0"):
            check_hidden_paths((base / "metadata.json",), uid)


def test_output_buffer_keeps_head_and_tail():
    buffer = OutputBuffer(10)
    buffer.add(b"abc")
    assert buffer.take() == "abc" and buffer.take() == ""
    for chunk in (b"12345", b"6789", b"ABCDEFGHIJKLMNOP", b"xyz"):
        buffer.add(chunk)
    assert buffer.take() == "12345\n[... 18 bytes of output cut ...]\nOPxyz"
    buffer.add(b"0123456789abcdef")
    assert buffer.take() == "01234\n[... 6 bytes of output cut ...]\nbcdef"
    buffer.add("é".encode() * 3)  # a character split between head and tail
    assert buffer.take() == "éé\ufffd\ufffd"


# ------------------------------------------------------------------ dedicated uid (root only)


@pytest.fixture
def lease():
    with UidLease() as uid:
        yield uid


@pytest.fixture
def uid_scratch(open_base, lease):
    folder = write_modules(open_base / "scratch", {**STUDENT_SOURCES, "hostile.py": HOSTILE_SOURCE})
    prepare_scratch(folder, lease)
    return folder


@root_only
def test_leases_give_distinct_free_uids(lease):
    with UidLease() as other:
        assert other != lease and other in candidate_uids() and lease in candidate_uids()
        assert processes_of(other) == [] and len(claims_on(other)) == 1  # the holder that claims it
    assert claims_on(other) == []


@root_only
def test_a_lease_frees_its_lock_at_once_while_a_later_lease_lives():
    """A later lease's holder keeps no copy of an earlier lease's lock."""
    first, second = UidLease(), UidLease()
    uid = first.__enter__()
    try:
        second.__enter__()
    finally:
        first.__exit__(None, None, None)
    try:
        fd = os.open(first.lock_folder / f"{uid}.lock", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError while anyone holds it
        os.close(fd)
    finally:
        second.__exit__(None, None, None)


@root_only
def test_killing_every_process_of_a_leased_uid_leaves_its_claim(lease):
    """Between two workers of one grade, no other grader may take the uid."""
    holders = claims_on(lease)
    kill_all(lease)
    assert len(holders) == 1 and claims_on(lease) == holders


@root_only
def test_a_uid_with_a_process_of_another_grader_is_not_leased(lease):
    """Graders that do not share /tmp (so not the lock files) still see each other's processes."""
    with pytest.raises(SandboxError, match=f"no free uid between {lease} and {lease}"):
        with UidLease(uids=range(lease, lease + 1), lock_folder=Path(tempfile.mkdtemp())):
            pass


@root_only
def test_the_worker_runs_as_the_dedicated_uid_without_groups(uid_scratch, lease, uid_level):
    assert stat.S_IMODE(uid_scratch.stat().st_mode) == 0o700 and uid_scratch.stat().st_uid == lease
    assert (uid_scratch / "layers.py").stat().st_uid == lease
    with make_worker(uid_scratch, uid=lease, processes=9, confinement=uid_level) as worker:
        assert worker.call("hostile", "whoami").value == (lease, lease, [])
        assert worker.call("hostile", "limits").value["RLIMIT_NPROC"] == [9, 9]
        assert_recovers(worker)
    assert processes_of(lease) == []


@root_only
def test_a_fork_bomb_is_bounded_and_cleaned_up(uid_scratch, lease, uid_level):
    peak, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], len(processes_of(lease)))
            time.sleep(0.005)

    with make_worker(uid_scratch, uid=lease, processes=8, confinement=uid_level) as worker:
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with raises("timeout"):
                worker.call("hostile", "fork_bomb", timeout=2)
        finally:
            done.set()
            watcher.join()
        assert 2 < peak[0] <= 8
        assert processes_of(lease) == []
        assert_recovers(worker)


@root_only
def test_a_daemon_in_its_own_session_is_killed_on_close(uid_scratch, lease, uid_level):
    seconds = unique_seconds()
    with make_worker(uid_scratch, uid=lease, confinement=uid_level) as worker:
        assert worker.call("hostile", "start_child", (True, seconds)).value  # it left the worker's session
        assert wait_for(lambda: len(sleeping(seconds)) == 1)
    assert sleeping(seconds) == []
    assert processes_of(lease) == []


@root_only
def gives_no_data(worker: Worker, path: Path) -> bool:
    """Whether the worker finds ``path`` empty or absent (a folder), or empty or unreadable (a file)."""
    function = "list_folder" if path.is_dir() else "read_file"
    try:
        return worker.call("hostile", function, (str(path),)).value in ([], "")
    except StudentError as err:
        return err.kind == "exception" and ("FileNotFoundError" in err.message or "PermissionError" in err.message)


@root_only
def test_hidden_paths_give_no_data(open_base, uid_scratch, lease, hiding_level):
    hidden_folder = open_base / "source"
    (hidden_folder / "tests").mkdir(parents=True)
    (hidden_folder / "tests" / "test_hidden.py").write_text("SECRET expected values")
    metadata = open_base / "submission_metadata.json"
    metadata.write_text("SECRET emails")
    for path in (hidden_folder, hidden_folder / "tests"):
        path.chmod(0o755)
    for path in (hidden_folder / "tests" / "test_hidden.py", metadata):
        path.chmod(0o644)
    with make_worker(
        uid_scratch, uid=lease, hidden_paths=(hidden_folder, metadata), confinement=hiding_level
    ) as worker:
        assert worker.call("hostile", "list_folder", (str(hidden_folder),)).value == []
        with raises("exception", "FileNotFoundError"):
            worker.call("hostile", "read_file", (str(hidden_folder / "tests" / "test_hidden.py"),))
        assert worker.call("hostile", "read_file", (str(metadata),)).value == ""
        assert worker.call("hostile", "list_folder", (str(open_base),)).value == sorted(
            ["scratch", "source", "submission_metadata.json"]
        )  # hidden paths only are covered
    assert (hidden_folder / "tests" / "test_hidden.py").read_text().startswith("SECRET")  # only hidden from the worker


@root_only
def test_without_namespaces_readable_hidden_paths_are_refused(
    open_base, uid_scratch, lease, monkeypatch, public_install
):
    reachable_for(Confinement.PERMISSIONS, monkeypatch, public_install)
    hidden = open_base / "results"
    hidden.mkdir(mode=0o755)
    (hidden / "results.json").write_text("SECRET")
    hidden.chmod(0o755)
    with pytest.raises(SandboxError, match=f"could read the hidden path {hidden} .*; run: chmod o= {hidden}$"):
        make_worker(uid_scratch, uid=lease, hidden_paths=(hidden,), confinement=Confinement.PERMISSIONS).call(
            "activations", "sigmoid", (0.0,)
        )
    hidden.chmod(0o750)
    with make_worker(uid_scratch, uid=lease, hidden_paths=(hidden,), confinement=Confinement.PERMISSIONS) as worker:
        with raises("exception", "PermissionError"):
            worker.call("hostile", "read_file", (str(hidden / "results.json"),))


@root_only
def test_hidden_paths_holding_what_the_worker_needs_are_refused(uid_scratch, lease, uid_level):
    with pytest.raises(SandboxError, match=f"the hidden path {uid_scratch.parent} holds the scratch folder"):
        make_worker(uid_scratch, uid=lease, hidden_paths=(uid_scratch.parent,), confinement=uid_level).call(
            "activations", "sigmoid", (0,)
        )
    with pytest.raises(SandboxError, match="holds the Python environment"):
        make_worker(uid_scratch, uid=lease, hidden_paths=(Path(sys.prefix),), confinement=uid_level).call(
            "activations", "sigmoid", (0,)
        )


@root_only
def test_the_dedicated_uid_must_be_unprivileged(scratch):
    with pytest.raises(SandboxError, match="unprivileged uid of its own, not 0"):
        make_worker(scratch, uid=0)


@root_only
@pytest.mark.parametrize("level", [Confinement.NAMESPACES, Confinement.PERMISSIONS], ids=lambda level: level.value)
def test_an_interpreter_the_uid_cannot_run_is_refused(open_base, uid_scratch, lease, monkeypatch, level):
    private = open_base / "private"
    private.mkdir(mode=0o700)
    (private / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(private / "python"))
    with pytest.raises(SandboxError, match=f"cannot run the Python interpreter {private / 'python'}"):
        make_worker(uid_scratch, uid=lease, confinement=level).call("activations", "sigmoid", (0.0,))


@root_only
def test_bubblewrap_shows_the_interpreter_to_the_uid_through_closed_folders(tmp_path, lease):
    """A project in a folder other users cannot enter (root's home, mktemp -d): still graded."""
    tmp_path.chmod(0o700)
    folder = write_modules(tmp_path / "scratch", STUDENT_SOURCES)
    prepare_scratch(folder, lease)
    with make_worker(folder, uid=lease, confinement=Confinement.BUBBLEWRAP) as worker:
        assert worker.call("activations", "sigmoid", (0.0,)).value == 0.5


@root_only
def test_a_scratch_folder_the_uid_cannot_use_is_refused(tmp_path, lease, uid_level):
    folder = write_modules(tmp_path / "scratch", STUDENT_SOURCES)
    with pytest.raises(SandboxError, match="scratch folder"):
        make_worker(folder, uid=lease, confinement=uid_level).call("activations", "sigmoid", (0.0,))


def test_signals_are_named_in_crash_messages(scratch):
    worker = make_worker(scratch)
    assert worker._crash_message(-signal.SIGXFSZ, "m.f") == (
        "the worker process was killed by SIGXFSZ: file size limit exceeded (a file may hold at most "
        "16 MB) while running m.f"
    )
    assert worker._crash_message(-signal.SIGUSR1, "m.f") == "the worker process was killed by SIGUSR1 while running m.f"
    assert "exited with code 2" in worker._crash_message(2, "m.f")


# ------------------------------------------------------------------ many calls in one request


def test_many_calls_in_one_request_return_in_order(worker):
    results = worker.call_many("activations", "inverse", [((x,), {}) for x in (1.0, 2.0, 4.0)])
    assert [result.value for result in results] == [1.0, 0.5, 0.25]
    assert worker.take_output() == "inverse of 1.0\ninverse of 2.0\ninverse of 4.0\n"
    assert worker.generation == 1


def test_each_of_many_calls_gets_its_own_copy_of_the_arguments(worker):
    x = np.ones(2)
    results = worker.call_many("activations", "scale_in_place", [((x,), {"factor": 3.0})] * 2, return_args=True)
    assert [result.args_after[0].tolist() for result in results] == [[3.0, 3.0], [3.0, 3.0]]
    assert x.tolist() == [1.0, 1.0]


def test_many_calls_stop_at_the_first_failure_and_raise_it(worker):
    with raises("exception", "inverse raised ZeroDivisionError: x is 0"):
        worker.call_many("activations", "inverse", [((x,), {}) for x in (2.0, 0.0, 4.0)])
    assert worker.take_output() == "inverse of 2.0\ninverse of 0.0\n"  # the third call was never made
    assert worker.call("activations", "inverse", (8.0,)).value == 0.125
    assert worker.generation == 1


def test_each_of_many_calls_has_the_whole_timeout(worker):
    results = worker.call_many("activations", "nap", [((0.3,), {})] * 3, timeout=0.6)
    assert [result.value for result in results] == [0.3] * 3
    with raises("timeout", "activations.nap did not return within 0.6 s"):
        worker.call_many("activations", "nap", [((0.1,), {}), ((60.0,), {})], timeout=0.6)
    assert_recovers(worker)


def test_many_calls_too_large_for_one_message_go_in_several_requests(scratch):
    arrays = [np.full(50_000, float(value)) for value in range(3)]  # 400 kB each, 1.2 MB together
    with make_worker(scratch, max_reply_bytes=1 << 20) as worker:
        results = worker.call_many("activations", "sigmoid", [((x,), {}) for x in arrays])
        assert [float(result.value[0]) for result in results] == [
            0.5,
            float(1 / (1 + np.exp(-1))),
            float(1 / (1 + np.exp(-2))),
        ]
        assert worker.generation == 1
        with pytest.raises(CodecError, match="more than 1 MB of data"):  # one call that large cannot be sent
            worker.call("activations", "sigmoid", (np.zeros(200_000),))


def test_no_calls_start_no_worker(worker):
    assert worker.call_many("activations", "sigmoid", []) == []
    assert worker.generation == 0


# ------------------------------------------------------------------ start-up


def test_preloaded_modules_are_imported_before_the_first_call(tmp_path):
    scratch = write_modules(
        tmp_path / "scratch",
        {
            "marker.py": "open('imported.txt', 'w').write('yes')\n\ndef ping():\n    return 1\n",
            "broken.py": "raise ValueError('broken at import')\n",
        },
    )
    with make_worker(scratch, preload=("marker", "broken")) as worker:
        worker.start()
        assert wait_for(lambda: (scratch / "imported.txt").exists()), "start() did not import the preloaded module"
        assert worker.call("marker", "ping").value == 1
        with raises("import", "broken at import"):  # a failed preload is reported by the calls that need it
            worker.call("broken", "anything")


def test_a_module_whose_import_kills_the_worker_fails_alone(tmp_path):
    scratch = write_modules(
        tmp_path / "scratch",
        {
            "exits.py": "import os\nos._exit(0)\n\ndef anything():\n    return 1\n",
            "uses_exits.py": "import exits\n\ndef anything():\n    return 2\n",
            "fine.py": "def ping():\n    return 1\n",
        },
    )
    with make_worker(scratch, preload=("exits", "uses_exits", "fine")) as worker:
        assert worker.call("fine", "ping").value == 1
        for module in ("exits", "uses_exits"):
            with raises("import", f"^the worker process exited with code 0 while running import {module} "):
                worker.call(module, "anything")
        assert worker.generation == 3  # a process per module whose import killed it, then one that works
        assert worker.call("fine", "ping").value == 1 and worker.generation == 3


def test_an_import_has_its_own_limit_longer_than_a_call(tmp_path):
    """A module whose top level takes longer than one call may (e.g. it imports matplotlib)
    imports; its functions still have the call limit."""
    sources = {
        "heavy.py": "import time\ntime.sleep(0.8)\n\ndef ping():\n    return 1\n\ndef spin():\n    while True:\n        pass\n"
    }
    with make_worker(
        write_modules(tmp_path / "scratch", sources),
        preload=("heavy",),
        call_timeout_seconds=0.3,
        import_timeout_seconds=10,
    ) as worker:
        assert worker.call("heavy", "ping").value == 1
        with raises("timeout", "^heavy.spin did not return within 0.3 s"):
            worker.call("heavy", "spin")
        assert worker.generation == 1  # the process that timed out; the next call starts another


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        (
            "while True:\n    pass\n",
            {"import_timeout_seconds": 0.5},
            "^importing bad.py did not finish within 0.5 s; is there an infinite loop",
        ),
        (
            "import os, sys\nos.write(int(sys.argv[sys.argv.index('--reply-fd') + 1]), b'\\x01' * 12)\n",
            {},
            "^importing bad.py wrote into the grader's channel",
        ),
    ],
    ids=["never ends", "writes into the protocol"],
)
def test_a_module_whose_import_goes_wrong_fails_alone(tmp_path, source, options, message):
    scratch = write_modules(tmp_path / "scratch", {"bad.py": source, "fine.py": "def ping():\n    return 1\n"})
    with make_worker(scratch, preload=("bad", "fine"), **options) as worker:
        assert worker.call("fine", "ping").value == 1
        with raises("import", message):
            worker.call("bad", "anything")
        assert worker.generation == 2


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@root_only
def test_a_hidden_file_inside_a_hidden_folder_is_covered_by_the_folder(open_base, uid_scratch, lease, hiding_level):
    hidden_folder = open_base / "out"
    hidden_folder.mkdir(mode=0o755)
    stale = hidden_folder / "results.json"
    stale.write_text("SECRET old results")
    stale.chmod(0o644)
    with make_worker(uid_scratch, uid=lease, hidden_paths=(hidden_folder, stale), confinement=hiding_level) as worker:
        assert worker.call("hostile", "list_folder", (str(hidden_folder),)).value == []
