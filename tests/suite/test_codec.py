"""The wire format: round trips of every plain value, handles for the rest, and a decoder that
refuses anything malformed."""

from __future__ import annotations

import json
import math
import os
import random
import struct

import numpy as np
import pytest

from autograder.suite.codec import (
    DTYPES,
    MAX_DEPTH,
    CodecError,
    FunctionRef,
    Handle,
    HandleTracker,
    MessageReader,
    convert,
    decode,
    encode,
    encode_bytes,
    plain_kind,
    read_message,
    reference_or_reject,
    write_message,
)
from autograder.suite.runtime import HandleTable


def round_trip(value, **options):
    return decode(encode_bytes(value, **options))


def message(header, payload=b""):
    """A hand-made message: prefix, JSON header, payload."""
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<IQ", len(text), len(payload)) + text + payload


def assert_same(got, expected):
    """Equal, of the same exact types all the way down (nan equal to nan)."""
    assert type(got) is type(expected)
    if isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert_same(a, b)
    elif isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            assert_same(got[key], expected[key])
    elif isinstance(expected, np.ndarray):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected
        if isinstance(expected, float):
            assert math.copysign(1, got) == math.copysign(1, expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**80,
        -(2**70),
        0.0,
        -0.0,
        1.5,
        1e-310,
        1e308,
        math.inf,
        -math.inf,
        math.nan,
        "",
        'héllo \n"quoted" \\ \u2603',
        [],
        (),
        {},
        [1, [2, (3, {"a": None})]],
        (1,),
        ((),),
        {"W": 1.0, "nested": {"b": [True, "x"]}, "": 0},
        FunctionRef("network", "mlp_loss"),
        Handle(3, "function", 2, "a closure"),
    ],
)
def test_plain_python_values_round_trip_with_exact_types(value):
    assert_same(round_trip(value), value)


def test_tuple_and_list_stay_distinct():
    got = round_trip([(1, 2), [1, 2], ([],)])
    assert type(got[0]) is tuple and type(got[1]) is list and type(got[2][0]) is list


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (0, 4), (2, 1, 3)])
def test_arrays_of_every_dtype_and_shape_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    got = round_trip(array)
    assert_same(got, array)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_numpy_scalars_come_back_as_the_same_scalar_type(dtype):
    scalar = np.dtype(dtype).type(3)
    got = round_trip({"s": scalar})["s"]
    assert type(got) is type(scalar) and got == scalar


def test_special_float_values_survive_in_arrays_and_scalars():
    array = np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324])
    got = round_trip((array, np.float32(np.nan), np.complex128(complex(np.inf, -0.0))))
    np.testing.assert_array_equal(got[0], array)
    assert np.signbit(got[0][3])
    assert np.isnan(got[1]) and type(got[1]) is np.float32
    assert got[2].real == np.inf and np.signbit(got[2].imag)


def test_non_contiguous_and_fortran_arrays_arrive_as_c_ordered_copies():
    base = np.arange(24.0).reshape(4, 6)
    for array in (base[:, ::2], base.T, np.asfortranarray(base), base[::-1]):
        got = round_trip(array)
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, array)


