"""Wire format of protocol.md, section by section: header frame, message kinds, JSON and Arrow bodies."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Union, cast

import pyarrow as pa

# Bytes-like things a frame can arrive as (a zmq.Frame's .buffer is a memoryview).
BytesLike = Union[bytes, bytearray, memoryview]

# ---- 2. Header frame -------------------------------------------------------------------------------

MAGIC = b"PUDF"
VERSION = 2
HEADER_SIZE = 16
# Header flag (RESULT only): the one body frame is the path of a file in the shared-memory directory
# (section 3.7).
FLAG_BODY_IN_FILE = 0x0001
_HEADER = struct.Struct("<4sBBHII")  # magic, version, kind, flags, request_id, udf_id
assert _HEADER.size == HEADER_SIZE

# ---- 3. Message kinds ------------------------------------------------------------------------------

READY = 1
REGISTER = 2
REGISTERED = 3
UNREGISTER = 4
UNREGISTERED = 5
CALL = 6
RESULT = 7
ERROR = 8
SHUTDOWN = 9

KIND_NAMES: dict[int, str] = {
    READY: "READY",
    REGISTER: "REGISTER",
    REGISTERED: "REGISTERED",
    UNREGISTER: "UNREGISTER",
    UNREGISTERED: "UNREGISTERED",
    CALL: "CALL",
    RESULT: "RESULT",
    ERROR: "ERROR",
    SHUTDOWN: "SHUTDOWN",
}


class ProtocolError(Exception):
    """A malformed or wrong-version message (section 5).

    Carries the ids of the offending header when it was long enough to hold them, so the ERROR
    answer can echo them and the pool can fail the right request.
    """

    def __init__(self, message: str, request_id: int = 0, udf_id: int = 0) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.udf_id = udf_id


@dataclass(frozen=True)
class Header:
    kind: int
    request_id: int = 0
    udf_id: int = 0
    flags: int = 0


def kind_name(kind: int) -> str:
    return KIND_NAMES.get(kind, f"kind {kind}")


def encode_header(kind: int, request_id: int = 0, udf_id: int = 0, flags: int = 0) -> bytes:
    return _HEADER.pack(MAGIC, VERSION, kind, flags, request_id, udf_id)


def decode_header(buf: BytesLike) -> Header:
    """Parse a header frame; raise ProtocolError saying what is wrong with it."""
    size = len(buf)
    request_id = udf_id = 0
    if size >= HEADER_SIZE:
        # Read the ids before validating anything so that every error below can echo them.
        request_id, udf_id = struct.unpack_from("<II", buf, 8)
    if size != HEADER_SIZE:
        raise ProtocolError(f"malformed header: expected {HEADER_SIZE} bytes, got {size}", request_id, udf_id)
    magic, version, kind, flags, request_id, udf_id = _HEADER.unpack(buf)
    if magic != MAGIC:
        raise ProtocolError(
            f"malformed header: magic is {magic!r}, expected {MAGIC!r} (is the peer a pyudf pool?)",
            request_id,
            udf_id,
        )
    # Version before kind: a newer peer may use kinds this side has never heard of.
    if version != VERSION:
        raise ProtocolError(
            f"protocol version mismatch: received version {version}, this side speaks version {VERSION}"
            " (the pyudf Python package and the TypeScript pool come from different releases)",
            request_id,
            udf_id,
        )
    if kind not in KIND_NAMES:
        raise ProtocolError(f"malformed header: unknown message kind {kind}", request_id, udf_id)
    return Header(kind=kind, request_id=request_id, udf_id=udf_id, flags=flags)


# ---- 3.1 - 3.5 JSON bodies -------------------------------------------------------------------------


class WorkerInfo(TypedDict):
    """The READY body (section 3.1). The pool ignores keys it does not know."""

    pid: int
    python: str
    pyarrow: str
    pyzmq: str
    numpy: str


class UdfSpecMessage(TypedDict):
    """The REGISTER body (section 3.2): exactly one of `module` (an absolute path) and `code` is a string.

    What arrives is checked against this shape by loader.UdfSpec.from_json, not trusted.
    """

    name: str
    module: str | None
    code: str | None
    init: str | None
    apply: str
    conf: Any  # any JSON value, passed to init as decoded


# The phases of a UDF's life in which its own code can fail (section 3.5).
Phase = Literal["load", "init", "apply"]
ErrorKind = Literal["python", "protocol"]


class ErrorFrame(TypedDict):
    """One entry of ErrorPayload.frames (section 3.5)."""

    file: str
    # Python leaves the line unknown in rare cases (a SyntaxError raised without a location).
    line: int | None
    function: str


class ErrorPayload(TypedDict):
    """The ERROR body (section 3.5). For kind "protocol", phase is None, traceback "" and frames []."""

    kind: ErrorKind
    phase: Phase | None
    type: str
    message: str
    traceback: str
    frames: list[ErrorFrame]


def encode_json(obj: object) -> bytes:
    # ASCII-escaped output is still valid UTF-8 and cannot fail on lone surrogates in messages.
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def decode_json_object(buf: BytesLike, what: str) -> dict[str, object]:
    """Decode a JSON body that must be an object; anything else is a ProtocolError.

    The keys and values are not checked here: the caller validates the shape it expects.
    """
    try:
        obj = json.loads(bytes(buf).decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both derive from ValueError
        raise ProtocolError(f"{what} body is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} body must be a JSON object, got {type(obj).__name__}")
    return cast("dict[str, object]", obj)  # a JSON object's keys are strings


# ---- 3.4 Arrow bodies ------------------------------------------------------------------------------


def join_frames(frames: list[Any]) -> Any:
    """The Arrow IPC stream that a CALL's body frames are the pieces of (section 3.4).

    One frame is returned as it is (no copy). Several (the pool sends large column buffers as frames
    of their own, so that Node never copies them) are copied once into one buffer.
    """
    if len(frames) == 1:
        return frames[0]
    views = [memoryview(getattr(frame, "buffer", frame)).cast("B") for frame in frames]
    joined = pa.allocate_buffer(sum(view.nbytes for view in views))
    target = memoryview(joined).cast("B")
    offset = 0
    for view in views:
        target[offset : offset + view.nbytes] = view
        offset += view.nbytes
    return joined


_CONTINUATION = b"\xff\xff\xff\xff"
END_OF_STREAM = _CONTINUATION + b"\x00\x00\x00\x00"


def _has_dictionaries(types: Any) -> bool:
    return any(
        pa.types.is_dictionary(t) or _has_dictionaries(t.field(i).type for i in range(t.num_fields))
        for t in types
    )


class SchemaCache:
    """Schemas seen on one connection with their encapsulated IPC messages, both ways.

    A UDF reads and returns the same schemas call after call; decoding and encoding them again was a
    third of a one-row CALL's Arrow work. Schemas with dictionaries are never cached: their streams
    also carry dictionary batches, which pyarrow's full stream reader and writer handle.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._by_message: dict[bytes, pa.Schema] = {}
        self._recent: list[tuple[pa.Schema, bytes]] = []

    def schema(self, message: bytes) -> pa.Schema | None:
        return self._by_message.get(message)

    def message(self, schema: pa.Schema) -> bytes | None:
        for known, message in self._recent:
            if known is schema or known.equals(schema, check_metadata=True):
                return message
        if _has_dictionaries(schema.types):
            return None
        message = schema.serialize().to_pybytes()
        self.remember(schema, message)
        return message

    def remember(self, schema: pa.Schema, message: bytes) -> None:
        if len(self._by_message) >= self._size:
            self._by_message.clear()
        self._by_message[message] = schema
        self._recent = [(schema, message), *self._recent[: self._size - 1]]


