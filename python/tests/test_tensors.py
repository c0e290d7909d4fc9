"""pyudf.tensors: tensor columns as (N, ...) numpy arrays without copying, and back; apply returning them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pyudf import convert, tensors


def test_round_trip_views_the_same_memory() -> None:
    array = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    column = tensors.from_numpy(array)
    assert column.type == pa.list_(pa.list_(pa.float32(), 2), 3)
    back = tensors.to_numpy(column)
    assert back.shape == (4, 3, 2)
    np.testing.assert_array_equal(back, array)
    assert np.shares_memory(back, array)


def test_a_sliced_column_gives_its_own_rows() -> None:
    array = np.arange(20, dtype=np.int64).reshape(10, 2)
    np.testing.assert_array_equal(tensors.to_numpy(tensors.from_numpy(array).slice(3, 4)), array[3:7])


def test_fixed_shape_tensor_columns_and_chunked_columns() -> None:
    array = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    storage = pa.FixedSizeListArray.from_arrays(pa.array(array.reshape(-1)), 6)
    tensor = pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(pa.float64(), [3, 2]), storage)
    np.testing.assert_array_equal(tensors.to_numpy(tensor), array)
    chunked = pa.chunked_array([tensors.from_numpy(array[:1]), tensors.from_numpy(array[1:])])
    np.testing.assert_array_equal(tensors.to_numpy(chunked), array)


def test_a_non_contiguous_array_is_copied_once_and_kept_in_order() -> None:
    array = np.arange(12, dtype=np.int32).reshape(3, 4).T
    np.testing.assert_array_equal(tensors.to_numpy(tensors.from_numpy(array)), array)


def test_nulls_and_non_tensor_columns_are_refused_with_the_reason() -> None:
    with_null = pa.array([[1.0, 2.0], None], pa.list_(pa.float64(), 2))
    with pytest.raises(ValueError, match="1 null row"):
        tensors.to_numpy(with_null)
    with pytest.raises(ValueError, match="fixed-shape-tensor column, got int64"):
        tensors.to_numpy(pa.array([1, 2]))
    with pytest.raises(ValueError, match="must be numbers"):
        tensors.to_numpy(pa.array([["a", "b"]], pa.list_(pa.string(), 2)))


def test_apply_may_return_2d_and_3d_numpy_arrays_as_tensor_columns() -> None:
    probs = np.random.default_rng(0).random((5, 10)).astype(np.float32)
    images = np.zeros((5, 4, 4), dtype=np.uint8)
    schema, batches = convert.normalise({"probs": probs, "images": images, "label": np.arange(5)})
    assert schema.field("probs").type == pa.list_(pa.float32(), 10)
    assert schema.field("images").type == pa.list_(pa.list_(pa.uint8(), 4), 4)
    np.testing.assert_array_equal(tensors.to_numpy(batches[0].column("probs")), probs)
    assert batches[0].num_rows == 5
