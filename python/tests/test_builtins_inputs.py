"""pyudf.builtins' input mapping and output columns, without a framework: the rules every loader shares."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pyudf import tensors
from pyudf.builtins import ModelInputError, ModelOutputError
from pyudf.builtins.input_mapping import InputSpec, model_inputs
from pyudf.builtins.output_columns import record_batch

F32 = np.dtype(np.float32)


def test_a_single_input_takes_the_only_column_whatever_its_name() -> None:
    batch = pa.record_batch({"pixels": tensors.from_numpy(np.ones((3, 2, 2)))})
    arrays = model_inputs([InputSpec("input_layer", F32, (None, 2, 2))], batch)
    assert list(arrays) == ["input_layer"]
    assert arrays["input_layer"].dtype == np.float32 and arrays["input_layer"].shape == (3, 2, 2)


def test_a_plain_column_becomes_n_by_1_for_an_n_by_1_input_and_nulls_become_nan() -> None:
    arrays = model_inputs([InputSpec("x", F32, (None, 1))], pa.record_batch({"v": pa.array([1, None, 3])}))
    np.testing.assert_array_equal(arrays["x"], np.array([[1], [np.nan], [3]], np.float32))


def test_variable_lists_of_equal_length_are_tensors_and_unequal_ones_an_error() -> None:
    column = pa.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], pa.list_(pa.list_(pa.float32())))
    arrays = model_inputs([InputSpec("x")], pa.record_batch({"x": column}))
    np.testing.assert_array_equal(arrays["x"], np.arange(1, 9, dtype=np.float32).reshape(2, 2, 2))
    ragged = pa.record_batch({"x": pa.array([[1.0], [2.0, 3.0]])})
    with pytest.raises(ModelInputError, match="column x: the rows of a tensor column need equal lengths"):
        model_inputs([InputSpec("x")], ragged)
    with_null = pa.record_batch({"x": pa.array([[1.0, 2.0], None], pa.list_(pa.float64(), 2))})
    with pytest.raises(ModelInputError, match="column x: the tensor column holds 1 null row"):
        model_inputs([InputSpec("x")], with_null)


def test_columns_stack_only_into_a_matrix_input() -> None:
    batch = pa.record_batch({"b": pa.array([1.0, 2.0]), "a": pa.array([3, 4], pa.int32())})
    np.testing.assert_array_equal(model_inputs([InputSpec("X")], batch)["X"], [[1, 3], [2, 4]])
    with pytest.raises(ModelInputError, match="the model's inputs are image; the batch has columns b, a"):
        model_inputs([InputSpec("image", None, (None, 2, 2))], batch)
    # A column named after the input is that input: the others are extra.
    with pytest.raises(ModelInputError, match=r"\(unexpected: b\)"):
        model_inputs([InputSpec("a")], batch)
    tensor = pa.record_batch({"a": pa.array([1.0, 2.0]), "t": tensors.from_numpy(np.ones((2, 2)))})
    with pytest.raises(ModelInputError, match="the model's inputs are X; the batch has columns a, t"):
        model_inputs([InputSpec("X")], tensor)


def test_shapes_are_checked_where_the_model_fixes_them() -> None:
    batch = pa.record_batch({"x": tensors.from_numpy(np.ones((2, 5)))})
    with pytest.raises(ModelInputError, match=r"input x takes shape \(N, \?, 3\); the batch gives \(N, 5\)"):
        model_inputs([InputSpec("x", None, (None, None, 3))], batch)


def test_strings_are_refused_by_a_numeric_input_and_passed_to_an_untyped_one() -> None:
    batch = pa.record_batch({"text": pa.array(["a", "b"])})
    with pytest.raises(ModelInputError, match="input x takes float32 numbers; the batch gives object values"):
        model_inputs([InputSpec("x", F32)], batch)
    assert model_inputs([InputSpec("x")], batch)["x"].tolist() == ["a", "b"]


def test_outputs_become_plain_and_tensor_columns_named_after_them() -> None:
    out = record_batch({"label": np.array([1, 2]), "probs": np.ones((2, 3), np.float32),
                        "one": np.zeros((2, 1)), "name": np.array(["x", "y"])}, 2)
    assert out.schema == pa.schema([
        ("label", pa.int64()), ("probs", pa.list_(pa.float32(), 3)), ("one", pa.list_(pa.float64(), 1)),
        ("name", pa.string()),
    ])
    with pytest.raises(ModelOutputError, match="the model's output y has 3 rows for a batch of 2 rows"):
        record_batch({"y": np.zeros(3)}, 2)
    with pytest.raises(ModelOutputError, match="output y has a scalar"):
        record_batch({"y": np.float32(1)}, 2)
