"""Shared pieces of the backprop suites (public and hidden).

- test tables: ``named_cases`` (one pytest param per function, with its display name and points)
  and ``Cases`` (partial credit over the cases of one test);
- calling student functions under the contract's rules: arguments unchanged (a layer's cache is
  opaque; only documented outputs must be new arrays), results repeatable and not remembered
  between calls, no warnings, results of the documented structure (a history: any sequence of
  floats); a failing ``train`` traced to the student's ``sgd_step`` or ``minibatch_indices``;
- gradient checks of layers, activations and network losses, against central differences of the
  student's own forward (public tests) or of the reference (hidden tests);
- the activations: which have parameters, kinks and a stability requirement, the parameters the
  suites use (away from the defaults), the contract's formulas and the known wrong answers that
  public and hidden tests diagnose alike;
- inputs that expose mistakes: layer inputs of different sizes, MLP and window-classifier
  problems, values that undoing a perturbation by arithmetic does not give back, and known wrong
  answers ("repeated word ids ignored", wrong relative errors).

Public tests use only what works without the reference solution; the hidden ones pass reference
functions to the same helpers.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from autograder.suite.checks import (
    assert_array,
    assert_array_form,
    assert_int_array,
    assert_same_bits,
    assert_scalar,
    assert_structure,
    assert_unchanged,
    check_gradient,
    first_difference,
    sampling,
)
from autograder.suite.checks.diagnosis import Diagnosis
from autograder.suite.checks.messages import count_items, describe, likely_cause
from autograder.suite.codec import Handle
from autograder.suite.errors import CheckFailure, Finding, StudentError

# --------------------------------------------------------------------------- test tables


def named_cases(title: str, items: Iterable[str], points: float) -> list:
    """One pytest param per item, shown as ``"<item>: <title>"`` and worth ``points``."""
    return [
        pytest.param(item, id=item, marks=[pytest.mark.name(f"{item}: {title}"), pytest.mark.points(points)])
        for item in items
    ]


class Cases:
    """Partial credit over the cases of one test: ``with cases.case("default slope"): ...``.

    Each case that raises ``CheckFailure`` is recorded and the test goes on; the credit is the
    fraction of cases passed so far, so an exception of the student's code (which is never
    caught) still leaves the credit of the cases before it. ``finish()`` fails the test with the
    first failures' messages, each after its case's label.
    """

    SHOWN = 2  # failure messages quoted in full

    def __init__(self, credit, total: int) -> None:
        self.credit = credit
        self.total = total
        self.passed = 0
        self.failures: list[tuple[str, CheckFailure]] = []
        credit.set(0.0)

    @contextlib.contextmanager
    def case(self, label: str) -> Iterator[None]:
        try:
            yield
        except CheckFailure as failure:
            self.failures.append((label, failure))
        else:
            self.passed += 1
            self.credit.set(self.passed / self.total)

    def finish(self) -> None:
        if self.passed + len(self.failures) != self.total:
            raise RuntimeError(f"{self.passed + len(self.failures)} cases ran, {self.total} were announced")
        if not self.failures:
            return
        if self.total == 1:
            raise self.failures[0][1]
        shown = " ".join(f"[{label}] {failure}" for label, failure in self.failures[: self.SHOWN])
        more = len(self.failures) - self.SHOWN
        raise CheckFailure.gathered(
            f"{len(self.failures)} of {self.total} cases fail. {shown}" + (f" (and {more} more)" if more > 0 else ""),
            [failure for _, failure in self.failures],
        )


def run_cases(credit, checks: list[tuple[str, Callable[[], None]]]) -> None:
    """Run ``(label, check)`` pairs as the cases of one test, with partial credit."""
    cases = Cases(credit, len(checks))
    for label, check in checks:
        with cases.case(label):
            check()
    cases.finish()


@contextlib.contextmanager
def lead(text: str) -> Iterator[None]:
    """Put ``text`` before the message of a check failing inside the block (what was compared
    with what, e.g. "Compared with central differences of your own sigmoid:")."""
    try:
        yield
    except CheckFailure as failure:
        raise failure.reworded(f"{text} {failure}") from None


# --------------------------------------------------------------------------- calling students


def is_function(value: Any) -> bool:
    """A function proxy (a student or provided function passed as an argument)."""
    return hasattr(value, "ref")


def name_of(function: Any) -> str:
    """The name of a student function proxy (``sigmoid``) or of a plain function."""
    return function.ref.name if is_function(function) else function.__name__


def copied(values: Iterable[Any]) -> list[Any]:
    """Deep copies of ``values``; function proxies are passed on as they are."""
    return [value if is_function(value) else copy.deepcopy(value) for value in values]


def comparable(value: Any) -> Any:
    """``value`` with every opaque handle replaced by its type name: two calls give two handles,
    whose identities differ even when the objects are equal."""
    if isinstance(value, Handle):
        return f"<{value.type_name}>"
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(item) for item in value)
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


def call_unchanged(function: Any, arguments: dict[str, Any], *, cache: int | None = None, **options: Any):
    """Call ``function(*arguments.values(), **options)`` and assert that no argument changed
    (bitwise) and that no documented output shares memory with an argument; return the
    ``CallResult``. ``arguments`` maps the contract's argument names to values, in order; function
    arguments are passed on but not compared, and an opaque handle (a cache) only by its type.
    cache: the position of an opaque cache in the result tuple (a layer forward's ``(out, cache)``:
    1), which may hold the inputs themselves."""
    before = dict(zip(arguments, copied(arguments.values())), **copy.deepcopy(options))
    result = function.call(*arguments.values(), return_args=True, **options)
    after = dict(zip(arguments, result.args_after), **result.kwargs_after)
    positions = {name: position for position, name in enumerate(arguments)}
    for name, value in before.items():
        if not is_function(value):
            replaced = [path for argument, path in result.replaced if argument in (name, positions.get(name))]
            assert_unchanged(
                comparable(value), comparable(after[name]), function=name_of(function), name=name, replaced=replaced
            )
    assert_new_arrays(result, function, list(arguments), cache=cache)
    return result


def assert_new_arrays(result: Any, function: Any, names: list[str], *, cache: int | None = None) -> None:
    """No documented output of the call behind ``result`` shares memory with an argument: a
    caller that later changes its argument must not change the result. The cache at position
    ``cache`` of the result tuple is opaque and not looked into. The worker reports sharing in the
    order of the result, so a documented output before the cache is never crowded out."""
    opaque = f"[{cache}]" if cache is not None else None
    aliases = [alias for alias in result.aliases if opaque is None or not alias[0].startswith(opaque)]
    if aliases:
        returned, argument, inside = aliases[0]
        where = names[argument] if isinstance(argument, int) and argument < len(names) else str(argument)
        raise CheckFailure(
            f"{name_of(function)} returned an array (result{returned}) that shares memory with its argument "
            f"{where}{inside}: return a new array (e.g. with .copy() or an arithmetic expression), so that "
            "changing the argument later does not change the result.",
            kind="aliased",
        )


def documented(result: Any, cache: int | None) -> Any:
    """The documented outputs of a result: all of it, or for ``(out, cache)`` (``cache`` = 1) ``out``."""
    if cache is None:
        return result
    return parts(result, ("out", "cache"), "the layer")[0]


def assert_values(got: Any, expected: Any, *, what: str) -> None:
    """``got`` agrees with ``expected`` within the contract's accuracy, through dicts, lists and
    tuples: float arrays and floats by value, integer arrays exactly. A list of floats (a training
    history) may also come as a 1-d float array."""
    if isinstance(expected, np.ndarray):
        if np.issubdtype(expected.dtype, np.integer):
            assert_int_array(got, expected, what=what)
        else:
            assert_array(got, expected, what=what)
    elif isinstance(expected, dict):
        assert_structure(got, expected.keys(), what=what)
        for key, value in expected.items():
            assert_values(got[key], value, what=f"{what}[{key!r}]")
    elif isinstance(expected, list) and isinstance(got, np.ndarray):
        assert_array(got, np.array(expected, dtype=np.float64), what=what)
    elif isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            raise CheckFailure(
                f"{what} must be a sequence of {count_items(len(expected), 'item')}; got {describe(got)}."
            )
        for index, (got_item, expected_item) in enumerate(zip(got, expected)):
            assert_values(got_item, expected_item, what=f"{what}[{index}]")
    else:
        assert_scalar(got, expected, what=what)


@dataclass(frozen=True)
class Again:
    """Other arguments of the same shapes for a second call (``arguments``, ``options``), and the
    documented outputs the contract gives for them (``expected``)."""

    arguments: dict[str, Any]
    expected: Any
    options: dict[str, Any] = field(default_factory=dict)


def pure_and_repeatable(
    cases: Cases,
    function: Any,
    arguments: dict[str, Any],
    again: Again | None = None,
    *,
    cache: int | None = None,
    label: str = "",
    **options: Any,
) -> None:
    """Cases: ``function`` leaves its arguments unchanged; repeats its results bitwise; and, with
    ``again``, called next with other values of the same shapes, gives the right outputs for them
    (no result remembered from the call before, e.g. memoised by shape). cache: as for
    ``call_unchanged``; label: put before each case's name. The calls after the first go in one
    round trip."""
    name = name_of(function)
    with cases.case(f"{label}{name}: arguments unchanged"):
        call_unchanged(function, arguments, cache=cache, **options)
    calls = [(tuple(copied(arguments.values())), copy.deepcopy(options)) for _ in range(2)]
    if again is not None:
        calls.append((tuple(copied(again.arguments.values())), copy.deepcopy(again.options)))
    results = Output(function).many(calls)
    with cases.case(f"{label}{name}: repeatable"):
        assert_same_bits(comparable(results[0]), comparable(results[1]), function=name)
    if again is not None:
        with cases.case(f"{label}{name}: no results kept between calls"):
            stale = first_difference(
                comparable(documented(results[2], cache)), comparable(documented(results[0], cache))
            )
            if stale is None:  # a wrong but fresh result is the value tests' business
                try:
                    assert_values(documented(results[2], cache), again.expected, what=f"the result of {name}")
                except CheckFailure as failure:
                    raise remembered_result(name, failure) from None


REMEMBERED = "a result remembered from an earlier call (e.g. memoised by shape) instead of computed"


def remembered_result(name: str, failure: CheckFailure) -> CheckFailure:
    """``failure`` of a call of ``name`` that returned bitwise what the call before (with other
    values of the same shapes) returned, with that as its likely cause."""
    cause = Diagnosis(
        "equals",
        f"called again with other values of the same shapes, {name} returned bitwise what it returned the call "
        f"before: {REMEMBERED}",
        REMEMBERED,
    )
    return CheckFailure(f"{failure}{likely_cause(cause)}", findings=(*failure.findings, Finding("check", cause)))


def assert_no_warnings(result, function: str, inputs: str) -> None:
    """The call behind ``result`` emitted no warning (overflow, division by zero, invalid value)."""
    if result.warnings:
        raise CheckFailure(
            f"{function} emitted {len(result.warnings)} warning(s) for {inputs}, the first: "
            f"{result.warnings[0]}. It must give finite, accurate results there without warnings: never "
            "evaluate exp of a large positive number or the log of 0, not even in a branch of np.where that "
            "is thrown away afterwards (np.where evaluates both branches).",
            kind="warning",
        )


def parts(value: Any, names: tuple[str, ...], function: str) -> tuple:
    """``value`` checked to be a tuple of ``len(names)`` items named ``names``, returned as is."""
    assert_structure(value, names, what=f"the result of {function}")
    return value


@dataclass(frozen=True)
class Output:
    """A value computed from a function's result, as a function of that function's arguments:
    ``output(*args, **kwargs)`` is ``extract(function(*args, *settings, **options, **kwargs))``.
    What gradient checks differentiate; ``many`` evaluates it for many argument sets, with one
    round trip to the worker when ``function`` is a student function."""

    function: Any
    settings: tuple = ()
    options: dict[str, Any] = field(default_factory=dict)
    extract: Callable[[Any], Any] = lambda result: result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.extract(self.function(*args, *self.settings, **self.options, **kwargs))

    def many(self, calls: list[tuple[tuple, dict[str, Any]]]) -> list[Any]:
        """``[output(*args, **kwargs) for args, kwargs in calls]``."""
        calls = [((*args, *self.settings), {**self.options, **kwargs}) for args, kwargs in calls]
        if is_function(self.function):
            results = self.function.map(calls)
        else:
            results = [self.function(*args, **kwargs) for args, kwargs in calls]
        return [self.extract(result) for result in results]


def array_output(function: Any, shape: tuple[int, ...], *settings: Any, **options: Any) -> Output:
    """The result of ``function``, checked to be a finite float64 array of ``shape``."""

    def checked(result: Any) -> np.ndarray:
        assert_array_form(result, what=f"the result of {name_of(function)}", shape=shape)
        return result

    return Output(function, settings, options, checked)


def values_output(function: Any, shape: tuple[int, ...]) -> Output:
    """The result of ``function`` as float64 values: an array of ``shape`` whose bool or integer
    entries (exact in float64) are converted, for checks of another function that only need the
    numbers; the dtype itself is charged to ``function``'s own tests."""

    def converted(result: Any) -> np.ndarray:
        if type(result) is np.ndarray and (result.dtype == np.bool_ or np.issubdtype(result.dtype, np.integer)):
            result = result.astype(np.float64)
        assert_array_form(result, what=f"the result of {name_of(function)}", shape=shape)
        return result

    return Output(function, (), {}, converted)


