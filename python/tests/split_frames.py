"""Test helper: CALL bodies cut into frames as the pool cuts them (protocol.md section 3.4)."""

from __future__ import annotations

import pyarrow as pa

from pyudf import arrow_ipc as ipc


def stream_of(batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    ipc.write_stream(sink, batches[0].schema, batches)
    return sink.getvalue().to_pybytes()


def pool_frames(batches: list[pa.RecordBatch]) -> list[bytes]:
    """The stream cut as the pool cuts it: every body buffer (with its padding) a frame of its own."""
    data = stream_of(batches)
    source = pa.BufferReader(data)
    pa.ipc.read_message(source)  # the schema
    frames: list[bytes] = []
    start = 0
    for batch in batches:
        pa.ipc.read_message(source)
        body_end = source.tell()
        body_length = sum((buffer.size + 7) & ~7 for buffer in _buffers(batch))
        body_start = body_end - body_length
        frames.append(data[start:body_start])
        at = body_start
        for buffer in _buffers(batch):
            size = (buffer.size + 7) & ~7
            if size:
                frames.append(data[at : at + size])
            at += size
        start = body_end
    frames.append(data[start:])
    return frames


def address(buffer: pa.Buffer | None) -> int:
    assert buffer is not None
    return buffer.address


def _buffers(batch: pa.RecordBatch) -> list[pa.Buffer]:
    empty = pa.py_buffer(b"")
    return [b if b is not None else empty for column in batch.columns for b in column.buffers()]