def _schema_message(view: memoryview) -> bytes | None:
    """The stream's leading schema message (continuation, length, flatbuffer; it has no body)."""
    if len(view) < 8 or view[:4].tobytes() != _CONTINUATION:
        return None
    end = 8 + int.from_bytes(view[4:8], "little", signed=True)
    return bytes(view[:end]) if 8 < end <= len(view) else None


def read_ipc_stream(data: Any, schemas: SchemaCache | None = None) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    """Read a complete Arrow IPC stream without copying.

    `data` is a zmq.Frame (received with copy=False) or any buffer-protocol object. The returned
    batches' buffers point into that memory and keep it alive through the pa.Buffer they hold. With a
    SchemaCache, a schema seen before is not decoded again.
    """
    view = memoryview(getattr(data, "buffer", data)).cast("B")  # a zmq.Frame's memory is its .buffer
    buffer = pa.py_buffer(view)
    try:
        message = _schema_message(view) if schemas is not None else None
        schema = schemas.schema(message) if schemas is not None and message is not None else None
        if schema is not None and message is not None:
            batches = _read_batches(buffer.slice(len(message)), schema)
            if batches is not None:
                return schema, batches
        reader = pa.ipc.open_stream(buffer)
        batches = list(reader)
    except (pa.ArrowException, ValueError, TypeError, EOFError) as exc:
        raise ProtocolError(f"body is not a readable Arrow IPC stream: {exc}") from exc
    if schemas is not None and message is not None and not _has_dictionaries(reader.schema.types):
        schemas.remember(reader.schema, message)
    return reader.schema, batches


