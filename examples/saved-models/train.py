"""Trains two digit classifiers on scikit-learn's 8x8 digits and saves them for pyudf's built-in loaders.

    .venv/bin/python examples/saved-models/train.py models

writes models/digits.keras (a Keras network: input "pixels", 64 floats; output "probs", 10 floats),
models/digits.joblib (a scikit-learn LogisticRegression) and models/digits.arrow (every digit's pixels
and true label, to try them on). Models already there are kept.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
from sklearn.datasets import load_digits

from pyudf import tensors


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    keras_path, sklearn_path = os.path.join(out, "digits.keras"), os.path.join(out, "digits.joblib")
    if not os.path.exists(keras_path):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        keras.utils.set_random_seed(0)
        pixels = keras.Input(shape=(64,), name="pixels")
        hidden = keras.layers.Dense(64, activation="relu")(pixels)
        probs = keras.layers.Dense(10, activation="softmax", name="probs")(hidden)
        model = keras.Model(pixels, probs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=30, batch_size=32, verbose=0)
        model.save(f"{keras_path}.tmp.keras")
        os.replace(f"{keras_path}.tmp.keras", keras_path)
    if not os.path.exists(sklearn_path):
        import joblib
        from sklearn.linear_model import LogisticRegression

        joblib.dump(LogisticRegression(max_iter=2000).fit(x, y), f"{sklearn_path}.tmp")
        os.replace(f"{sklearn_path}.tmp", sklearn_path)
    table = pa.table({"pixels": tensors.from_numpy(x), "label": pa.array(y)})
    arrow_path = os.path.join(out, "digits.arrow")
    with pa.OSFile(arrow_path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    main(sys.argv[1])
