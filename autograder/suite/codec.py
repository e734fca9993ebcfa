"""The wire format between the grader and the worker process that runs student code.

Only *plain* values cross: ``None``, ``bool``, ``int``, ``float`` (including nan and inf), ``str``,
``list``, ``tuple`` (kept distinct from ``list``), ``dict`` with ``str`` keys, numpy arrays of exact
type ``np.ndarray`` with a numeric dtype (see ``DTYPES``), numpy scalars of those dtypes,
``FunctionRef`` (a function of a module in the scratch folder, named by module and name) and
``Handle`` (an opaque reference to an object that stays in the worker). Anything else is turned
into a plain value by a *fallback* chosen by the sender: the worker stores it and sends a
``Handle``; the grader refuses it.

A message is a 12-byte prefix (header length, payload length), a JSON header holding the value
tree, and a payload with the raw bytes of every array and numpy scalar, in the order they appear in
the header. JSON objects in the header are always tags with exactly one key::

    {"t": [...]}                  tuple
    {"d": {key: node, ...}}       dict
    {"a": [dtype, [d0, d1, ...]]} array; its bytes are the next d0*d1*...*itemsize payload bytes
    {"s": dtype}                  numpy scalar; its bytes are the next itemsize payload bytes
    {"F": [module, name]}         FunctionRef
    {"H": [id, type, gen, note]}  Handle

Nothing is ever pickled. ``decode`` trusts nothing: it checks every node, every dtype and size,
the depth and the total size, returns fresh writable arrays, and raises ``CodecError`` on anything
malformed.
"""

from __future__ import annotations

import json
import os
import struct
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_MAX_BYTES = 64 << 20
"""The largest message accepted unless the caller says otherwise."""

MAX_DEPTH = 100
"""How deeply containers may nest in a message."""

DTYPES = {
    name: np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}
"""The numeric dtypes that cross as arrays and scalars, by name (native byte order only)."""
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}

_PREFIX = struct.Struct("<IQ")
_IOV_MAX = 512


class CodecError(ValueError):
    """A value cannot be sent, or a message is malformed or too large."""