def array_result(function: Any, *args: Any, shape: tuple[int, ...], **options: Any) -> np.ndarray:
    """Call ``function`` and assert that it returned a finite float64 array of ``shape``."""
    return array_output(function, shape)(*args, **options)


def forward_output(forward: Any, out_shape: tuple[int, ...], *settings: Any, **options: Any) -> Output:
    """The output of a layer forward ``(out, cache)``, checked to be a float64 array of
    ``out_shape``; ``settings`` and ``options`` follow the inputs in every call."""
    function = name_of(forward)

    def out(result: Any) -> np.ndarray:
        value, _ = parts(result, ("out", "cache"), function)
        assert_array_form(value, what=f"out returned by {function}", shape=out_shape)
        return value

    return Output(forward, settings, options, out)


def loss_value(loss: Any, **options: Any) -> Output:
    """The loss of a ``(loss, gradients)`` function."""
    function = name_of(loss)
    return Output(loss, (), options, lambda result: parts(result, ("loss", "gradients"), function)[0])


def assert_history(history: Any, epochs: int) -> None:
    """``history`` is a sequence of ``epochs`` finite floats, as ``train`` returns it: a list or a
    tuple of floats, or a 1-d float64 array."""
    if type(history) is np.ndarray:
        if history.dtype != np.float64 or history.shape != (epochs,):
            raise CheckFailure(
                f"the history returned by train must be a sequence of {epochs} floats (one loss per "
                f"epoch): a list, a tuple or an array of shape ({epochs},) and dtype float64; got "
                f"{describe(history)}."
            )
        history = history.tolist()
    if not isinstance(history, (list, tuple)) or len(history) != epochs:
        raise CheckFailure(
            f"the history returned by train must be a sequence of {epochs} floats (one loss per epoch: "
            f"a list, a tuple or a 1-d float64 array); got {describe(history)}."
        )
    for epoch, loss in enumerate(history):
        if type(loss) not in (float, np.float64) or not np.isfinite(loss):
            raise CheckFailure(
                f"history[{epoch}] returned by train must be a finite float; got {describe(loss)}"
                f"{f' {loss}' if isinstance(loss, float) else ''}."
            )


