"""Arrow IPC bodies of CALL and RESULT (protocol.md section 3.4): read without copying, write exact sizes."""

from __future__ import annotations

from typing import Any, cast

import pyarrow as pa

from . import protocol as p
from .protocol import ProtocolError
from .split_stream import read_split_stream


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


def read_call_body(frames: list[Any], schemas: SchemaCache) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    """A CALL's body frames read as one Arrow IPC stream (section 3.4): a body of several frames with a
    schema seen before is read where it lies (split_stream), any other joined and read by pyarrow."""
    if len(frames) > 1:
        first = memoryview(getattr(frames[0], "buffer", frames[0])).cast("B")
        message = _schema_message(first)
        known = schemas.schema(message) if message is not None else None
        if known is not None and message is not None:
            batches = read_split_stream(frames, message, known)
            if batches is not None and _all_valid(batches):
                return known, batches
            # Whatever the fast path could not read, pyarrow reads or reports (a ProtocolError).
    return read_ipc_stream(join_frames(frames), schemas)


def _all_valid(batches: list[pa.RecordBatch]) -> bool:
    try:
        for batch in batches:
            _validate(batch)
    except Exception:
        return False
    return True


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
    """Read a complete Arrow IPC stream without copying, and check it before anyone uses it.

    `data` is a zmq.Frame (received with copy=False) or any buffer-protocol object. The returned
    batches' buffers point into that memory and keep it alive through the pa.Buffer they hold. With a
    SchemaCache, a schema seen before is not decoded again. Every batch is validated in full (lengths,
    offsets and buffer sizes against the body, UTF-8 in strings): the bytes are untrusted, and a batch
    whose offsets point past its buffers would make the UDF read memory it does not own. Whatever is
    wrong with the bytes is a ProtocolError (section 5), never another exception.
    """
    view = memoryview(getattr(data, "buffer", data)).cast("B")  # a zmq.Frame's memory is its .buffer
    buffer = pa.py_buffer(view)
    try:
        message = _schema_message(view) if schemas is not None else None
        known = schemas.schema(message) if schemas is not None and message is not None else None
        batches = None
        if known is not None and message is not None:
            batches = _read_batches(buffer.slice(len(message)), known)
        schema: pa.Schema
        if known is not None and batches is not None:
            schema = known  # its names were checked before it was remembered
        else:
            reader = pa.ipc.open_stream(buffer)
            schema = reader.schema
            batches = list(reader)
            # Checked once per schema, not per call: 18 of a cached 1-row read's 32 µs went here.
            _check_names(schema)
            if schemas is not None and message is not None and not _has_dictionaries(schema.types):
                schemas.remember(schema, message)
        for batch in batches:
            _validate(batch)
    # pyarrow reports bad bytes as ArrowInvalid, OSError (ArrowIOError), ValueError, EOFError, and more.
    except Exception as exc:
        raise ProtocolError(f"body is not a readable Arrow IPC stream: {exc}") from exc
    return schema, batches


_DECIMAL_OUT_OF_PRECISION = "does not fit in precision"


def _validate(batch: pa.RecordBatch) -> None:
    """Full validation, except that a decimal exceeding its declared precision is accepted: apache-arrow
    JS writes such values, and they are wrong data, not memory out of bounds. Its column is then checked
    structurally, and every other column in full."""
    try:
        batch.validate(full=True)
    except pa.ArrowInvalid as exc:
        if _DECIMAL_OUT_OF_PRECISION not in str(exc):
            raise
        for i in range(batch.num_columns):
            column = cast(Any, batch.column(i))
            try:
                column.validate(full=True)
            except pa.ArrowInvalid as inner:
                if _DECIMAL_OUT_OF_PRECISION not in str(inner):
                    raise
                column.validate()


def _check_names(fields: Any) -> None:
    """Decode every field name, nested ones included: a name that is not UTF-8 raises here, not in the UDF."""
    for field in fields:
        _ = field.name
        _check_names(field.type.field(i) for i in range(field.type.num_fields))


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


def check_result_size(schema: pa.Schema, batches: list[pa.RecordBatch], estimate: int) -> None:
    """Raise ResultTooLargeError for a result over MAX_RESULT_BYTES, before any of it is written.

    `estimate` (buffer_bytes) counts a buffer shared by several columns once, while the stream carries
    it once per column: a result whose estimate times its columns passes half the limit is measured
    exactly (counting, without copying anything).
    """
    columns = sum(batch.num_columns for batch in batches)
    if estimate * max(1, columns) <= p.MAX_RESULT_BYTES // 2:
        return
    measure = pa.MockOutputStream()
    write_stream(measure, schema, batches)
    size = measure.size()
    if size > p.MAX_RESULT_BYTES:
        rows = sum(batch.num_rows for batch in batches)
        raise p.ResultTooLargeError(
            f"the result of this batch is {size:,} bytes ({size / 2**30:.2f} GiB, {rows:,} rows) as an Arrow "
            f"stream, over the {p.MAX_RESULT_BYTES:,} bytes one result may be; "
            "register the UDF with a smaller batchSize so that each batch's result fits"
        )


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
        write_stream(sink, schema, batches)
        return sink.getvalue()
    size = pa.MockOutputStream()
    write_stream(size, schema, batches)
    buffer = pa.allocate_buffer(size.size())
    write_stream(pa.FixedSizeBufferWriter(buffer), schema, batches)
    return buffer


def write_stream(sink: pa.NativeFile, schema: pa.Schema, batches: list[pa.RecordBatch]) -> None:
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            # pyarrow-stubs leaves write_batch's return type (None) undeclared.
            writer.write_batch(batch)  # pyright: ignore[reportUnknownMemberType]