def test_decoded_arrays_are_fresh_and_writable():
    data = bytearray(encode_bytes([np.arange(4.0), np.arange(3)]))
    first, second = decode(data)
    first[:] = -1
    second += 100
    assert first.flags.writeable and first.flags.owndata and second.flags.owndata
    assert decode(data)[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    data[-1] = 0xFF  # changing the message afterwards changes nothing decoded earlier
    assert second.tolist() == [100, 101, 102]


class MyArray(np.ndarray):
    pass


class Custom:
    pass


@pytest.mark.parametrize(
    ("value", "type_name", "note"),
    [
        (np.zeros(3).view(MyArray), "MyArray", "an ndarray subclass"),
        (np.array([1, "a"], dtype=object), "ndarray[object]", "a numpy array of dtype object, not a numeric one"),
        (np.array(["ab"]), "ndarray[<U2]", "a numpy array of dtype <U2, not a numeric one"),
        (np.zeros(2, dtype=[("a", "<i8")]), "ndarray[[('a', '<i8')]]", ""),
        (np.zeros(2, dtype=">f8"), "ndarray[>f8]", ""),
        (np.zeros(2, dtype=np.longdouble), "ndarray[float128]", ""),
        (np.ma.masked_array([1.0]), "MaskedArray", "an ndarray subclass"),
        ({1, 2}, "set", ""),
        ({1: "a"}, "dict", "a dict whose keys are not all strings"),
        (b"bytes", "bytes", ""),
        (1 + 2j, "complex", ""),
        (Custom(), "Custom", ""),
        ((x for x in ()), "generator", ""),
        (lambda: 1, "function", ""),
        (np.str_("s"), "numpy.str_", "a numpy scalar of dtype <U1, not a numeric one"),
        (np.longdouble(1), "numpy.longdouble", "a numpy scalar of dtype float128, not a numeric one"),
        (int, "type", ""),
    ],
)
def test_values_that_are_not_plain_become_handles_with_their_type_name(value, type_name, note):
    table = HandleTable(generation=4)
    got = round_trip([value], fallback=table.store)[0]
    assert type(got) is Handle and got.generation == 4
    assert got.type_name == type_name
    if note:
        assert got.note == note
    assert table.resolve(got) is value


def test_handle_describes_the_object_for_messages():
    table = HandleTable(1)
    assert table.store(np.zeros(2).view(MyArray)).describe() == "a MyArray (an ndarray subclass)"
    assert table.store({3}).describe() == "a set"
    assert table.store(np.array([None])).describe().startswith("an ndarray[object] (a numpy array of dtype object")


def test_the_same_object_gets_the_same_handle_and_released_ones_are_forgotten():
    table = HandleTable(1)
    thing = {1}
    first, second = table.store(thing), table.store(thing)
    assert first == second and table.store({2}).id != first.id
    table.release([first.id])
    with pytest.raises(Exception, match="no longer exists"):
        table.resolve(first)


def test_a_nested_mix_of_plain_and_other_values():
    table = HandleTable(1)

    def cache():
        return 0

    value = (np.ones((2, 2)), {"cache": cache, "n": np.int64(3)}, [{1}])
    got = round_trip(value, fallback=table.store)
    np.testing.assert_array_equal(got[0], np.ones((2, 2)))
    assert type(got[1]["n"]) is np.int64
    assert table.resolve(got[1]["cache"]) is cache
    assert got[2][0].type_name == "set"


def test_the_grader_side_refuses_values_that_are_not_plain():
    with pytest.raises(TypeError, match="cannot pass a set to student code"):
        encode({"x": {1, 2}})
    with pytest.raises(TypeError, match="MyArray"):
        encode(np.zeros(2).view(MyArray))


def test_objects_with_a_function_ref_cross_as_that_reference():
    class Proxy:
        ref = FunctionRef("network", "loss")

    assert round_trip([Proxy()]) == [FunctionRef("network", "loss")]
    assert reference_or_reject(Proxy()) == FunctionRef("network", "loss")


def test_a_fallback_must_return_a_reference():
    with pytest.raises(TypeError, match="fallback returned a str"):
        encode({1}, fallback=lambda value: "not a reference")


def test_resolvers_replace_handles_and_function_refs():
    got = decode(
        encode_bytes([Handle(1, "x", 1), FunctionRef("m", "f")]),
        resolve_handle=lambda handle: ("object", handle.id),
        resolve_function=lambda ref: f"function {ref}",
    )
    assert got == [("object", 1), "function m.f"]


def test_encoding_refuses_too_deep_too_large_and_self_containing_values():
    deep = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(CodecError, match="nested more than"):
        encode(deep)
    loop = []
    loop.append(loop)
    with pytest.raises(CodecError, match="nested more than"):
        encode(loop)
    with pytest.raises(CodecError, match="more than"):
        encode(np.zeros(1000), max_bytes=4000)
    with pytest.raises(CodecError, match="more than the limit"):
        encode("x" * 5000, max_bytes=4000)
    with pytest.raises(CodecError, match="cannot be encoded"):
        encode(10**5000)


def test_plain_kind_classifies_by_exact_type():
    assert plain_kind(np.float64(1)) == "scalar" and plain_kind(1.0) == "float"
    assert plain_kind(True) == "bool" and plain_kind(np.bool_(True)) == "scalar"
    assert plain_kind(np.zeros(1).view(MyArray)) is None
    assert plain_kind({1: 2}) is None and plain_kind({"a": {1}}) == "dict"


# ------------------------------------------------------------------ the strict decoder


@pytest.mark.parametrize(
    ("header", "payload", "error"),
    [
        ({"x": 1}, b"", "unexpected node"),
        ({"t": [], "d": {}}, b"", "unexpected node"),
        ({"t": {}}, b"", "unexpected node"),
        ({"a": ["object", [1]]}, b"\0" * 8, "not allowed"),
        ({"a": ["float128", [1]]}, b"\0" * 16, "not allowed"),
        ({"a": [">f8", [1]]}, b"\0" * 8, "not allowed"),
        ({"a": ["float64", [2]]}, b"\0" * 8, "larger than the data"),
        ({"a": ["float64", [1]]}, b"\0" * 9, "not used"),
        ({"a": ["float64", [-1]]}, b"", "invalid array shape"),
        ({"a": ["float64", [1.0]]}, b"\0" * 8, "invalid array shape"),
        ({"a": ["float64", [True]]}, b"\0" * 8, "invalid array shape"),
        ({"a": ["float64", [0, 2**70]]}, b"", "invalid array shape"),
        ({"a": ["float64", [1] * 40]}, b"\0" * 8, "invalid array shape"),
        ({"a": ["float64", 3]}, b"\0" * 24, "unexpected node"),
        ({"s": "int64"}, b"\0" * 4, "larger than the data"),
        ({"s": ["int64"]}, b"\0" * 8, "not allowed"),
        ({"F": ["m"]}, b"", "unexpected node"),
        ({"F": ["", "f"]}, b"", "unexpected node"),
        ({"H": [-1, "x", 1, ""]}, b"", "unexpected node"),
        ({"H": [1, "x", 1]}, b"", "unexpected node"),
        ({"H": [True, "x", 1, ""]}, b"", "unexpected node"),
        (b"[1, 2", b"", "not valid JSON"),
        (b"\xff\xfe", b"", "not valid JSON"),
        (b'"\\ud800"', b"", "invalid unicode"),
        (b'{"d": {"\\udc00": 1}}', b"", "invalid unicode"),
        (b"1" * 5000, b"", "not valid JSON"),
    ],
)
def test_decoder_rejects_malformed_messages(header, payload, error):
    with pytest.raises(CodecError, match=error):
        decode(message(header, payload))


def test_decoder_rejects_wrong_lengths_and_too_deep_nesting():
    good = encode_bytes([np.arange(3.0), "x"])
    with pytest.raises(CodecError, match="announces"):
        decode(good[:-1])
    with pytest.raises(CodecError, match="announces"):
        decode(good + b"\0")
    with pytest.raises(CodecError, match="shorter than its prefix"):
        decode(good[:5])
    with pytest.raises(CodecError, match="nested"):
        decode(message(b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2)))
    with pytest.raises(CodecError):
        decode(message(b"[" * 100_000 + b"]" * 100_000))