def batch_sizes(got: Any, what: str) -> list[int]:
    """The sizes of the batches ``got``, checked to be a list of 1-d arrays of signed integers."""
    if not isinstance(got, list):
        raise CheckFailure(f"{what} must return a list of batches (index arrays); got {describe(got)}.")
    for number, batch in enumerate(got):
        if type(batch) is not np.ndarray or batch.ndim != 1 or not np.issubdtype(batch.dtype, np.signedinteger):
            raise CheckFailure(
                f"batch {number} of {what} must be a 1-d numpy array of integer indices (int64); got {describe(batch)}."
            )
    return [len(batch) for batch in got]


def assert_batches(
    got: Any,
    expected: list[np.ndarray],
    what: str,
    show_inputs: dict[str, Any] | None = None,
    orders: dict[str, Callable[[], np.ndarray]] | None = None,
) -> None:
    """``got`` is a list of int index arrays equal to the batches ``expected``. orders: known
    wrong orders of all indices (explanation -> a function giving the int array (n,), as
    ``permutation_mistakes`` gives); a wrong batch is explained by one only when all of ``got``,
    one batch after the other, is that order (computed only then)."""
    if not isinstance(got, list) or len(got) != len(expected):
        raise CheckFailure(f"{what} must return a list of {len(expected)} batches (index arrays); got {describe(got)}.")

    def whole_orders() -> dict[str, np.ndarray]:
        """The orders of ``orders`` that all of ``got`` is, by explanation."""
        batches = [np.asarray(batch) for batch in got]
        if not all(batch.ndim == 1 and batch.dtype.kind in "iu" for batch in batches):
            return {}
        indices = np.concatenate(batches)
        return {text: indices for text, order in (orders or {}).items() if np.array_equal(indices, order())}

    start = 0
    for number, (batch, expected_batch) in enumerate(zip(got, expected)):
        stop = start + len(expected_batch)
        assert_int_array(
            batch,
            expected_batch,
            what=f"batch {number} of {what}",
            show_inputs=show_inputs,
            candidates=lambda start=start, stop=stop: {
                text: order[start:stop] for text, order in whole_orders().items()
            },
        )
        start = stop


def permutation_mistakes(n: int, seed: int) -> dict[str, Callable[[], np.ndarray]]:
    """Known wrong orders of the indices 0 … n−1 for ``minibatch_indices(n, ·, seed)``, whose
    right order is ``np.random.default_rng(seed).permutation(n)``: explanation -> a function
    giving that order (int array (n,))."""
    return {
        "the indices are not shuffled (np.arange(n) in order)": lambda: np.arange(n),
        "the legacy global generator is used (np.random.seed(seed), np.random.permutation(n)) instead of "
        "np.random.default_rng(seed).permutation(n)": lambda: np.random.RandomState(seed).permutation(n),
        "the indices are drawn with replacement (rng.choice(n, n)): some repeat and others never come; "
        "use rng.permutation(n)": lambda: np.random.default_rng(seed).choice(n, n),
        "the seed argument is ignored (a fixed seed is used)": lambda: np.random.default_rng(0).permutation(n),
    }


