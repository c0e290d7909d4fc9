"""Keras models (`.keras`, legacy `.h5`/`.hdf5`) loaded with keras.models.load_model(compile=False)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .framework_import import require
from .input_mapping import Array, InputSpec
from .model_api import ArrayModel
from .model_errors import ModelOutputError

# model.predict's default batch_size. A row's float32 result depends on the shape of the chunk it is
# computed in, so predicting the same chunks makes the output equal model.predict's bit for bit.
CHUNK_ROWS = 32


class KerasModel(ArrayModel):
    """A Keras model: inputs are its Input layers (names, dtypes, shapes), outputs its output layers.

    Predictions are model.predict_on_batch over chunks of 32 rows: the numbers model.predict gives,
    without its ~100 ms of setup per call.
    """

    def __init__(self, path: str, model: Any) -> None:
        super().__init__("keras", path, _inputs(model))
        self.model = model
        self._outputs = _output_names(model)

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        chunks: list[Any] = []
        for start in range(0, max(rows, 1), CHUNK_ROWS):
            part = {name: array[start : start + CHUNK_ROWS] for name, array in inputs.items()}
            chunks.append(self.model.predict_on_batch(part if len(part) > 1 else next(iter(part.values()))))
        return {name: np.concatenate(parts) for name, parts in self._by_output(chunks).items()}

    def _by_output(self, chunks: list[Any]) -> dict[str, list[Array]]:
        """Each output's chunks, by name, whether predict_on_batch returned an array, a list or a dict."""
        names = self._outputs
        columns: dict[str, list[Array]] = {name: [] for name in names}
        for chunk in chunks:
            if isinstance(chunk, dict):
                values: list[Any] = [cast("dict[str, Any]", chunk)[name] for name in names]
            elif isinstance(chunk, (list, tuple)):
                values = list(cast("list[Any]", chunk))
            else:
                values = [chunk]
            if len(values) != len(names):
                got, want = len(values), len(names)
                raise ModelOutputError(f"the Keras model returned {got} outputs; expected {want}")
            for name, value in zip(names, values):
                columns[name].append(np.asarray(value))
        return columns


def _inputs(model: Any) -> list[InputSpec]:
    tensors: Any = getattr(model, "inputs", None)
    if not tensors:
        # A subclassed model that was never called: nothing declared, one input taken as given.
        return [InputSpec("input")]
    return [
        InputSpec(str(t.name), np.dtype(str(t.dtype)) if t.dtype is not None else None, tuple(t.shape))
        for t in tensors
    ]


def _output_names(model: Any) -> tuple[str, ...]:
    names: Any = getattr(model, "output_names", None)
    if names:
        return tuple(str(n) for n in names)
    outputs: Any = getattr(model, "outputs", None) or []
    # A Sequential model has no output_names: its output is its last layer's.
    layers: list[Any] = [getattr(getattr(t, "_keras_history", None), "operation", None) for t in outputs]
    if layers and all(layer is not None for layer in layers):
        return tuple(str(layer.name) for layer in layers)
    return ("output",) if len(outputs) <= 1 else tuple(f"output_{i}" for i in range(len(outputs)))


def load(path: str) -> KerasModel:
    keras = require("keras", "a Keras model")
    return KerasModel(path, keras.models.load_model(path, compile=False))
