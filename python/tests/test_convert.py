"""Normalising every accepted apply() return type, and rejecting the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyudf import convert

EXPECTED = pa.record_batch({"a": pa.array([1, 2, 3], pa.int64()), "b": pa.array(["x", "y", "z"])})


def test_record_batch_is_passed_through() -> None:
    assert convert.to_batches(EXPECTED) == [EXPECTED]


def test_table_gives_its_batches_in_order() -> None:
    table = pa.Table.from_batches([EXPECTED.slice(0, 1), EXPECTED.slice(1)])
    batches = convert.to_batches(table)
    assert len(batches) == 2
    assert pa.Table.from_batches(batches).equals(pa.Table.from_batches([EXPECTED]))


def test_empty_table_keeps_its_schema() -> None:
    table = EXPECTED.schema.empty_table()
    schema, batches = convert.normalise(table)
    assert schema == EXPECTED.schema
    assert sum(b.num_rows for b in batches) == 0


def test_pandas_dataframe_drops_the_index() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=[10, 20, 30])
    (batch,) = convert.to_batches(df)
    assert batch.schema.names == ["a", "b"]
    assert batch.column("a").to_pylist() == [1, 2, 3]


def test_dict_of_numpy_arrays() -> None:
    (batch,) = convert.to_batches({"a": np.array([1, 2, 3], dtype=np.int64), "b": np.array(["x", "y", "z"])})
    assert batch.column("a").equals(EXPECTED.column("a"))
    assert batch.column("b").to_pylist() == ["x", "y", "z"]


def test_dict_of_lists_and_arrow_arrays() -> None:
    (batch,) = convert.to_batches({"a": [1, 2, 3], "b": pa.array(["x", "y", "z"])})
    assert batch.equals(EXPECTED)


@pytest.mark.parametrize(
    ("value", "name"), [([1, 2], "list"), (None, "NoneType"), (np.zeros(3), "numpy.ndarray")]
)
def test_rejected_types_are_named(value: object, name: str) -> None:
    with pytest.raises(TypeError) as info:
        convert.to_batches(value)
    message = str(info.value)
    assert f"apply returned {name};" in message
    assert "pyarrow.RecordBatch" in message and "pandas.DataFrame" in message and "dict" in message


def test_pandas_series_is_rejected() -> None:
    with pytest.raises(TypeError, match="apply returned pandas.Series"):
        convert.to_batches(pd.Series([1, 2]))


def test_empty_batch_has_the_schema_and_no_rows() -> None:
    schema = pa.schema([("a", pa.int64()), ("s", pa.struct([("f", pa.list_(pa.string()))]))])
    batch = convert.empty_batch(schema)
    assert batch.num_rows == 0 and batch.schema == schema


def test_one_batch_concatenates_several_in_order() -> None:
    schema = pa.schema([("x", pa.int64())])
    first = pa.record_batch([pa.array([1, 2])], schema=schema)
    second = pa.record_batch([pa.array([3])], schema=schema)
    assert convert.one_batch(schema, [first]) is first
    assert convert.one_batch(schema, [first, second]).column(0).to_pylist() == [1, 2, 3]
    assert convert.one_batch(schema, []).num_rows == 0