def repeated_indices(indices: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The candidate explaining sorted batch indices ``indices`` (int array) that should be
    0 … n−1 once each but hold repeats: ``{explanation: indices}``, or {} without repeats."""
    if indices.dtype.kind not in "iu" or not indices.size or indices.min() < 0:
        return {}
    counts = np.bincount(indices, minlength=n)
    if counts.max() <= 1:
        return {}
    text = (
        "some indices occur more than once and others never: the indices are drawn with replacement, "
        "where a permutation holds each exactly once"
    )
    return {text: indices}


def helper_fault(student: Any, run: dict[str, Any]) -> Diagnosis | None:
    """What is wrong with the student's ``sgd_step`` or ``minibatch_indices`` alone, on the
    arguments of a training run ``run`` (train's arguments by name), or None when both are right:
    a ``train`` that fails may owe it to either. The diagnosis' evidence names the helper."""
    params, lr = run["params"], run["lr"]
    grads = {name: np.cos(value) + 0.5 for name, value in params.items()}
    try:
        step = call_unchanged(student.optim.sgd_step, {"params": params, "grads": grads, "lr": lr}).value
        assert_values(
            step,
            {name: value - lr * grads[name] for name, value in params.items()},
            what=f"the result of sgd_step(params, grads, lr = {lr})",
        )
    except (CheckFailure, StudentError) as failure:
        return helper_diagnosis("sgd_step", failure)
    n = len(run["X"])
    for epoch in range(run["epochs"]):
        seed = run["seed"] + epoch
        permutation = np.random.default_rng(seed).permutation(n)
        expected = [permutation[start : start + run["batch_size"]] for start in range(0, n, run["batch_size"])]
        what = f"minibatch_indices({n}, {run['batch_size']}, {seed})"
        try:
            batches = student.optim.minibatch_indices(n, run["batch_size"], seed)
            assert_batches(batches, expected, what, orders=permutation_mistakes(n, seed))
        except (CheckFailure, StudentError) as failure:
            return helper_diagnosis("minibatch_indices", failure)
    return None


def helper_diagnosis(helper: str, failure: Exception) -> Diagnosis:
    """The likely cause of a failing ``train``: its ``helper``, called alone, failed with ``failure``."""
    label = f"your {helper}, which train relies on, is wrong when called alone"
    return Diagnosis("helper", f"{label}: {str(failure).rstrip('.')}", label, {"helper": helper})


@contextlib.contextmanager
def blame_train_helpers(student: Any, run: dict[str, Any] | None) -> Iterator[None]:
    """When a check of ``train`` on the arguments ``run`` fails inside the block, add to its
    message whether the student's ``sgd_step`` or ``minibatch_indices`` alone is at fault
    (``run`` None: nothing to add, e.g. the block checks another function)."""
    try:
        yield
    except CheckFailure as failure:
        fault = helper_fault(student, run) if run is not None else None
        if fault is None:
            raise
        raise CheckFailure(
            f"{failure}{likely_cause(fault)}", findings=(*failure.findings, Finding("check", fault))
        ) from None


# --------------------------------------------------------------------------- gradient checks


Arrangement = Callable[[dict[str, Any]], tuple[tuple, dict[str, Any]]]
"""Turns a point of a gradient check (input name -> value) into the ``(args, kwargs)`` of a call."""


def in_order(inputs: dict[str, Any]) -> Arrangement:
    """The arrangement passing the values of ``inputs``' names positionally, in their order."""
    return lambda point: (tuple(point[name] for name in inputs), {})


def check_output_gradient(
    output: Output, arrange: Arrangement, analytic: Any, inputs: dict[str, Any], upstream: Any, wrt: str, **options: Any
) -> None:
    """``check_gradient`` of ``output`` called with ``arrange(point)`` at each point, every point
    of the check evaluated in one go (``output.many``). Options as for ``check_gradient``."""

    def at(**point: Any) -> Any:
        args, kwargs = arrange(point)
        return output(*args, **kwargs)

    check_gradient(
        at,
        analytic,
        inputs,
        upstream,
        wrt,
        f_many=lambda points: output.many([arrange(point) for point in points]),
        **options,
    )


def check_gradients(
    cases: Cases,
    output: Output,
    grads: dict[str, Any],
    inputs: dict[str, Any],
    upstream: Any,
    *,
    function: str,
    compared_with: str,
    rng: np.random.Generator,
    arrange: Arrangement | None = None,
    kinks: dict[str, tuple[float, ...]] | None = None,
    candidates: dict[str, dict[str, Any]] | None = None,
    label: str = "",
    **options: Any,
) -> None:
    """One case per gradient in ``grads`` (input name -> what ``function`` returned for it):
    check it against central differences of ``output`` (a float64 array, or a loss when
    ``upstream`` is 1.0) called with ``arrange(inputs)`` (default: the inputs in order).
    compared_with: what ``output`` is, for the message ("your own affine_forward", "the exact
    affine layer"). kinks and candidates: per input name. label: put before each case's name.
    Further options go to ``check_gradient``."""
    for name, grad in grads.items():
        with cases.case(f"{label}d{name}"), lead(f"Compared with central differences of {compared_with}:"):
            check_output_gradient(
                output,
                arrange or in_order(inputs),
                grad,
                inputs,
                upstream,
                name,
                what=f"d{name} returned by {function}",
                rng=rng,
                kinks=(kinks or {}).get(name, ()),
                candidates=(candidates or {}).get(name),
                **options,
            )


def layer_gradients(
    forward: Any, backward: Any, inputs: dict[str, Any], upstream: np.ndarray, *settings: Any, **options: Any
) -> dict[str, Any]:
    """The student's gradients for a layer: run ``forward(*inputs, *settings, **options)``, then
    ``backward(upstream, cache)``; return input name -> gradient (``{"x": dx, ...}``)."""
    _, cache = parts(forward(*inputs.values(), *settings, **options), ("out", "cache"), name_of(forward))
    grads = backward(upstream, cache)
    if len(inputs) == 1:
        return {next(iter(inputs)): grads}
    return dict(zip(inputs, parts(grads, tuple(f"d{name}" for name in inputs), name_of(backward))))


def check_layer(
    credit,
    forward: Any,
    backward: Any,
    inputs: dict[str, Any],
    upstream: np.ndarray,
    output: Output,
    *,
    compared_with: str,
    rng: np.random.Generator,
    wrt: Iterable[str] | None = None,
    **options: Any,
) -> None:
    """A test of the student's ``backward`` after their ``forward`` (a batch of len(upstream)
    inputs): the gradients of the inputs in ``wrt`` (default: all) against central differences
    of ``output(*inputs)``, one case each. Options as for ``check_gradients``."""
    grads = layer_gradients(forward, backward, inputs, upstream)
    grads = {name: grads[name] for name in (wrt or inputs)}
    cases = Cases(credit, len(grads))
    check_gradients(
        cases,
        output,
        grads,
        inputs,
        upstream,
        function=name_of(backward),
        compared_with=compared_with,
        rng=rng,
        batch_size=len(upstream),
        **options,
    )
    cases.finish()


def network_gradients(loss: Any, params: dict[str, np.ndarray], *data: Any, **options: Any) -> dict[str, Any]:
    """The gradients dict a network loss ``loss(params, *data)`` returns, checked to have the keys
    of ``params``."""
    _, grads = parts(loss(params, *data, **options), ("loss", "grads"), name_of(loss))
    assert_structure(grads, params.keys(), what=f"grads returned by {name_of(loss)}")
    return grads


def check_parameter_gradients(
    cases: Cases,
    loss: Output,
    data: tuple,
    grads: dict[str, Any],
    params: dict[str, np.ndarray],
    names: Iterable[str],
    **options: Any,
) -> None:
    """One case per parameter in ``names``: its gradient in ``grads`` against central differences
    of ``loss(params, *data)``, the other parameters held fixed. Options as for ``check_gradients``."""
    for name in names:
        check_gradients(
            cases,
            loss,
            {name: grads[name]},
            {name: params[name]},
            1.0,
            arrange=lambda point: ((dict(params, **point), *data), {}),
            **options,
        )


# --------------------------------------------------------------------------- activations

erf = np.vectorize(math.erf, otypes=[np.float64])
"""The error function, entry by entry (numpy has none): float64 array shaped like its argument."""


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = (1 + erf(x/√2)) / 2, the standard normal distribution function, entry by entry."""
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


@dataclass(frozen=True)
class Activation:
    """One activation of the contract: ``name`` and ``name_grad``.

    parameter: its keyword parameter (``theta``, ``slope``, ``alpha``, ``beta``), if it has one
    with a default; stable: whether the contract requires finite, accurate, warning-free results
    for |x| up to 1e4; registry: whether it is a key of ``ACTIVATIONS`` (usable by name in the
    layers); kinked: whether it has a kink (at 0, or at theta for the threshold); revealing:
    intervals where a known wrong formula differs most from the right one (the inputs hold one
    value in each); draw_parameter: draws the parameter away from its default.
    """

    name: str
    parameter: str | None = None
    stable: bool = False
    registry: bool = True
    kinked: bool = False
    revealing: tuple[tuple[float, float], ...] = ()
    draw_parameter: Callable[[np.random.Generator], float] | None = field(default=None, compare=False)

    @property
    def grad(self) -> str:
        return f"{self.name}_grad"

    @property
    def derivative_results(self) -> int:
        """How many arrays the derivative returns: 2 for PReLU (dfdx, dfdalpha), else 1."""
        return 2 if self.name == "prelu" else 1

    def params(self, rng: np.random.Generator, features: int) -> dict[str, Any]:
        """Keyword arguments away from the defaults ({} if there is no parameter); for PReLU,
        one slope per feature of inputs with ``features`` entries along the last axis."""
        if self.name == "prelu":
            return {"alpha": prelu_slopes(rng, features)}
        return {self.parameter: self.draw_parameter(rng)} if self.parameter else {}

    def kinks(self, params: dict[str, Any]) -> tuple[float, ...]:
        """Where the activation with ``params`` is not differentiable."""
        return (float(params.get("theta", 0.0)),) if self.kinked else ()

    def settings(self, rng: np.random.Generator, features: int) -> list[tuple[str, dict[str, Any]]]:
        """(label, keyword arguments) of the calls a value test makes: the defaults and a value
        away from them; for PReLU a scalar slope and one slope per feature."""
        if self.name == "prelu":
            return [
                ("scalar alpha", {"alpha": float(rng.uniform(0.05, 0.95))}),
                ("one alpha per feature", {"alpha": prelu_slopes(rng, features)}),
            ]
        settings = [("default parameters", {})]
        if self.parameter:
            params = self.params(rng, features)
            settings.append((describe_params(params), params))
        return settings


def away_from_one(rng: np.random.Generator) -> float:
    """A positive parameter whose default is 1, drawn far from 1 (below or above)."""
    return float(rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.5, 3.0)]))


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation(
            "threshold",
            "theta",
            registry=False,
            kinked=True,
            draw_parameter=lambda rng: float(rng.choice([-1, 1]) * rng.uniform(0.2, 1.0)),
        ),
        Activation("sigmoid", stable=True),
        Activation("tanh", stable=True),
        Activation("relu", kinked=True),
        Activation("leaky_relu", "slope", kinked=True, draw_parameter=lambda rng: float(rng.uniform(0.15, 0.9))),
        Activation("prelu", registry=False, kinked=True),
        Activation("elu", "alpha", stable=True, kinked=True, draw_parameter=away_from_one),
        Activation("swish", "beta", stable=True, draw_parameter=away_from_one),
        Activation("gelu", stable=True, revealing=((-2.9, -2.5), (1.8, 2.2))),
    )
}
"""The activations by name, in the order of the contract."""

REGISTRY = [a for a in ACTIVATIONS.values() if a.registry]
"""The activations of the ``ACTIVATIONS`` registry, usable by name in the layers and networks."""
FUNCTIONS = [name for a in ACTIVATIONS.values() for name in (a.name, a.grad)]
"""Every function of activations.py: each forward, then its derivative."""
DERIVATIVES = [a.grad for a in ACTIVATIONS.values()]
STABLE = [name for a in ACTIVATIONS.values() if a.stable for name in (a.name, a.grad)]


def plain_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^-x), evaluated literally."""
    return 1.0 / (1.0 + np.exp(-x))


FORMULAS = {
    "threshold": lambda x, theta=0.0: np.where(x > theta, 1.0, 0.0),
    "threshold_grad": lambda x, theta=0.0: np.zeros_like(x),
    "sigmoid": plain_sigmoid,
    "sigmoid_grad": lambda x: plain_sigmoid(x) * (1.0 - plain_sigmoid(x)),
    "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "tanh_grad": lambda x: 1.0 - np.tanh(x) ** 2,
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "relu_grad": lambda x: np.where(x > 0, 1.0, 0.0),
    "leaky_relu": lambda x, slope=0.01: np.where(x > 0, x, slope * x),
    "leaky_relu_grad": lambda x, slope=0.01: np.where(x > 0, 1.0, slope),
    "prelu": lambda x, alpha: np.where(x > 0, x, alpha * x),
    "prelu_grad": lambda x, alpha: (np.where(x > 0, 1.0, alpha * np.ones_like(x)), np.where(x > 0, 0.0, x)),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1.0)),
    "elu_grad": lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)),
    "swish": lambda x, beta=1.0: x * plain_sigmoid(beta * x),
    "swish_grad": lambda x, beta=1.0: plain_sigmoid(beta * x) * (1.0 + beta * x * (1.0 - plain_sigmoid(beta * x))),
    "gelu": lambda x: x * normal_cdf(x),
    "gelu_grad": lambda x: normal_cdf(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi),
}
"""The contract's table, evaluated the plain way (fine for moderate inputs, not for |x| near 1e4)."""
CONTRACT = SimpleNamespace(**FORMULAS, ACTIVATIONS={a.name: (FORMULAS[a.name], FORMULAS[a.grad]) for a in REGISTRY})
"""The formulas as a module of functions with its registry, like the reference activations."""


