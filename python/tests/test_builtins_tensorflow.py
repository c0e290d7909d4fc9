"""Keras models and TensorFlow SavedModels through pyudf.builtins: predictions equal the framework's own."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_iris

from pyudf import tensors
from pyudf.builtins import ModelInputError, SavedModelError, load_model

IRIS: Any = load_iris()
X = IRIS.data.astype(np.float64)  # float64 columns, as JavaScript numbers arrive; the models take float32
Y = IRIS.target


@pytest.fixture(scope="module")
def keras() -> Iterator[Any]:
    """Keras (and TensorFlow under it), imported once for this file: the import is the slow part."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    module = importlib.import_module("keras")
    module.utils.set_random_seed(0)
    yield module


@pytest.fixture(scope="module")
def tf(keras: Any) -> Any:
    return importlib.import_module("tensorflow")


@pytest.fixture(scope="module")
def classifier(keras: Any) -> Any:
    """A small MLP trained on iris."""
    model = keras.Sequential([
        keras.Input(shape=(4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X.astype(np.float32), Y, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.mark.parametrize("name", ["iris.keras", "iris.h5"])
def test_a_sequential_model_predicts_exactly_as_keras(classifier: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    classifier.save(path)
    model = load_model(path)
    assert model.format == "keras"
    assert model.output_names == (classifier.layers[-1].name,)
    # 150 rows: chunks of 32 rows as model.predict makes them, so the floats are the same bit for bit.
    out = model.predict(pa.record_batch({"x": tensors.from_numpy(X)}))
    expected = classifier.predict(X.astype(np.float32), verbose=0)
    assert out.schema == pa.schema([(model.output_names[0], pa.list_(pa.float32(), 3))])
    np.testing.assert_array_equal(tensors.to_numpy(out.column(0)), expected)
    # Four plain float64 columns stack into the (N, 4) input.
    stacked = model.predict(pa.record_batch({f"f{i}": pa.array(X[:, i]) for i in range(4)}))
    np.testing.assert_array_equal(tensors.to_numpy(stacked.column(0)), expected)
    empty = model.predict(pa.record_batch({"x": tensors.from_numpy(np.empty((0, 4)))}))
    assert (empty.num_rows, empty.schema) == (0, out.schema)


def test_a_functional_model_with_two_named_inputs_and_outputs(keras: Any, tmp_path: Path) -> None:
    measures = keras.Input(shape=(4,), name="measures")
    image = keras.Input(shape=(2, 3), name="image")
    joined = keras.layers.Concatenate()([measures, keras.layers.Flatten()(image)])
    hidden = keras.layers.Dense(6, activation="relu")(joined)
    species = keras.layers.Dense(3, activation="softmax", name="species")(hidden)
    size = keras.layers.Dense(1, name="size")(hidden)
    model = keras.Model(inputs=[measures, image], outputs=[species, size])
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"])
    images = np.random.default_rng(0).standard_normal((150, 2, 3)).astype(np.float32)
    feeds = {"measures": X.astype(np.float32), "image": images}
    model.fit(feeds, [Y, X[:, 2:3]], epochs=2, verbose=0)
    path = tmp_path / "two.keras"
    model.save(path)

    loaded = load_model(path)
    assert (loaded.input_names, loaded.output_names) == (("measures", "image"), ("species", "size"))
    batch = pa.record_batch({"image": tensors.from_numpy(images), "measures": tensors.from_numpy(X)})
    out = loaded.predict(batch)
    expected_species, expected_size = model.predict(feeds, verbose=0)
    assert out.schema.names == ["species", "size"]
    np.testing.assert_array_equal(tensors.to_numpy(out.column("species")), expected_species)
    # An (N, 1) output stays a one-number list per row.
    assert out.schema.field("size").type == pa.list_(pa.float32(), 1)
    np.testing.assert_array_equal(tensors.to_numpy(out.column("size")), expected_size)
    with pytest.raises(ModelInputError, match=r"are measures, image; .* \(missing: image; unexpected: img\)"):
        loaded.predict(batch.rename_columns(["img", "measures"]))


@pytest.fixture(scope="module")
def saved_module(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A tf.Module with two signatures (defined here: tf is imported by its fixture)."""

    class Module(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32))

        @tf.function(input_signature=[
            tf.TensorSpec([None, 4], tf.float32, name="features"),
            tf.TensorSpec([None], tf.int64, name="offset"),
        ])
        def score(self, features: Any, offset: Any) -> dict[str, Any]:
            logits = tf.matmul(features, self.w)
            return {"logits": logits, "best": tf.argmax(logits, axis=1) + offset}

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def norm(self, x: Any) -> dict[str, Any]:
            return {"norm": tf.norm(x, axis=1)}

    module = Module()
    path = tmp_path_factory.mktemp("savedmodel") / "scorer"
    signatures = {"scores": module.score, "serving_default": module.norm}
    tf.saved_model.save(module, str(path), signatures=signatures)
    return module, path


def test_a_savedmodel_signature_is_called_with_named_tensors(tf: Any, saved_module: tuple[Any, Path]) -> None:
    module, path = saved_module
    model = load_model(path, signature="scores")
    assert model.format == "savedmodel"
    # A signature's arguments and results come in TensorFlow's order (by name).
    assert (model.input_names, model.output_names) == (("features", "offset"), ("best", "logits"))
    offset = np.arange(150)
    out = model.predict(pa.record_batch({"offset": pa.array(offset), "features": tensors.from_numpy(X)}))
    expected = module.score(features=tf.constant(X.astype(np.float32)), offset=tf.constant(offset))
    assert out.schema.names == list(model.output_names)
    np.testing.assert_array_equal(tensors.to_numpy(out.column("logits")), expected["logits"].numpy())
    assert out.schema.field("best").type == pa.int64()
    np.testing.assert_array_equal(out.column("best").to_numpy(), expected["best"].numpy())


def test_the_default_signature_is_serving_default(tf: Any, saved_module: tuple[Any, Path]) -> None:
    module, path = saved_module
    model = load_model(path)
    assert (model.input_names, model.output_names) == (("x",), ("norm",))
    out = model.predict(pa.record_batch({"rows": tensors.from_numpy(X)}))
    expected = module.norm(tf.constant(X.astype(np.float32)))["norm"].numpy()
    np.testing.assert_array_equal(out.column("norm").to_numpy(), expected)


def test_a_bad_signature_lists_the_available_ones(saved_module: tuple[Any, Path]) -> None:
    with pytest.raises(SavedModelError, match=r"no signature 'score'; its signatures: .*'scores'.*'serving"):
        load_model(saved_module[1], signature="score")


def test_a_keras_model_exported_as_a_savedmodel(classifier: Any, tmp_path: Path) -> None:
    path = tmp_path / "exported"
    classifier.export(str(path), verbose=False)
    model = load_model(path)
    out = model.predict(pa.record_batch({"x": tensors.from_numpy(X)}))
    assert model.format == "savedmodel" and len(model.output_names) == 1
    # The exported function runs all rows at once, not in model.predict's chunks: equal to float32 rounding.
    expected = classifier.predict(X.astype(np.float32), verbose=0)
    np.testing.assert_allclose(tensors.to_numpy(out.column(0)), expected, rtol=1e-6, atol=1e-7)
