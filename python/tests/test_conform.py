"""conform: result columns cast to the declared output where that is lossless, left alone otherwise."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pyudf.conform import conform, conform_batch, decode_dictionaries, lossless


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        (pa.int32(), pa.int64(), True),
        (pa.int64(), pa.int32(), False),
        (pa.uint32(), pa.int64(), True),
        (pa.uint32(), pa.int32(), False),
        (pa.int32(), pa.float64(), True),
        (pa.int64(), pa.float64(), False),
        (pa.float32(), pa.float64(), True),
        (pa.float64(), pa.float32(), False),
        (pa.float64(), pa.int64(), False),
        (pa.large_string(), pa.string(), True),
        (pa.string(), pa.binary(), False),
        (pa.dictionary(pa.int8(), pa.string()), pa.string(), True),
        (pa.string(), pa.dictionary(pa.int8(), pa.string()), False),
        (pa.null(), pa.int64(), True),
        (pa.large_list(pa.int32()), pa.list_(pa.int64()), True),
        (pa.list_(pa.float32(), 3), pa.list_(pa.float64(), 3), True),
        (pa.list_(pa.float32(), 3), pa.list_(pa.float32(), 4), False),
        (pa.struct([("a", pa.int8())]), pa.struct([("a", pa.int16())]), True),
        (pa.struct([("a", pa.int8())]), pa.struct([("b", pa.int16())]), False),
    ],
)
def test_lossless(src: pa.DataType, dst: pa.DataType, expected: bool) -> None:
    assert lossless(src, dst) is expected


def test_casts_lossless_columns_and_leaves_the_rest_for_the_pool() -> None:
    declared = pa.schema([("n", pa.int64()), ("s", pa.string()), ("f", pa.int64())])
    strings = pa.array(["a", "b"], pa.large_string())
    batch = pa.record_batch({"n": pa.array([1, 2], pa.int8()), "s": strings, "f": [0.5, 1.5]})
    out = conform_batch(declared, batch)
    assert out.schema == pa.schema([("n", pa.int64()), ("s", pa.string()), ("f", pa.float64())])
    assert out.column("n").to_pylist() == [1, 2]


def test_an_unchanged_batch_is_returned_as_is_and_an_empty_result_keeps_a_conformed_schema() -> None:
    declared = pa.schema([("n", pa.int64())])
    batch = pa.record_batch({"n": pa.array([1], pa.int64())})
    assert conform_batch(declared, batch) is batch
    schema, batches = conform(declared, pa.schema([("n", pa.int32())]), [])
    assert schema == declared and batches == []


def test_dictionary_columns_are_decoded_to_their_values_and_plain_batches_pass_as_they_are() -> None:
    batch = pa.record_batch({"s": pa.array(["a", "b", "a"]).dictionary_encode(), "n": [1, 2, 3]})
    out = decode_dictionaries(batch)
    assert out.schema == pa.schema([("s", pa.string()), ("n", pa.int64())])
    assert out.column("s").to_pylist() == ["a", "b", "a"]
    assert decode_dictionaries(out) is out
