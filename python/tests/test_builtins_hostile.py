"""pyudf.builtins with outputs that are not numeric tensors, damaged files, unstackable columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import onnx
import pyarrow as pa
import pytest
from onnx import TensorProto, helper

from pyudf.builtins import ModelInputError, ModelOutputError, SavedModelError, load_model
from pyudf.builtins.output_columns import record_batch

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.9, 0.1]])
FEATURES = pa.record_batch({"a": pa.array(X[:, 0]), "b": pa.array(X[:, 1])})


@pytest.fixture(scope="module")
def multi_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A MultiOutputClassifier of two outputs, string labels: predict_proba is a list of (N, 2) arrays."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multioutput import MultiOutputClassifier

    labels = np.array([["a", "x"], ["b", "y"], ["a", "y"], ["b", "x"]])
    estimator = MultiOutputClassifier(LogisticRegression()).fit(X, labels)
    path = tmp_path_factory.mktemp("sklearn") / "multi.joblib"
    joblib.dump(estimator, path)
    return estimator, path


def test_multi_output_probabilities_are_rows_by_outputs_by_classes(multi_output: tuple[Any, Path]) -> None:
    # np.asarray of the list is (outputs, N, classes): with N == outputs (2 rows here) it passed the row
    # check and every row got one output's probabilities for all rows.
    estimator, path = multi_output
    model = load_model(path, method="predict_proba")
    for rows in (2, 4):
        got = model.predict(FEATURES.slice(0, rows)).column("predict_proba").to_pylist()
        expected = np.stack(estimator.predict_proba(X[:rows]), axis=1)
        np.testing.assert_array_equal(np.array(got), expected)
    empty = model.predict(FEATURES.slice(0, 0)).schema.field("predict_proba")
    assert empty.type == pa.list_(pa.list_(pa.float64(), 2), 2)


def test_multi_output_string_labels_are_a_tensor_of_strings(multi_output: tuple[Any, Path]) -> None:
    estimator, path = multi_output
    column = load_model(path).predict(FEATURES).column("predict")
    assert column.type == pa.list_(pa.string(), 2)
    assert column.to_pylist() == estimator.predict(X).tolist()


def test_string_outputs_of_zero_rows_are_strings_and_objects_are_refused() -> None:
    # An ONNX string tensor is an object array: empty, pyarrow made it the null type, which no client reads.
    assert record_batch({"label": np.array([], dtype=object)}, 0).schema.field("label").type == pa.string()
    labels = record_batch({"label": np.array(["cat", None], dtype=object)}, 2)
    assert labels.column(0).to_pylist() == ["cat", None]
    with pytest.raises(ModelOutputError, match=r"output y is an \(1,\) array of objects such as dict"):
        record_batch({"y": np.array([{"p": 1}], dtype=object)}, 1)
    with pytest.raises(ModelOutputError, match=r"output y \(\(1,\) of complex128\) is no column"):
        record_batch({"y": np.array([1 + 2j])}, 1)


def test_an_onnx_model_with_a_string_output_answers_zero_rows(tmp_path: Path) -> None:
    node = helper.make_node(
        "LinearClassifier", ["X"], ["label", "probs"], domain="ai.onnx.ml",
        coefficients=[1.0, -1.0, 0.5, 0.5], intercepts=[0.0, 0.1], classlabels_strings=["cat", "dog"],
    )
    graph = helper.make_graph(
        [node], "strings", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 2])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    onnx.save(helper.make_model(graph, opset_imports=opsets, ir_version=8), str(tmp_path / "strings.onnx"))
    model = load_model(tmp_path / "strings.onnx")
    assert model.predict(FEATURES.slice(0, 0)).schema.field("label").type == pa.string()
    assert model.predict(FEATURES.slice(0, 2)).column("label").to_pylist() == ["dog", "cat"]


@pytest.mark.parametrize(("name", "content", "cause"), [
    ("damaged.joblib", bytes((i * 37 + 11) % 256 for i in range(300)), r"(KeyError|UnpicklingError): "),
    ("empty.joblib", b"", r"EOFError: \(no message\)"),
    ("damaged.onnx", b"\x08\x07garbage" * 20, r"\w+: .*"),
])
def test_a_damaged_file_is_a_saved_model_error_naming_it_and_its_format(
    tmp_path: Path, name: str, content: bytes, cause: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    message = rf"^cannot load {path} as format '(sklearn|onnx)': {cause}"
    with pytest.raises(SavedModelError, match=message) as info:
        load_model(path)
    assert info.value.__cause__ is not None


def test_columns_that_cannot_stack_into_the_matrix_say_which_and_why(multi_output: tuple[Any, Path]) -> None:
    model = load_model(multi_output[1])
    batch = pa.record_batch({"a": pa.array([1.0]), "b": pa.array(["x"])})
    reason = r"columns stack into X only when all are plain numbers, and b is string$"
    with pytest.raises(ModelInputError, match=reason):
        model.predict(batch)
