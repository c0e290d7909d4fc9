"""A model's output arrays as a record batch: one column per output, named after it.

An (N,) array is a plain column; an (N, d1, ...) array a tensor column of nested fixed-size lists
(pyudf.tensors.from_numpy), so an (N, 1) output stays a one-element list per row. Tensors hold numbers,
booleans or strings (ONNX string tensors, multi-output classifiers' labels); other objects are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tensors
from .model_errors import ModelOutputError

# numpy kinds a tensor column holds: bool, integers, floats, str, bytes, and objects that are str or bytes.
TENSOR_KINDS = "biufUSO"


def record_batch(outputs: Mapping[str, Any], rows: int) -> pa.RecordBatch:
    """The batch of `outputs` (name → array-like of `rows` rows), in their order."""
    columns: list[Any] = []
    for name, value in outputs.items():
        array: np.ndarray[Any, Any] = np.asarray(value)
        if array.ndim == 0 or len(array) != rows:
            got = "a scalar" if array.ndim == 0 else f"{len(array)} rows"
            raise ModelOutputError(f"the model's output {name} has {got} for a batch of {rows} rows")
        if array.ndim > 1 and array.dtype.kind not in TENSOR_KINDS:
            raise ModelOutputError(f"the model's output {name} is an {array.shape} array of {array.dtype}")
        if array.dtype.kind == "O":
            array = _strings(name, array)
        try:
            columns.append(pa.array(array) if array.ndim == 1 else tensors.from_numpy(array))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            what = f"{array.shape} of {array.dtype}"
            raise ModelOutputError(f"the model's output {name} ({what}) is no column: {exc}") from exc
    record_batch: Any = pa.RecordBatch
    return record_batch.from_arrays(columns, names=list(outputs))


def _strings(name: str, array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """An object array checked to hold strings or bytes (None: null); with no element, one of str."""
    values: list[Any] = array.ravel().tolist()
    strange = next((v for v in values if v is not None and not isinstance(v, (str, bytes))), None)
    if strange is not None:
        raise ModelOutputError(
            f"the model's output {name} is an {array.shape} array of objects such as "
            f"{type(strange).__name__}; only numbers, booleans and strings become columns"
        )
    # Nothing to infer the type from (an ONNX string tensor of zero rows): strings, not Arrow's null type.
    return array.astype(str) if array.size == 0 else array
