"""CALL bodies split over frames as the pool splits them (protocol.md section 3.4), read where they lie."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pyarrow as pa
import pytest
from split_frames import address, pool_frames, stream_of

from pyudf import arrow_ipc as ipc
from pyudf.protocol import ProtocolError

MIXED = pa.record_batch(
    {
        "i": pa.array([1, None, 3, 4], pa.int64()),
        "f": pa.array([0.5, 1.5, None, 3.5], pa.float64()),
        "b": pa.array([True, False, None, True]),
        "s": pa.array(["a", None, "ccc", "dd"]),
        "lb": pa.array([b"x", b"yy", None, b""], pa.large_binary()),
        "t": pa.array([[1.0, 2.0], [3.0, 4.0], None, [5.0, 6.0]], pa.list_(pa.float32(), 2)),
        "l": pa.array([[1], [], None, [2, 3]], pa.list_(pa.int32())),
        "st": pa.array([{"x": 1, "y": "a"}, None, {"x": 3, "y": None}, {"x": 4, "y": "d"}]),
        "d": pa.array(
            [decimal.Decimal("1.5"), None, decimal.Decimal("-2.25"), decimal.Decimal("0")],
            pa.decimal128(6, 2),
        ),
        "ts": pa.array(
            [datetime.datetime(2026, 1, 1), None, datetime.datetime(2026, 12, 3), None], pa.timestamp("us")
        ),
    }
)


def known(schema_of: pa.RecordBatch) -> ipc.SchemaCache:
    schemas = ipc.SchemaCache()
    ipc.read_ipc_stream(stream_of([schema_of]), schemas)  # the first CALL of a schema teaches it
    return schemas


def test_a_split_body_is_read_as_pyarrow_reads_it() -> None:
    second = pa.RecordBatch.from_pylist(list(reversed(MIXED.to_pylist())), schema=MIXED.schema)
    batches = [MIXED, second]
    frames = pool_frames(batches)
    assert len(frames) > 10
    schema, read = ipc.read_call_body(frames, known(MIXED))
    assert schema.equals(MIXED.schema)
    assert [b.to_pylist() for b in read] == [b.to_pylist() for b in batches]


def test_large_columns_are_not_copied() -> None:
    batch = pa.record_batch(
        {"x": pa.array(range(100_000), pa.float64()), "y": pa.array(range(100_000), pa.int64())}
    )
    frames = [pa.py_buffer(frame) for frame in pool_frames([batch])]
    _, read = ipc.read_call_body(frames, known(batch))
    for column, frame in zip(read[0].columns, frames[1:3]):
        assert address(column.buffers()[1]) == frame.address  # the frame's own memory, not a copy
    assert read[0].equals(batch)


def test_a_schema_seen_for_the_first_time_is_read_by_pyarrow_and_remembered() -> None:
    batch = pa.record_batch({"x": pa.array(range(100_000), pa.float64())})
    frames = [pa.py_buffer(frame) for frame in pool_frames([batch])]
    schemas = ipc.SchemaCache()
    _, first = ipc.read_call_body(frames, schemas)
    assert address(first[0].column(0).buffers()[1]) != frames[1].address  # joined: a copy
    _, second = ipc.read_call_body(frames, schemas)
    assert address(second[0].column(0).buffers()[1]) == frames[1].address
    assert first[0].equals(batch) and second[0].equals(batch)


@pytest.mark.parametrize(
    "column",
    [
        pa.array(["a", "b", "a", None]).dictionary_encode(),
        pa.array([None] * 4),
        pa.array([[("k", 1)], None, [], [("a", 2), ("b", 3)]], pa.map_(pa.string(), pa.int64())),
        pa.array([1, 2, 3, 4], pa.int8()),
    ],
    ids=["dictionary", "null", "map", "int8"],
)
def test_other_columns_are_read_correctly_either_way(column: Any) -> None:
    batch = pa.record_batch({"c": column, "x": pa.array([1.0, 2.0, 3.0, 4.0])})
    frames = pool_frames([batch])
    schemas = ipc.SchemaCache()
    for _ in range(2):
        _, read = ipc.read_call_body(frames, schemas)
        assert read[0].to_pylist() == batch.to_pylist()


def test_a_frame_cut_inside_a_buffer_is_joined_and_read() -> None:
    frames = pool_frames([MIXED])
    cut = frames[1] + frames[2]
    frames = [frames[0], cut[:5], cut[5:], *frames[3:]]
    _, read = ipc.read_call_body(frames, known(MIXED))
    assert read[0].to_pylist() == MIXED.to_pylist()


@pytest.mark.parametrize("damage", ["short data", "offsets past data", "a batch claiming more rows"])
def test_a_damaged_split_body_is_a_protocol_error(damage: str) -> None:
    strings = pa.record_batch(
        {"s": pa.array(["abc", "de", "f", "ghij"] * 20_000), "x": pa.array(range(80_000), pa.int64())}
    )
    frames = pool_frames([strings])
    if damage == "short data":
        frames[-2] = frames[-2][: len(frames[-2]) // 2]  # the int64 column
    elif damage == "offsets past data":
        offsets = bytearray(frames[1])
        offsets[-8:-4] = (10**6).to_bytes(4, "little")
        frames[1] = bytes(offsets)
    else:
        header = bytearray(frames[0])
        rows = (80_000).to_bytes(8, "little")
        at = header.rindex(rows)  # RecordBatch.length in the batch's flatbuffer
        header[at : at + 8] = (80_001).to_bytes(8, "little")
        frames[0] = bytes(header)
    with pytest.raises(ProtocolError, match="not a readable Arrow IPC stream"):
        ipc.read_call_body(frames, known(strings))