def test_decoder_refuses_a_message_over_the_callers_limit():
    data = encode_bytes(np.zeros(100))
    assert decode(data, max_bytes=len(data)).shape == (100,)
    with pytest.raises(CodecError, match="exceeds the limit"):
        decode(data, max_bytes=len(data) - 1)


def test_fuzzed_messages_raise_only_codec_errors():
    rng = random.Random(1)
    valid = encode_bytes(
        (
            np.arange(6, dtype=np.int32).reshape(2, 3),
            {"k": [1.5, None, "s"]},
            np.float16(2),
            Handle(1, "t", 1),
            FunctionRef("m", "f"),
        )
    )
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(300)]
    for _ in range(1500):
        mutated = bytearray(valid)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    for sample in samples:
        try:
            decode(sample, max_bytes=1 << 16)
        except CodecError:
            pass


# ------------------------------------------------------------------ framing over pipes


def test_messages_cross_a_pipe_in_pieces():
    read_fd, write_fd = os.pipe()
    try:
        value = {"big": np.arange(50_000.0), "small": (1, "two")}
        data = encode_bytes(value)
        os.set_blocking(read_fd, False)
        reader = MessageReader(read_fd)
        assert reader.read() is None  # nothing there yet
        received = None
        for start in range(0, len(data), 7000):
            os.write(write_fd, data[start : start + 7000])
            received = reader.read() or received
            while received is None and (more := reader.read()) is not None:
                received = more
        got = decode(received)
        np.testing.assert_array_equal(got["big"], value["big"])
        assert got["small"] == (1, "two")
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_write_message_and_read_message_handle_many_buffers():
    read_fd, write_fd = os.pipe()
    try:
        value = [np.full(3, i) for i in range(2000)]  # more buffers than one writev takes
        buffers = encode(value)
        assert len(buffers) > 1000
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the writing child
            os.close(read_fd)
            write_message(write_fd, buffers)
            os._exit(0)
        os.close(write_fd)
        write_fd = -1
        got = decode(read_message(read_fd))
        os.waitpid(pid, 0)
        assert [array[0] for array in got] == list(range(2000))
        with pytest.raises(EOFError):
            read_message(read_fd)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def test_an_oversized_message_is_refused_after_its_prefix_only():
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, struct.pack("<IQ", 10, 1 << 40) + b"x" * 1000)
        with pytest.raises(CodecError, match="exceeds the limit"):
            read_message(read_fd, max_bytes=1 << 20)
        assert len(os.read(read_fd, 4096)) == 1000  # the body was left unread
    finally:
        os.close(read_fd)
        os.close(write_fd)


