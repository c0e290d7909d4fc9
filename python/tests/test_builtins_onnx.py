"""ONNX models through pyudf.builtins: every prediction equals onnxruntime's own, inputs mapped by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa
import pytest
from onnx import TensorProto, helper, numpy_helper

from pyudf import tensors
from pyudf.builtins import ModelInputError, load_model

RNG = np.random.default_rng(7)
W = RNG.standard_normal((4, 3)).astype(np.float32)
B = RNG.standard_normal(3).astype(np.float32)


def save(graph: Any, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def linear(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scores = features @ W + B, and a second output: the row sums of the scores."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "W"], ["product"]),
            helper.make_node("Add", ["product", "B"], ["scores"]),
            helper.make_node("ReduceSum", ["scores", "axes"], ["total"], keepdims=0),
        ],
        "linear",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 4])],
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N"]),
        ],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    return save(graph, tmp_path_factory.mktemp("onnx") / "linear.onnx")


@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """out = a * scale + shift (a: (N, 2) float32, scale: (N,) int64 cast to float inside)."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["scale"], ["scale_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["scale_f", "axes"], ["scale_col"]),
            helper.make_node("Mul", ["a", "scale_col"], ["scaled"]),
            helper.make_node("Add", ["scaled", "shift"], ["out"]),
        ],
        "two",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("scale", TensorProto.INT64, ["N"]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(np.array([0.25, -1], np.float32), "shift"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    return save(graph, tmp_path_factory.mktemp("onnx") / "two.onnx")


def reference(path: Path, feeds: dict[str, Any]) -> list[Any]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def test_every_prediction_equals_onnxruntimes_own(linear: Path) -> None:
    model = load_model(linear)
    assert model.format == "onnx"
    assert (model.input_names, model.output_names) == (("features",), ("scores", "total"))
    x = RNG.standard_normal((50, 4)).astype(np.float32)
    out = model.predict(pa.record_batch({"features": tensors.from_numpy(x)}))
    scores, total = reference(linear, {"features": x})
    assert out.schema.names == ["scores", "total"]
    assert out.schema.field("scores").type == pa.list_(pa.float32(), 3)
    assert out.schema.field("total").type == pa.float32()
    np.testing.assert_array_equal(tensors.to_numpy(out.column("scores")), scores)
    np.testing.assert_array_equal(out.column("total").to_numpy(), total)


def test_float64_columns_are_cast_to_the_float32_input(linear: Path) -> None:
    x = RNG.standard_normal((20, 4))
    out = load_model(linear).predict(pa.record_batch({"any_name": tensors.from_numpy(x)}))
    expected = reference(linear, {"features": x.astype(np.float32)})[0]
    np.testing.assert_array_equal(tensors.to_numpy(out.column("scores")), expected)


def test_plain_columns_stack_into_the_single_matrix_input_in_their_order(linear: Path) -> None:
    x = RNG.standard_normal((10, 4)).astype(np.float32)
    batch = pa.record_batch({name: pa.array(x[:, i]) for i, name in enumerate(["d", "c", "b", "a"])})
    out = load_model(linear).predict(batch)
    expected = reference(linear, {"features": x})[0]
    np.testing.assert_array_equal(tensors.to_numpy(out.column("scores")), expected)
    with pytest.raises(ModelInputError, match=r"input features takes shape \(N, 4\); the batch gives \(N, 3"):
        load_model(linear).predict(batch.select(["d", "c", "b"]))


def test_a_fixed_shape_tensor_column_is_an_input(linear: Path) -> None:
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    storage = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 4)
    column = pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(pa.float32(), [4]), storage)
    out = load_model(linear).predict(pa.record_batch([column], names=["features"]))
    expected = reference(linear, {"features": x})[0]
    np.testing.assert_array_equal(tensors.to_numpy(out.column("scores")), expected)


def test_several_inputs_are_taken_by_name_whatever_the_column_order(two_inputs: Path) -> None:
    model = load_model(two_inputs)
    assert model.input_names == ("a", "scale")
    a = RNG.standard_normal((9, 2)).astype(np.float32)
    scale = np.arange(9, dtype=np.int64)
    # scale arrives as float64 whole numbers (what JavaScript numbers become): cast to the int64 input.
    batch = pa.record_batch({"scale": pa.array(scale.astype(np.float64)), "a": tensors.from_numpy(a)})
    out = model.predict(batch)
    expected = reference(two_inputs, {"a": a, "scale": scale})[0]
    np.testing.assert_array_equal(tensors.to_numpy(out.column("out")), expected)


def test_wrong_input_names_list_the_expected_and_given_names(two_inputs: Path) -> None:
    model = load_model(two_inputs)
    a = tensors.from_numpy(np.zeros((2, 2), np.float32))
    with pytest.raises(ModelInputError) as info:
        model.predict(pa.record_batch({"a": a, "scales": pa.array([1, 2])}))
    assert str(info.value) == (
        "the model's inputs are a, scale; the batch has columns a, scales "
        "(missing: scale; unexpected: scales)"
    )
    with pytest.raises(ModelInputError, match=r"columns a \(missing: scale\)"):
        model.predict(pa.record_batch({"a": a}))
    with pytest.raises(ModelInputError, match="input scale takes int64 integers; the batch gives fractions"):
        model.predict(pa.record_batch({"a": a, "scale": pa.array([1.5, 2.0])}))


def test_zero_rows_give_zero_rows_of_each_output(linear: Path) -> None:
    empty = tensors.from_numpy(np.empty((0, 4), np.float32))
    out = load_model(linear).predict(pa.record_batch({"features": empty}))
    assert out.num_rows == 0
    assert out.schema.field("scores").type == pa.list_(pa.float32(), 3)
