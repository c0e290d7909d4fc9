"""A model's output arrays as a record batch: one column per output, named after it.

An (N,) array is a plain column; an (N, d1, ...) array a tensor column of nested fixed-size lists
(pyudf.tensors.from_numpy), so an (N, 1) output stays a one-element list per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tensors
from .model_errors import ModelOutputError


def record_batch(outputs: Mapping[str, Any], rows: int) -> pa.RecordBatch:
    """The batch of `outputs` (name → array-like of `rows` rows), in their order."""
    columns: list[Any] = []
    for name, value in outputs.items():
        array: np.ndarray[Any, Any] = np.asarray(value)
        if array.ndim == 0 or len(array) != rows:
            got = "a scalar" if array.ndim == 0 else f"{len(array)} rows"
            raise ModelOutputError(f"the model's output {name} has {got} for a batch of {rows} rows")
        if array.ndim == 1:
            columns.append(pa.array(array))
        elif array.dtype.kind in "biuf":
            columns.append(tensors.from_numpy(array))
        else:
            raise ModelOutputError(f"the model's output {name} is an {array.shape} array of {array.dtype}")
    record_batch: Any = pa.RecordBatch
    return record_batch.from_arrays(columns, names=list(outputs))