# ------------------------------------------------------------------ in-process conversion


def test_convert_keeps_identity_where_nothing_is_replaced():
    array, inner = np.zeros(2), [1, 2]
    value = (array, {"a": inner})
    assert convert(value, fallback=reference_or_reject) is value


def test_convert_replaces_and_resolves_like_a_round_trip():
    class Proxy:
        ref = FunctionRef("m", "f")

    table = HandleTable(1)
    thing, proxy = {1}, Proxy()
    value = [np.ones(1), (thing, proxy)]
    crossed = convert(value, fallback=table.store)
    assert crossed[0] is value[0] and crossed[1] == (table.store(thing), table.store(proxy))
    assert convert(crossed, fallback=reference_or_reject, resolve_handle=table.resolve)[1] == (thing, proxy)

    def fallback(item):
        return reference_or_reject(item) if item is proxy else table.store(item)

    sent = convert([proxy, thing], fallback=fallback, resolve_handle=table.resolve, resolve_function=str)
    assert sent == ["m.f", thing]
    with pytest.raises(TypeError, match="cannot pass a set"):
        convert([thing], fallback=reference_or_reject)


def test_handle_tracker_releases_ids_once_every_copy_is_gone():
    tracker = HandleTracker()
    tracker.restart(2)
    first, second = tracker.track(Handle(5, "t", 2)), tracker.track(Handle(5, "t", 2))
    tracker.track(Handle(6, "t", 1))  # from an earlier process: ignored
    del first
    assert tracker.take_released() == []
    del second
    assert tracker.take_released() == [5]
    assert tracker.take_released() == []