def _read_batches(body: pa.Buffer, schema: pa.Schema) -> list[pa.RecordBatch] | None:
    """The record batches after a known schema; None if the stream holds anything else."""
    source = pa.BufferReader(body)
    batches: list[pa.RecordBatch] = []
    while True:
        try:
            message = pa.ipc.read_message(source)
        except EOFError:  # the end-of-stream marker
            return batches
        if message.type != "record batch":
            return None
        batches.append(pa.ipc.read_record_batch(message, schema))


_MEASURE_ABOVE_BYTES = 1 << 16


def buffer_bytes(batches: list[pa.RecordBatch]) -> int:
    """The batches' buffer sizes: an estimate of their stream's size (a sliced buffer may count whole).

    get_total_buffer_size() is O(columns); nbytes walks the buffers and cost 24 µs on a 1-row batch.
    """
    return sum(batch.get_total_buffer_size() for batch in batches)


def write_ipc_stream(
    schema: pa.Schema,
    batches: list[pa.RecordBatch],
    schemas: SchemaCache | None = None,
    estimate: int | None = None,
) -> pa.Buffer | bytes:
    """Serialise batches into one Arrow IPC stream buffer, ready to send with copy=False.

    Large streams are measured first and then written into a buffer of exactly that size: a growing
    BufferOutputStream reallocates and copies as it grows, which made 5 MB 3x slower. Small ones skip
    the measuring pass, which would double their (fixed) cost, and with a SchemaCache reuse the
    encoded schema: the same bytes as pyarrow's stream writer, in a third of the time. `estimate` is
    buffer_bytes(batches), for a caller that has it already.
    """
    if (buffer_bytes(batches) if estimate is None else estimate) < _MEASURE_ABOVE_BYTES:
        message = schemas.message(schema) if schemas is not None else None
        if message is not None:
            return b"".join([message, *(batch.serialize() for batch in batches), END_OF_STREAM])
        sink = pa.BufferOutputStream()
        _write_stream(sink, schema, batches)
        return sink.getvalue()
    size = pa.MockOutputStream()
    _write_stream(size, schema, batches)
    buffer = pa.allocate_buffer(size.size())
    _write_stream(pa.FixedSizeBufferWriter(buffer), schema, batches)
    return buffer


def _write_stream(sink: pa.NativeFile, schema: pa.Schema, batches: list[pa.RecordBatch]) -> None:
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            # pyarrow-stubs leaves write_batch's return type (None) undeclared.
            writer.write_batch(batch)  # pyright: ignore[reportUnknownMemberType]


# ---- 3.7 Results in shared-memory files -------------------------------------------------------------


@dataclass(frozen=True)
class ResultFiles:
    """The pool's shared-memory directory (given as --shm-dir) and the size from which results use it."""

    directory: str
    min_bytes: int

    def write(self, name: str, schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes | None:
        """Write a RESULT stream into a new file; its path, or None if the file cannot be written."""
        path = os.path.join(self.directory, name)
        try:
            # The writer hands each buffer straight to write(2): one copy, into the file's pages.
            with pa.OSFile(path, "wb") as sink:
                _write_stream(sink, schema, batches)
        except OSError:  # /dev/shm full or gone: the socket still works
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return None
        return path.encode("utf-8")