def activation_of(function: str) -> Activation:
    """The activation of a function of activations.py (``sigmoid_grad`` -> sigmoid)."""
    return ACTIVATIONS[function.removesuffix("_grad")]


def describe_params(params: dict[str, Any]) -> str:
    """``slope = 0.25`` or ``default parameters``, for messages."""
    return ", ".join(f"{key} = {np.round(value, 4)}" for key, value in params.items()) or "default parameters"


def prelu_slopes(rng: np.random.Generator, units: int) -> np.ndarray:
    """One PReLU slope per unit, in (0, 1)."""
    return rng.uniform(0.05, 0.95, size=units)


def activation_input(
    rng: np.random.Generator, shape: tuple[int, ...], activation: Activation, params: dict[str, Any]
) -> np.ndarray:
    """Values in [-4, 4] at least 1e-3 away from the activation's kinks, both sides of each kink
    present, and one value in each of its revealing intervals."""
    x = sampling.away_from_kinks(rng, shape, activation.kinks(params), low=-4.0, high=4.0)
    flat = x.reshape(-1)
    positions = rng.choice(flat.size, len(activation.revealing), replace=False)
    for position, (low, high) in zip(positions, activation.revealing):
        flat[position] = rng.uniform(low, high)
    return x


def check_derivative(
    cases: Cases,
    forward: Output,
    activation: Activation,
    x: np.ndarray,
    params: dict[str, Any],
    derivative: Any,
    *,
    compared_with: str,
    rng: np.random.Generator,
    candidates: tuple[dict[str, Any], ...] = ({}, {}),
    known: dict[str, Any] | None = None,
) -> None:
    """Check what ``<activation>_grad(x, **params)`` returned (``derivative``) against central
    differences of ``forward(x, **params)``, one case per result: f'(x), or for PReLU ∂f/∂x and
    ∂f/∂alpha (with one slope per entry, the derivative along a slope is the elementwise
    ∂f/∂alpha). The upstream is 1: the Jacobian of an elementwise function is diagonal, so the
    numerical gradient of sum(f) is f' itself. candidates: per result; known: values ∂f/∂x must
    not simply be (``known_values``)."""
    name = activation.grad
    if activation.name == "prelu":
        results = dict(zip(("x", "alpha"), parts(derivative, ("dfdx", "dfdalpha"), name)))
        params = {"alpha": np.broadcast_to(params["alpha"], x.shape).copy()}
        whats = {"x": f"dfdx returned by {name}", "alpha": f"dfdalpha returned by {name}"}
    else:
        results, whats = {"x": derivative}, {"x": f"{name}(x)"}
    inputs = {"x": x, **params}
    for (wrt, result), mistakes in zip(results.items(), candidates):
        with cases.case(whats[wrt]), lead(f"Compared with central differences of {compared_with}:"):
            check_output_gradient(
                forward,
                x_then_parameters,
                result,
                inputs,
                np.ones(x.shape),
                wrt,
                what=whats[wrt],
                rng=rng,
                kinks=activation.kinks(params) if wrt == "x" else (),
                candidates=mistakes,
                known=known if wrt == "x" else None,
            )


