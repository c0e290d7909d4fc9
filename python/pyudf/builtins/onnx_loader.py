"""ONNX models (`.onnx`) run by onnxruntime on the CPU."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .framework_import import require
from .input_mapping import Array, InputSpec
from .model_api import ArrayModel
from .model_errors import ModelOutputError, SavedModelError

# onnxruntime's tensor element types (NodeArg.type) as numpy dtypes.
ELEMENT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}


class OnnxModel(ArrayModel):
    """An onnxruntime InferenceSession: inputs and outputs are the graph's, by name, dtype and shape."""

    def __init__(self, path: str, session: Any) -> None:
        super().__init__("onnx", path, [_input(arg) for arg in session.get_inputs()])
        self.session = session
        self._outputs = tuple(str(arg.name) for arg in session.get_outputs())
        for arg in session.get_outputs():
            if not str(arg.type).startswith("tensor("):
                raise SavedModelError(
                    f"the ONNX model {path} has an output {arg.name} of type {arg.type}; only tensor outputs "
                    "become columns (a scikit-learn classifier converted with skl2onnx: use zipmap=False)"
                )

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        results: list[Any] = self.session.run(list(self._outputs), inputs)
        if len(results) != len(self._outputs):
            raise ModelOutputError(f"onnxruntime returned {len(results)} outputs for {len(self._outputs)}")
        return {name: np.asarray(value) for name, value in zip(self._outputs, results)}


def _input(arg: Any) -> InputSpec:
    kind = str(arg.type)
    dtype = ELEMENT_TYPES.get(kind)
    if kind == "tensor(string)":
        dtype = np.object_
    elif dtype is None:
        raise SavedModelError(f"ONNX input {arg.name} has type {kind}, which pyudf cannot feed")
    # Symbolic dimensions ('N', 'batch') are not fixed: None.
    shape: Any = arg.shape
    dims = None if shape is None else tuple(d if isinstance(d, int) else None for d in shape)
    return InputSpec(str(arg.name), np.dtype(dtype), dims)


def _threads() -> int:
    """Intra-op threads: the pool's per-worker share (OMP_NUM_THREADS), else onnxruntime's default (0)."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


def load(path: str) -> OnnxModel:
    ort = require("onnxruntime", "an ONNX model")
    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads()
    session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    return OnnxModel(path, session)
