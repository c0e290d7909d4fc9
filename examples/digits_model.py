"""A Keras digits classifier served as a pyudf UDF.

As a UDF (plain Python, plus pyudf.tensors, which every worker can import):

    udf = await pool.register({ module: 'examples/digits_model.py', conf: { model_path } })
    out = await udf.apply(table)   // in: pixels  fixed_size_list<float32>[64]  (8x8 digit, 0..1)
                                   // out: label int32, probs fixed_size_list<float32>[10]

As a script, trains the model (unless MODEL_PATH exists) and writes the digits next to it as
digits.arrow (columns: pixels, label = the true digit, held_out = not used in training):

    .venv/bin/python examples/digits_model.py /tmp/pyudf-demo/digits.keras
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa

from pyudf import tensors

PIXELS = 64
CLASSES = 10
# The model is trained on the first TRAIN_ROWS digits; the remaining 297 are held out.
TRAIN_ROWS = 1500

# Declared schemas: `pyudf serve` and `pyudf apply` check data against them and the web API's
# metadata lists them; `pyudf types examples/digits_model.py` turns them into TypeScript types.
INPUT = pa.schema([("pixels", pa.list_(pa.float32(), PIXELS))])
OUTPUT = pa.schema([("label", pa.int32()), ("probs", pa.list_(pa.float32(), CLASSES))])


# ---- the UDF -------------------------------------------------------------------------------------


def init(conf):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    # register({ artifacts: { model } }) passes the model file's local path (copied to the node on Ray).
    artifacts = conf.get("artifacts") or {}
    return keras.models.load_model(artifacts.get("model") or conf["model_path"])


def apply(model, batch: pa.RecordBatch) -> dict:
    x = pixels_to_numpy(batch.column("pixels"))
    probs = predict(model, x)
    return {
        "label": pa.array(probs.argmax(axis=1).astype(np.int32)),
        "probs": probs,  # (n, 10): a fixed_size_list<float32>[10] column
    }


def predict(model, x: np.ndarray, chunk: int = 32) -> np.ndarray:
    """model.predict(x, verbose=0), bit for bit, without its ~150 ms of setup per call.

    model.predict runs the rows in chunks of 32 (its default batch_size), and a row's float32 result
    depends on the shape of the chunk it is computed in; calling the compiled model on the same chunks
    gives the same numbers, 20x faster here. (model(x) on all rows at once differs by up to ~4e-7.)
    So with a batchSize that is a multiple of 32, the UDF's output equals one model.predict over all
    rows exactly.
    """
    if len(x) == 0:
        return np.empty((0, CLASSES), np.float32)
    parts = [model.predict_on_batch(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def pixels_to_numpy(column: pa.Array) -> np.ndarray:
    """A fixed_size_list<float32>[64] (or list<float32>) column as an (n, 64) float32 array.

    Zero-copy for a fixed_size_list<float32> column without nulls.
    """
    if column.null_count:
        raise ValueError(f"pixels has {column.null_count} null row(s); every row needs {PIXELS} values")
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = column.value_lengths().to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != PIXELS).any():
            row = int(np.argmax(lengths != PIXELS))
            raise ValueError(f"pixels row {row} has {lengths[row]} values; expected {PIXELS}")
    elif pa.types.is_fixed_size_list(column.type) and column.type.list_size == PIXELS:
        return tensors.to_numpy(column).astype(np.float32, copy=False)
    else:
        expected = f"fixed_size_list<float32>[{PIXELS}] or list<float32>"
        raise TypeError(f"pixels must be {expected}, got {column.type}")
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.astype(np.float32, copy=False).reshape(-1, PIXELS)


# ---- data and training (one source of truth for the demo and the tests) --------------------------


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits: X (n, 64) float32 scaled to 0..1, y (n,) int32."""
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int32)


def pixels_array(x: np.ndarray) -> pa.FixedSizeListArray:
    """(n, 64) float32 -> fixed_size_list<float32>[64]."""
    return tensors.from_numpy(x.astype(np.float32, copy=False))


def write_arrow(path: str, columns: dict) -> None:
    """Write columns as an Arrow IPC file, atomically (readers never see half a file)."""
    table = pa.table(columns)
    tmp = f"{path}.{os.getpid()}.tmp"
    with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def train(model_path: str, epochs: int = 40, seed: int = 0) -> str:
    """Train a small MLP on the digits and save it to model_path (.keras), unless it exists."""
    if os.path.exists(model_path):
        return model_path
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    x, y = load_digits()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(PIXELS,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:TRAIN_ROWS], y[:TRAIN_ROWS], epochs=epochs, batch_size=32, verbose=0)
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    # Save under a temporary name first, so a concurrent run never loads a half-written model.
    tmp = f"{model_path}.{os.getpid()}.tmp.keras"
    model.save(tmp)
    os.replace(tmp, model_path)
    return model_path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} MODEL_PATH  (trains unless it exists; writes digits.arrow beside it)")
    path = os.path.abspath(sys.argv[1])
    if os.path.exists(path):
        print(f"model: {path} (exists, reused)")
    else:
        import time

        print(f"training the model: {path}")
        start = time.perf_counter()
        train(path)
        print(f"trained in {time.perf_counter() - start:.1f} s")
    x, y = load_digits()
    held_out = np.arange(len(y)) >= TRAIN_ROWS
    write_arrow(
        os.path.join(os.path.dirname(path), "digits.arrow"),
        {"pixels": pixels_array(x), "label": pa.array(y), "held_out": pa.array(held_out)},
    )