def x_then_parameters(point: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """An activation's call: ``x`` positional, its parameter by keyword."""
    return (point["x"],), {name: value for name, value in point.items() if name != "x"}


def tanh_approximate_gelu(x: np.ndarray) -> np.ndarray:
    """The tanh approximation of GELU (a different function from the contract's exact GELU)."""
    inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def tanh_approximate_gelu_grad(x: np.ndarray) -> np.ndarray:
    """The derivative of ``tanh_approximate_gelu``."""
    inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    slope = np.sqrt(2.0 / np.pi) * (1.0 + 3 * 0.044715 * x**2)
    return 0.5 * (1.0 + np.tanh(inner)) + 0.5 * x * (1.0 - np.tanh(inner) ** 2) * slope


def known_mistakes(function: str, x: np.ndarray, params: dict[str, Any], ref: Any) -> tuple[dict[str, Any], ...]:
    """Explanation -> the wrong value that mistake gives, for each result of the activation
    function ``function`` at x (a tuple of one dict, two for prelu_grad). ref: right activation
    functions by name (the reference module, or the contract's formulas)."""
    sigma = ref.sigmoid
    beta = params.get("beta", 1.0)
    mistakes = {
        "threshold": lambda: {"theta is ignored (x is compared with 0)": ref.threshold(x)},
        "sigmoid": lambda: {"the sign of the exponent is flipped: 1 / (1 + e^x) = σ(−x)": sigma(-x)},
        "sigmoid_grad": lambda: {
            "the derivative is evaluated at the output σ(x) instead of the input x": ref.sigmoid_grad(sigma(x)),
            "the formula s·(1 − s), meant for the output s = σ(x), is applied to the input x": x * (1.0 - x),
            "the factor (1 − σ(x)) is missing: σ'(x) = σ(x)·(1 − σ(x))": sigma(x),
            "the factor σ(x) is missing: σ'(x) = σ(x)·(1 − σ(x))": 1.0 - sigma(x),
            "a minus became a plus: σ(x)·(1 + σ(x)) instead of σ(x)·(1 − σ(x))": sigma(x) * (1.0 + sigma(x)),
        },
        "tanh_grad": lambda: {
            "the derivative is evaluated at the output tanh(x) instead of the input x": ref.tanh_grad(ref.tanh(x)),
            "the formula 1 − t², meant for the output t = tanh(x), is applied to the input x": 1.0 - x**2,
            "the square is missing: 1 − tanh(x) instead of 1 − tanh²(x)": 1.0 - ref.tanh(x),
            "the 1 − is missing: tanh²(x) instead of 1 − tanh²(x)": ref.tanh(x) ** 2,
            "a minus became a plus: 1 + tanh²(x) instead of 1 − tanh²(x)": 1.0 + ref.tanh(x) ** 2,
        },
        "leaky_relu_grad": lambda: {
            "the slope argument is ignored (the default 0.01 is used)": ref.leaky_relu_grad(x),
            "1 and the slope are on the wrong sides of 0": np.where(x > 0, params.get("slope", 0.01), 1.0),
        },
        "leaky_relu": lambda: {"the slope argument is ignored (the default 0.01 is used)": ref.leaky_relu(x)},
        "prelu": lambda: {
            "the branches are swapped (alpha·x where x > 0, x elsewhere)": np.where(x > 0, params["alpha"] * x, x)
        },
        "elu": lambda: {"alpha is ignored (the default 1 is used)": ref.elu(x)},
        "elu_grad": lambda: {
            "alpha is ignored (the default 1 is used)": ref.elu_grad(x),
            "the negative branch is the forward's α(eˣ − 1), not its derivative αeˣ": np.where(
                x > 0, 1.0, params.get("alpha", 1.0) * (np.exp(x) - 1.0)
            ),
            "the branches are swapped (αeˣ where x > 0, 1 elsewhere)": np.where(
                x > 0, params.get("alpha", 1.0) * np.exp(x), 1.0
            ),
        },
        "swish": lambda: {"beta is ignored (the default 1 is used)": ref.swish(x)},
        "swish_grad": lambda: {
            "beta is ignored (the default 1 is used)": ref.swish_grad(x),
            "the chain-rule factor beta of σ(beta·x) is missing: σ(βx) + x·σ(βx)(1 − σ(βx))": sigma(beta * x)
            * (1.0 + x * sigma(-beta * x)),
            "the product rule is dropped: only σ(βx), the term x·βσ(βx)(1 − σ(βx)) is missing": sigma(beta * x),
            "the product rule is dropped: only x·βσ(βx)(1 − σ(βx)), the term σ(βx) is missing": beta
            * x
            * sigma(beta * x)
            * sigma(-beta * x),
        },
        "gelu": lambda: {
            "the tanh approximation of GELU is used; the contract asks for the exact x·Φ(x) through erf": tanh_approximate_gelu(
                x
            ),
            "Φ(x) is computed as (1 + erf(x))/2 instead of (1 + erf(x/√2))/2": 0.5 * x * (1.0 + erf(x)),
        },
        "gelu_grad": lambda: {
            "the x·φ(x) term of the product rule is missing (only Φ(x) is returned)": normal_cdf(x),
            "the Φ(x) term of the product rule is missing (only x·φ(x) is returned)": x
            * np.exp(-0.5 * x * x)
            / np.sqrt(2.0 * np.pi),
            "the density φ(x) lacks its normaliser 1/√(2π): Φ(x) + x·e^(−x²/2)": normal_cdf(x)
            + x * np.exp(-0.5 * x * x),
            "the derivative of the tanh approximation of GELU is used, not of the exact x·Φ(x)": tanh_approximate_gelu_grad(
                x
            ),
        },
        "prelu_grad": lambda: (
            {"dfdx uses 1 and alpha on the wrong sides of 0": np.where(x > 0, params["alpha"] * np.ones_like(x), 1.0)},
            {"the branches of dfdalpha are swapped (x where x > 0, 0 elsewhere)": np.where(x > 0, x, 0.0)},
        ),
    }
    found = mistakes.get(function, dict)()
    return found if isinstance(found, tuple) else (found,)


def known_values(function: str, x: np.ndarray, params: dict[str, Any], ref: Any) -> dict[str, Any]:
    """Values a result of ``function`` (a function of activations.py) at x must not simply be:
    for a derivative, the forward's value (returned in place of the derivative); for a forward,
    its input x. ref: as for ``known_mistakes``."""
    activation = activation_of(function)
    if function == activation.grad:
        forward = getattr(ref, activation.name)
        return {f"the forward {activation.name}(x), not its derivative": lambda: forward(x, **params)}
    return {"the input x unchanged": x}


def assert_activation_result(
    got: Any, expected: Any, function: str, x: np.ndarray, params: dict[str, Any], ref: Any, **options: Any
) -> None:
    """Compare what ``function(x, **params)`` returned with ``expected`` (a pair for prelu_grad),
    diagnosing with ``known_mistakes``, ``known_values`` (ref: as there) and, for ∂f/∂x, the
    branches on either side of the activation's kinks. Options go to ``assert_array``."""
    activation = activation_of(function)
    mistakes = known_mistakes(function, x, params, ref)
    if function == "prelu_grad":
        for name, got_part, expected_part, candidates in zip(
            ("dfdx", "dfdalpha"), parts(got, ("dfdx", "dfdalpha"), function), expected, mistakes
        ):
            assert_array(
                got_part,
                expected_part,
                what=f"{name} returned by prelu_grad",
                candidates=candidates,
                argument=x,
                kinks=activation.kinks(params),
                **options,
            )
    else:
        assert_array(
            got,
            expected,
            what=f"{function}(x)",
            candidates=mistakes[0],
            known=known_values(function, x, params, ref),
            argument=x,
            kinks=activation.kinks(params),
            **options,
        )


def wrong_branch_at_kink(wrong: np.ndarray, variable: str = "x", kink: float = 0.0) -> dict[str, np.ndarray]:
    """The candidate explaining ``wrong``, the value a function gives when its ``variable > kink``
    branch is taken at the kink (e.g. through a mask ``x >= 0``)."""
    return {
        f"at the kink {variable} = {kink:g} the {variable} > {kink:g} branch was used (e.g. a mask "
        f"{variable} >= {kink:g}); by the course's convention the {variable} <= {kink:g} branch applies there": wrong
    }


EXTREME_POINTS = np.array([-1e4, -800.0, -710.0, -40.0, -1.5, 0.7, 40.0, 710.0, 800.0, 1e4])
"""Inputs where naive formulas overflow (|x| > 709), lose all digits (|x| ~ 40) or are fine."""


# --------------------------------------------------------------------------- layers and losses


def affine_mistakes(units: int) -> dict[str, dict[str, np.ndarray]]:
    """Known wrong gradients of an affine layer with ``units`` outputs, by input name."""
    return {
        "b": {
            "db is the local derivative ∂out/∂b = 1 instead of the upstream gradient summed over the batch": np.ones(
                units
            )
        }
    }


def activation_layer_mistakes(
    ref: Any, name: str, z: np.ndarray, upstream: np.ndarray, params: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Known wrong dz of an activation layer; ref: right activations with their ``ACTIVATIONS``
    registry (the reference module, or ``CONTRACT``)."""
    forward, derivative = ref.ACTIVATIONS[name]
    mistakes = {
        "the derivative is evaluated at the layer's output h = f(z) instead of its input z (the forward "
        "caches h instead of z)": upstream * derivative(forward(z, **params), **params),
    }
    if params:
        mistakes[
            "the activation's parameters are not passed on to its derivative in the backward pass (the default is used)"
        ] = upstream * derivative(z)
    return mistakes


def affine_inputs(rng: np.random.Generator, n: int, d: int, m: int) -> dict[str, np.ndarray]:
    """x (N, D), W (M, D), b (M,) of an affine layer."""
    return {"x": sampling.normal(rng, (n, d)), "W": sampling.normal(rng, (m, d)), "b": sampling.normal(rng, m)}


def prelu_inputs(rng: np.random.Generator, n: int, m: int) -> dict[str, np.ndarray]:
    """z (N, M) away from the kink and alpha (M,) of a PReLU layer."""
    return {"z": sampling.away_from_kinks(rng, (n, m)), "alpha": prelu_slopes(rng, m)}


def bce_inputs(rng: np.random.Generator, label_dtype: Any = np.int64, n: int = 6) -> dict[str, np.ndarray]:
    """scores (N,) and labels y (N,) of both values for ``sigmoid_bce_loss``."""
    labels = rng.permutation(np.arange(n) % 2).astype(label_dtype)
    return {"scores": sampling.normal(rng, n, scale=2.0), "y": labels}


def bce_mistakes(scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Known wrong losses of sigmoid_bce_loss."""
    losses_of_ones = np.logaddexp(0.0, -scores)
    return {
        "the (1 − y)·log(1 − σ(s)) term is missing: examples with label 0 cost nothing": float(
            np.mean(y * losses_of_ones)
        )
    }


MISSING_ONE_HOT = "the 1 of the true class is not subtracted (dscores = softmax(scores) / N)"
"""The likely cause of dscores of a softmax cross-entropy that equal the probabilities over N."""


SOFTMAX_OVER_BATCH = "the softmax is normalised over the batch (axis 0) instead of over the classes (axis 1)"


def softmax_over_batch(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The ``(loss, dscores)`` of a softmax cross-entropy whose softmax runs down the columns
    (axis 0) of scores (N, C): what ``SOFTMAX_OVER_BATCH`` describes."""
    n = len(y)
    log_probs = scores - np.logaddexp.reduce(scores, axis=0, keepdims=True)
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    return float(-np.mean(log_probs[np.arange(n), y])), dscores / n


def softmax_inputs(rng: np.random.Generator, n: int = 5, classes: int = 3) -> dict[str, np.ndarray]:
    """scores (N, C) and class ids y (N,) for ``softmax_cross_entropy_loss``."""
    return {"scores": sampling.normal(rng, (n, classes), scale=2.0), "y": rng.integers(0, classes, n)}


# --------------------------------------------------------------------------- networks


def hidden_pre_activations(params: dict[str, np.ndarray], X: np.ndarray) -> list[np.ndarray]:
    """The pre-activations z of the hidden layers of a ReLU MLP (params W1, b1, …, WL, bL)."""
    layers = len(params) // 2
    hidden, found = X, []
    for layer in range(1, layers):
        z = hidden @ params[f"W{layer}"].T + params[f"b{layer}"]
        found.append(z)
        hidden = np.maximum(z, 0.0)
    return found


@dataclass(frozen=True)
class MlpProblem:
    """Parameters and a batch for ``mlp_loss``: ``params`` (W1, b1, …), ``X`` (N, D), ``y`` (N,)."""

    params: dict[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray


KINK_MARGIN = 1e-3  # far above the step of the gradient checks, so no difference straddles a kink


def mlp_problem(rng: np.random.Generator, layer_sizes: tuple[int, ...], batch: int) -> MlpProblem:
    """An MLP with ``layer_sizes`` (D, hidden…, C) and a batch of ``batch`` examples whose hidden
    pre-activations all stay ``KINK_MARGIN`` away from 0 (the ReLU kink), and whose labels
    cover more than one class."""
    for _ in range(sampling.MAX_REJECTION_ROUNDS):
        params = {}
        for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
            params[f"W{layer}"] = sampling.normal(rng, (n_out, n_in), scale=1.0 / np.sqrt(n_in))
            params[f"b{layer}"] = sampling.normal(rng, n_out, scale=0.5)
        X = sampling.normal(rng, (batch, layer_sizes[0]))
        y = rng.integers(0, layer_sizes[-1], size=batch, dtype=np.int64)
        clear = all(np.all(np.abs(z) >= KINK_MARGIN) for z in hidden_pre_activations(params, X))
        if clear and len(np.unique(y)) > 1:
            return MlpProblem(params, X, y)
    raise RuntimeError("could not draw an MLP problem away from the ReLU kinks")


@dataclass(frozen=True)
class WindowProblem:
    """Parameters and a batch for ``window_classifier_loss``: ``params`` (E, W, b, u), ``windows``
    (N, C) int64 with repeated ids within and across windows, ``labels`` (N,) of both values."""

    params: dict[str, np.ndarray]
    windows: np.ndarray
    labels: np.ndarray


def window_problem(rng: np.random.Generator, label_dtype: Any = np.int64) -> WindowProblem:
    """A small window classifier: vocabulary V = 7, word vectors of size d = 2, windows of C = 3
    words, H = 4 hidden units and N = 5 windows."""
    vocab, dim, window, hidden, batch = 7, 2, 3, 4, 5
    params = {
        "E": sampling.normal(rng, (vocab, dim)),
        "W": sampling.normal(rng, (hidden, window * dim), scale=1.0 / np.sqrt(window * dim)),
        "b": sampling.normal(rng, hidden, scale=0.5),
        "u": sampling.normal(rng, hidden),
    }
    windows = sampling.integer_ids(rng, (batch, window), vocab)
    labels = rng.permutation(np.arange(batch) % 2).astype(label_dtype)
    return WindowProblem(params, windows, labels)


REPEATED_IDS_IGNORED = (
    "a word that occurs more than once in the batch gets the gradient of only one of its "
    "occurrences: dE[windows] += ... (fancy-index +=) keeps one of the repeated ids; accumulate "
    "with np.add.at(dE, windows, ...) or a loop"
)


def repeated_ids_ignored(loss: Callable[..., Any], problem: WindowProblem) -> dict[str, dict[str, np.ndarray]]:
    """The candidate explaining a dE computed with ``dE[windows] += dx``, from the gradients
    ``loss`` (a window-classifier loss) computes when every occurrence of a word has a row of E of
    its own: ``{"E": {REPEATED_IDS_IGNORED: that dE}}``."""
    windows = problem.windows
    occurrences = np.arange(windows.size, dtype=np.int64).reshape(windows.shape)
    own_rows = dict(problem.params, E=problem.params["E"][windows.reshape(-1)])
    grads = network_gradients(loss, own_rows, occurrences, problem.labels)
    assert_array_form(grads["E"], what=f"dE returned by {name_of(loss)}", shape=own_rows["E"].shape)
    wrong = np.zeros_like(problem.params["E"])
    wrong[windows.reshape(-1)] = grads["E"]  # the last occurrence of each id wins, as with +=
    return {"E": {REPEATED_IDS_IGNORED: wrong}}


# --------------------------------------------------------------------------- gradient checking


def relative_error_mistakes(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Known wrong values of ``relative_error(a, b)``."""
    elementwise = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return {
        "the elementwise relative errors are summed instead of taking their maximum": float(np.sum(elementwise)),
        "the norms of the whole arrays are compared (‖a − b‖ / (‖a‖ + ‖b‖)) instead of the largest elementwise "
        "relative error": float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b))),
    }


def forward_differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> dict[str, np.ndarray]:
    """The candidate explaining a numerical gradient of ``f`` at x by forward differences."""
    steps = np.eye(x.size).reshape(x.size, *x.shape)
    one_sided = np.array([(f(x + h * step) - f(x)) / h for step in steps]).reshape(x.shape)
    return {"forward differences (f(x + h·e_i) − f(x)) / h are used instead of central differences": one_sided}


def not_round_tripping(rng: np.random.Generator, shape: tuple[int, ...], h: float) -> np.ndarray:
    """Values in [-3, 3] that undoing a central difference's steps by arithmetic does not give
    back in float64 (``((x + h) - 2h) + h != x``), so a numerical gradient that does not restore
    the saved values leaves a trace."""
    values = np.empty(0)
    size = int(np.prod(shape))
    for _ in range(sampling.MAX_REJECTION_ROUNDS):
        draws = rng.uniform(-3.0, 3.0, size=2 * size)
        values = np.concatenate([values, draws[((draws + h) - 2 * h) + h != draws]])
        if values.size >= size:
            return values[:size].reshape(shape)
    raise RuntimeError("could not draw values that do not round-trip")
