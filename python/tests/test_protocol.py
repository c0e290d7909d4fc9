"""Header frame encoding and validation, JSON bodies, and zero-copy Arrow IPC reading."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest
import zmq

from pyudf import arrow_ipc as ipc
from pyudf import protocol as p


def test_constants_match_the_spec() -> None:
    assert (p.MAGIC, p.VERSION, p.HEADER_SIZE) == (b"PUDF", 2, 16)
    kinds = [p.READY, p.REGISTER, p.REGISTERED, p.UNREGISTER, p.UNREGISTERED, p.CALL, p.RESULT, p.ERROR]
    assert kinds + [p.SHUTDOWN] == list(range(1, 10))


def test_header_round_trip() -> None:
    raw = p.encode_header(p.CALL, request_id=0xDEADBEEF, udf_id=7, flags=0)
    assert len(raw) == p.HEADER_SIZE
    assert raw[:4] == b"PUDF" and raw[4] == 2 and raw[5] == p.CALL
    assert p.decode_header(raw) == p.Header(kind=p.CALL, request_id=0xDEADBEEF, udf_id=7, flags=0)


def test_flags_are_ignored() -> None:
    raw = struct.pack("<4sBBHII", b"PUDF", p.VERSION, p.RESULT, 0xFFFF, 1, 2)
    assert p.decode_header(raw).kind == p.RESULT


@pytest.mark.parametrize(
    ("raw", "needle", "ids"),
    [
        (b"PUDF", "expected 16 bytes, got 4", (0, 0)),
        (p.encode_header(p.CALL, 5, 6) + b"x", "expected 16 bytes, got 17", (5, 6)),
        (struct.pack("<4sBBHII", b"NOPE", p.VERSION, p.CALL, 0, 5, 6), "magic is b'NOPE'", (5, 6)),
        (struct.pack("<4sBBHII", b"PUDF", p.VERSION, 42, 0, 5, 6), "unknown message kind 42", (5, 6)),
        (struct.pack("<4sBBHII", b"PUDF", p.VERSION, 0, 0, 5, 6), "unknown message kind 0", (5, 6)),
    ],
)
def test_malformed_headers(raw: bytes, needle: str, ids: tuple[int, int]) -> None:
    with pytest.raises(p.ProtocolError, match="malformed header") as info:
        p.decode_header(raw)
    assert needle in str(info.value)
    assert (info.value.request_id, info.value.udf_id) == ids


def test_version_mismatch_names_both_versions() -> None:
    raw = struct.pack("<4sBBHII", b"PUDF", 1, p.CALL, 0, 1, 1)
    with pytest.raises(p.ProtocolError, match="version mismatch") as info:
        p.decode_header(raw)
    assert "received version 1" in str(info.value)
    assert "version 2" in str(info.value).split("received version 1")[1]


def test_json_bodies() -> None:
    assert p.decode_json_object(p.encode_json({"a": [1, "é"]}), "X") == {"a": [1, "é"]}
    with pytest.raises(p.ProtocolError, match="REGISTER body is not valid UTF-8 JSON"):
        p.decode_json_object(b"{nope", "REGISTER")
    with pytest.raises(p.ProtocolError, match="must be a JSON object, got list"):
        p.decode_json_object(b"[1]", "REGISTER")


def test_ipc_round_trip_and_garbage() -> None:
    batch = pa.record_batch({"x": pa.array([1, 2, 3], pa.int32())})
    schema, batches = ipc.read_ipc_stream(ipc.write_ipc_stream(batch.schema, [batch]))
    assert schema == batch.schema and batches == [batch]
    with pytest.raises(p.ProtocolError, match="not a readable Arrow IPC stream"):
        ipc.read_ipc_stream(b"definitely not arrow")


def test_ipc_read_from_a_zmq_frame_is_zero_copy() -> None:
    values = pa.array(range(100_000), pa.int64())
    stream = ipc.write_ipc_stream(pa.schema([("x", pa.int64())]), [pa.record_batch([values], names=["x"])])
    context = zmq.Context()
    a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    try:
        a.bind("inproc://zero-copy")
        b.connect("inproc://zero-copy")
        a.send(stream, copy=False)
        assert b.poll(5000)
        frame = b.recv(copy=False)
        frame_buffer = pa.py_buffer(frame.buffer)
        _, batches = ipc.read_ipc_stream(frame)
        data = batches[0].column(0).buffers()[1]
        assert data is not None
        start, end = frame_buffer.address, frame_buffer.address + frame_buffer.size
        assert start <= data.address and data.address + data.size <= end
        assert batches[0].column(0).equals(values)
        del batches, data, frame_buffer, frame
    finally:
        a.close(linger=0)
        b.close(linger=0)
        context.term()


def _stream_writer_bytes(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


SCHEMA_CACHE_BATCHES = [
    pa.record_batch({"x": pa.array([1.5, None]), "s": pa.array(["a", "bc"])}, metadata={b"k": b"v"}),
    pa.record_batch({"l": pa.array([[1, 2], None], pa.list_(pa.int32())), "t": pa.array([{"a": 1}, None])}),
    pa.record_batch({"d": pa.array(["x", "y", "x"]).dictionary_encode()}),
    pa.record_batch({"n": pa.array([["x"], ["y"]], pa.list_(pa.dictionary(pa.int8(), pa.string())))}),
]


@pytest.mark.parametrize("batch", SCHEMA_CACHE_BATCHES, ids=lambda b: ",".join(map(str, b.schema.types)))
def test_schema_cache_writes_and_reads_what_pyarrow_does(batch: pa.RecordBatch) -> None:
    cache = ipc.SchemaCache()
    expected = _stream_writer_bytes(batch.schema, [batch, batch])
    for _ in range(3):  # the first call fills the cache, the later ones use it
        written = ipc.write_ipc_stream(batch.schema, [batch, batch], cache)
        assert bytes(written) == expected
        schema, batches = ipc.read_ipc_stream(written, cache)
        assert schema.equals(batch.schema, check_metadata=True)
        assert batches == [batch, batch]
    # Only schemas without dictionaries take the cached path (dictionary batches need the full writer).
    dictionaries = "dictionary" in str(batch.schema)
    assert (cache.message(batch.schema) is None) == dictionaries
    assert (cache.schema(bytes(batch.schema.serialize())) is None) == dictionaries


def test_schema_cache_never_mistakes_one_schema_for_another() -> None:
    cache = ipc.SchemaCache(size=2)
    # "x" and "z" encode to schema messages of the same length; float and int columns too.
    tables = [pa.record_batch({name: pa.array(values)}) for name in "xzy" for values in ([1.0], [1])]
    for _ in range(2):
        for batch in tables:
            schema, batches = ipc.read_ipc_stream(ipc.write_ipc_stream(batch.schema, [batch], cache), cache)
            assert schema == batch.schema and batches == [batch]


def test_a_cached_schema_followed_by_garbage_is_a_protocol_error() -> None:
    cache = ipc.SchemaCache()
    batch = pa.record_batch({"x": pa.array([1, 2, 3], pa.int32())})
    stream = bytes(ipc.write_ipc_stream(batch.schema, [batch], cache))
    ipc.read_ipc_stream(stream, cache)
    with pytest.raises(p.ProtocolError, match="not a readable Arrow IPC stream"):
        ipc.read_ipc_stream(stream[: len(stream) - 30], cache)


def test_join_frames_concatenates_the_pieces_of_one_stream() -> None:
    batch = pa.record_batch({"x": pa.array(range(1000), pa.int64()), "y": pa.array([0.5] * 1000)})
    stream = _stream_writer_bytes(batch.schema, [batch])
    pieces = [stream[:100], memoryview(stream)[100:5000], bytearray(stream[5000:])]
    joined = ipc.join_frames(pieces)
    assert bytes(joined) == stream
    assert ipc.read_ipc_stream(joined)[1] == [batch]
    one = memoryview(stream)
    assert ipc.join_frames([one]) is one


def test_a_cached_schema_read_is_still_zero_copy() -> None:
    batch = pa.record_batch({"x": pa.array(range(100_000), pa.int64())})
    cache = ipc.SchemaCache()
    memory = bytearray(bytes(ipc.write_ipc_stream(batch.schema, [batch], cache)))
    ipc.read_ipc_stream(memory, cache)  # fills the cache
    _, batches = ipc.read_ipc_stream(memory, cache)
    start = pa.py_buffer(memory).address
    data = batches[0].column(0).buffers()[1]
    assert data is not None
    assert start <= data.address and data.address + data.size <= start + len(memory)


def test_a_field_name_that_is_not_utf8_is_refused_every_time_even_with_a_schema_cache() -> None:
    # Names are checked once per schema, when it is decoded: a bad one must never enter the cache.
    batch = pa.RecordBatch.from_pydict({"qq": [1.0]})
    stream = bytes(ipc.write_ipc_stream(batch.schema, [batch]))
    bad = stream.replace(b"qq", b"\xff\xfe")
    assert bad != stream
    cache = ipc.SchemaCache()
    for _ in range(2):
        with pytest.raises(p.ProtocolError, match="not a readable Arrow IPC stream"):
            ipc.read_ipc_stream(bad, cache)
    schema, _ = ipc.read_ipc_stream(stream, cache)
    assert schema.names == ["qq"]