@dataclass(frozen=True)
class FunctionRef:
    """A function ``name`` of module ``module`` of the scratch folder (a student's or a provided
    module); the worker resolves it to the function itself."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Handle:
    """An opaque reference to an object kept by worker process number ``generation``.

    ``type_name`` is the object's type (``"MyArray"``, ``"ndarray[object]"``, ``"set"``) and
    ``note`` says why it is not plain data when the name alone does not (``"an ndarray
    subclass"``)."""

    id: int
    type_name: str
    generation: int
    note: str = ""

    def describe(self) -> str:
        """The object in words, for messages: ``"a MyArray (an ndarray subclass)"``."""
        return with_article(self.type_name) + (f" ({self.note})" if self.note else "")


def with_article(noun: str) -> str:
    """``"a set"``, ``"an int"``, ``"an ndarray[object]"``."""
    return ("an " if noun[:1].lower() in "aeiou" or noun.startswith("ndarray") else "a ") + noun


def plain_kind(value: Any) -> str | None:
    """The tag under which ``value`` crosses as plain data (``"list"``, ``"array"``, ...), or
    ``None`` when it is not plain. Containers are classified by their own type only."""
    kind = type(value)
    if kind in _EXACT_KINDS:
        return _EXACT_KINDS[kind]
    if kind is dict:
        return "dict" if all(type(key) is str for key in value) else None
    if kind is np.ndarray:
        return "array" if value.dtype in _DTYPE_NAMES else None
    if isinstance(value, np.generic):
        dtype = value.dtype
        return "scalar" if dtype in _DTYPE_NAMES and kind is dtype.type else None
    return None


_EXACT_KINDS = {
    type(None): "none",
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    tuple: "tuple",
    FunctionRef: "function",
    Handle: "handle",
}


def describe_type(value: Any) -> tuple[str, str]:
    """``(type_name, note)`` of a value that is not plain, as carried by its ``Handle``."""
    kind = type(value)
    if kind is np.ndarray:
        return f"ndarray[{value.dtype}]", f"a numpy array of dtype {value.dtype}, not a numeric one"
    if isinstance(value, np.ndarray):
        return kind.__qualname__, "an ndarray subclass"
    if kind is dict:
        return "dict", "a dict whose keys are not all strings"
    if isinstance(value, np.generic):
        if kind is value.dtype.type:
            return f"numpy.{kind.__name__}", f"a numpy scalar of dtype {value.dtype}, not a numeric one"
        return kind.__qualname__, "a numpy scalar subclass"
    for base in (int, float, str, list, tuple, dict):
        if isinstance(value, base):
            return kind.__qualname__, f"{with_article(base.__name__)} subclass"
    return kind.__qualname__, ""


Fallback = Callable[[Any], Any]
"""Turns a value that is not plain into a ``FunctionRef`` or ``Handle``, or raises."""


def reference_or_reject(value: Any) -> FunctionRef:
    """The grader's fallback: an object with a ``ref`` attribute holding a ``FunctionRef`` (a
    function proxy) crosses as that reference; anything else is a grader error."""
    ref = getattr(value, "ref", None)
    if type(ref) is FunctionRef:
        return ref
    raise TypeError(
        f"cannot pass a {type(value).__qualname__} to student code: only plain data "
        "(numbers, strings, numeric numpy arrays, lists, tuples, dicts with str keys), "
        "function proxies and handles can be sent"
    )


def _replacement(value: Any, fallback: Fallback) -> Any:
    replacement = fallback(value)
    if type(replacement) not in (FunctionRef, Handle):
        raise TypeError(f"a fallback returned a {type(replacement).__qualname__}, not a FunctionRef or Handle")
    return replacement


class _Encoder:
    """One message being built: the JSON tree and the list of payload buffers."""

    def __init__(self, fallback: Fallback, max_bytes: int) -> None:
        self.fallback = fallback
        self.max_bytes = max_bytes
        self.buffers: list[memoryview] = []
        self.size = 0

    def add_buffer(self, data: np.ndarray) -> None:
        self.size += data.nbytes
        if self.size > self.max_bytes:
            raise CodecError(f"the value holds more than {_megabytes(self.max_bytes)} of data")
        if data.nbytes:
            self.buffers.append(memoryview(data))

    def node(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError(f"the value is nested more than {MAX_DEPTH} levels deep")
        kind = plain_kind(value)
        if kind in ("none", "bool", "int", "float", "str"):
            return value
        if kind == "list":
            return [self.node(item, depth + 1) for item in value]
        if kind == "tuple":
            return {"t": [self.node(item, depth + 1) for item in value]}
        if kind == "dict":
            return {"d": {key: self.node(item, depth + 1) for key, item in value.items()}}
        if kind == "array":
            self.add_buffer(np.ascontiguousarray(value).reshape(-1).view(np.uint8))
            return {"a": [_DTYPE_NAMES[value.dtype], list(value.shape)]}
        if kind == "scalar":
            self.add_buffer(np.frombuffer(value.tobytes(), np.uint8))
            return {"s": _DTYPE_NAMES[value.dtype]}
        if kind == "function":
            return {"F": [value.module, value.name]}
        if kind == "handle":
            return {"H": [value.id, value.type_name, value.generation, value.note]}
        return self.node(_replacement(value, self.fallback), depth)


def encode(
    value: Any, *, fallback: Fallback = reference_or_reject, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[memoryview]:
    """The message carrying ``value``, as a list of buffers to write in order (arrays are not
    copied). Raises ``CodecError`` when the message would exceed ``max_bytes`` or nest too
    deeply; whatever ``fallback`` raises for values that are not plain propagates."""
    encoder = _Encoder(fallback, max_bytes)
    try:
        tree = encoder.node(value, 0)
        header = json.dumps(tree, separators=(",", ":")).encode()
    except (ValueError, RecursionError) as err:  # ints too long for JSON, deep recursion
        if isinstance(err, CodecError):
            raise
        raise CodecError(f"the value cannot be encoded: {err}") from None
    total = _PREFIX.size + len(header) + encoder.size
    if total > max_bytes:
        raise CodecError(f"the value needs {_megabytes(total)}, more than the limit of {_megabytes(max_bytes)}")
    prefix = _PREFIX.pack(len(header), encoder.size)
    return [memoryview(prefix + header), *encoder.buffers]


def encode_bytes(value: Any, **options: Any) -> bytes:
    """``encode`` joined into one bytes object (for tests and small messages)."""
    return b"".join(encode(value, **options))


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.3g} MB"


class _Decoder:
    """Checks and rebuilds one message's value tree."""

    def __init__(
        self,
        payload: memoryview,
        max_bytes: int,
        resolve_handle: Callable[[Handle], Any] | None,
        resolve_function: Callable[[FunctionRef], Any] | None,
    ) -> None:
        self.payload = payload
        self.max_bytes = max_bytes
        self.position = 0
        self.resolve_handle = resolve_handle
        self.resolve_function = resolve_function

    def take(self, dtype_name: Any, shape: tuple[int, ...]) -> np.ndarray:
        if type(dtype_name) is not str or dtype_name not in DTYPES:
            raise CodecError(f"dtype {dtype_name!r} is not allowed")
        dtype = DTYPES[dtype_name]
        if len(shape) > 32 or not all(type(dim) is int and dim >= 0 for dim in shape):
            raise CodecError(f"invalid array shape {_preview(list(shape))}")
        nonzero_count = 1
        for dim in shape:
            nonzero_count *= max(dim, 1)
        if nonzero_count > self.max_bytes:
            raise CodecError(f"invalid array shape {_preview(list(shape))}")
        count = 0 if 0 in shape else nonzero_count
        size = count * dtype.itemsize
        if size > len(self.payload) - self.position:
            raise CodecError("an array is larger than the data that is left in the message")
        array = np.frombuffer(self.payload, dtype, count=count, offset=self.position).reshape(shape)
        self.position += size
        return array.copy()

    def node(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError(f"the message is nested more than {MAX_DEPTH} levels deep")
        kind = type(node)
        if node is None or kind in (bool, int, float):
            return node
        if kind is str:
            return _checked_text(node)
        if kind is list:
            return [self.node(item, depth + 1) for item in node]
        if kind is not dict or len(node) != 1:
            raise CodecError(f"unexpected node {_preview(node)}")
        ((tag, body),) = node.items()
        if tag == "t" and type(body) is list:
            return tuple(self.node(item, depth + 1) for item in body)
        if tag == "d" and type(body) is dict:
            return {_checked_text(key): self.node(item, depth + 1) for key, item in body.items()}
        if tag == "a" and type(body) is list and len(body) == 2 and type(body[1]) is list:
            return self.take(body[0], tuple(body[1]))
        if tag == "s":
            return self.take(body, (1,))[0]
        if tag == "F" and is_row(body, (str, str)) and all(body):
            ref = FunctionRef(_checked_text(body[0]), _checked_text(body[1]))
            return self.resolve_function(ref) if self.resolve_function else ref
        if tag == "H" and is_row(body, (int, str, int, str)) and body[0] >= 0 and body[2] >= 0:
            handle = Handle(body[0], _checked_text(body[1]), body[2], _checked_text(body[3]))
            return self.resolve_handle(handle) if self.resolve_handle else handle
        raise CodecError(f"unexpected node {_preview(node)}")


def is_row(value: Any, types: tuple[type, ...]) -> bool:
    """Whether ``value`` is a list of exactly ``types`` (exact types, in order)."""
    return (
        type(value) is list
        and len(value) == len(types)
        and all(type(item) is kind for item, kind in zip(value, types, strict=True))
    )


def _checked_text(text: str) -> str:
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise CodecError("a string holds invalid unicode (lone surrogates)") from None
    return text


def _preview(node: Any) -> str:
    text = repr(node)
    return text if len(text) <= 60 else text[:57] + "..."


def decode(
    message: bytes | bytearray | memoryview,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolve_handle: Callable[[Handle], Any] | None = None,
    resolve_function: Callable[[FunctionRef], Any] | None = None,
) -> Any:
    """The value carried by one whole message (prefix included).

    ``resolve_handle`` and ``resolve_function``, when given, replace each ``Handle`` and
    ``FunctionRef`` by what they return (exceptions they raise propagate); otherwise those come
    back as they are. Raises ``CodecError`` for anything malformed or larger than ``max_bytes``."""
    view = memoryview(message).cast("B")
    header_size, payload_size = _frame_sizes(view[: _PREFIX.size], max_bytes)
    if len(view) != _PREFIX.size + header_size + payload_size:
        raise CodecError(
            f"the message has {len(view)} bytes, its prefix announces {_PREFIX.size + header_size + payload_size}"
        )
    header = view[_PREFIX.size : _PREFIX.size + header_size]
    try:
        tree = json.loads(bytes(header).decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        if isinstance(err, CodecError):
            raise
        raise CodecError(f"the message header is not valid JSON: {err}") from None
    decoder = _Decoder(view[_PREFIX.size + header_size :], max_bytes, resolve_handle, resolve_function)
    try:
        value = decoder.node(tree, 0)
    except RecursionError:
        raise CodecError("the message is nested too deeply") from None
    if decoder.position != payload_size:
        raise CodecError(f"{payload_size - decoder.position} payload bytes are not used by any value")
    return value


def _frame_sizes(prefix: memoryview, max_bytes: int) -> tuple[int, int]:
    if len(prefix) < _PREFIX.size:
        raise CodecError("the message is shorter than its prefix")
    header_size, payload_size = _PREFIX.unpack(prefix)
    total = _PREFIX.size + header_size + payload_size
    if total > max_bytes:
        raise CodecError(f"a message of {_megabytes(total)} exceeds the limit of {_megabytes(max_bytes)}")
    return header_size, payload_size


class MessageReader:
    """Reads messages from a file descriptor, a piece at a time, so that it can be driven by
    ``select`` on a non-blocking pipe or looped on a blocking one. A message announcing more than
    ``max_bytes`` is refused as soon as its prefix has arrived, before its body is read."""

    def __init__(self, fd: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self._buffer = bytearray(_PREFIX.size)
        self._filled = 0

    def read(self) -> bytearray | None:
        """Reads what is available (one system call); returns the whole message once complete,
        else ``None``. Raises ``EOFError`` at end of file and ``CodecError`` for a message that is
        too large."""
        try:
            count = os.readv(self.fd, [memoryview(self._buffer)[self._filled :]])
        except BlockingIOError:
            return None
        if count == 0:
            raise EOFError("the pipe was closed")
        self._filled += count
        if self._filled == _PREFIX.size and len(self._buffer) == _PREFIX.size:
            header_size, payload_size = _frame_sizes(memoryview(self._buffer), self.max_bytes)
            if header_size + payload_size:
                whole = bytearray(_PREFIX.size + header_size + payload_size)
                whole[: _PREFIX.size] = self._buffer
                self._buffer = whole
                return self.read()
        if self._filled < len(self._buffer):
            return None
        message, self._buffer, self._filled = self._buffer, bytearray(_PREFIX.size), 0
        return message


def read_message(fd: int, max_bytes: int = DEFAULT_MAX_BYTES) -> bytearray:
    """One whole message from a blocking file descriptor (see ``MessageReader``)."""
    reader = MessageReader(fd, max_bytes)
    while (message := reader.read()) is None:
        pass
    return message


def write_some(fd: int, buffers: list[memoryview]) -> list[memoryview]:
    """Writes as much of ``buffers`` as ``fd`` takes in one system call; returns what is left."""
    written = os.writev(fd, buffers[:_IOV_MAX])
    index = 0
    while index < len(buffers) and written >= len(buffers[index]):
        written -= len(buffers[index])
        index += 1
    left = buffers[index:]
    if written:
        left[0] = left[0][written:]
    return left


def write_message(fd: int, buffers: list[memoryview]) -> None:
    """Writes a whole encoded message to a blocking file descriptor."""
    while buffers:
        buffers = write_some(fd, buffers)


def convert(
    value: Any,
    *,
    fallback: Fallback,
    resolve_handle: Callable[[Handle], Any] | None = None,
    resolve_function: Callable[[FunctionRef], Any] | None = None,
    depth: int = 0,
) -> Any:
    """``value`` as it would look after crossing, without copying: parts that are not plain are
    replaced by what ``fallback`` returns, then handles and function references are resolved like
    ``decode`` does. Containers are rebuilt only where something was replaced, so unchanged
    objects keep their identity. Used where student code runs in the same process."""
    if depth > MAX_DEPTH:
        raise CodecError(f"the value is nested more than {MAX_DEPTH} levels deep")
    kind = plain_kind(value)
    if kind is None:
        value = _replacement(value, fallback)
        kind = plain_kind(value)
    if kind == "handle":
        return resolve_handle(value) if resolve_handle else value
    if kind == "function":
        return resolve_function(value) if resolve_function else value
    if kind not in ("list", "tuple", "dict"):
        return value
    options = {
        "fallback": fallback,
        "resolve_handle": resolve_handle,
        "resolve_function": resolve_function,
        "depth": depth + 1,
    }
    items = value.values() if kind == "dict" else value
    converted = [convert(item, **options) for item in items]
    if all(new is old for new, old in zip(converted, items, strict=True)):
        return value
    if kind == "dict":
        return dict(zip(value.keys(), converted, strict=True))
    return converted if kind == "list" else tuple(converted)


class HandleTracker:
    """Notices when the grader no longer holds any ``Handle`` to a worker object, so the worker
    can drop the object: each handle the grader receives is registered with ``track``, and
    ``take_released`` returns the ids of objects whose every handle has been garbage-collected.
    Only handles of the current ``generation`` count."""

    def __init__(self) -> None:
        self.generation = 0
        self._holders: dict[int, int] = {}
        self._released: list[int] = []

    def restart(self, generation: int) -> None:
        """Forget everything about the previous worker process."""
        self.generation = generation
        self._holders.clear()
        self._released.clear()

    def track(self, handle: Handle) -> Handle:
        if handle.generation == self.generation:
            self._holders[handle.id] = self._holders.get(handle.id, 0) + 1
            weakref.finalize(handle, self._drop, handle.generation, handle.id)
        return handle

    def _drop(self, generation: int, handle_id: int) -> None:
        if generation != self.generation or handle_id not in self._holders:
            return
        self._holders[handle_id] -= 1
        if not self._holders[handle_id]:
            del self._holders[handle_id]
            self._released.append(handle_id)

    def take_released(self) -> list[int]:
        released, self._released = self._released, []
        return released
