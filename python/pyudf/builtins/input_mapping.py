"""A record batch's columns as a model's input arrays: matched by name, stacked, reshaped and cast.

The rules, for every format:
- A model with one input takes the batch's only column, whatever its name. Several plain numeric
  columns are stacked in their order into one (N, n) array when that input is a matrix (a tabular
  model: n features as n columns).
- A model with several inputs takes the columns named after them; a missing or extra column is an error
  listing the expected and the given names.
- Tensor columns (nested fixed-size lists, variable lists of equal lengths, or Arrow's fixed-shape
  tensor type) are (N, d1, ...) arrays; plain columns are (N,), and (N, 1) where the input is (N, 1).
- Numbers are cast to the input's declared dtype (float64 into float32 rounds); a float into an integer
  input must hold whole numbers. Nulls in a plain numeric column become NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa

from .. import tensors
from .model_errors import ModelInputError

Array = np.ndarray[Any, Any]
Shape = tuple[Any, ...]  # int or None (unknown) per dimension, the batch dimension first


@dataclass(frozen=True)
class InputSpec:
    """One named input of a model, with what the model declares about it."""

    name: str
    # Numbers are cast to it; None: passed as the column holds them.
    dtype: np.dtype[Any] | None = None
    # The input's shape, batch dimension first, None for a dimension the model does not fix; None: unknown.
    shape: Shape | None = None


def names_list(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none)"


def mismatch(
    expected: Sequence[str], given: Sequence[str], what: str = "inputs", why: str = ""
) -> ModelInputError:
    missing = [n for n in expected if n not in given]
    extra = [n for n in given if n not in expected]
    parts = [f"missing: {names_list(missing)}"] if missing else []
    parts += [f"unexpected: {names_list(extra)}"] if extra else []
    return ModelInputError(
        f"the model's {what} are {names_list(expected)}; the batch has columns {names_list(given)} "
        f"({'; '.join(parts)}){why}"
    )


def model_inputs(inputs: Sequence[InputSpec], batch: pa.RecordBatch) -> dict[str, Array]:
    """The model's input arrays, by input name, for `batch` (the rules in this module's docstring)."""
    given: list[str] = list(batch.schema.names)
    if len(inputs) == 1:
        spec = inputs[0]
        if len(given) == 1:
            return {spec.name: fit(spec, column_array(batch.column(0), given[0]))}
        if spec.name in given or not _stackable(spec, batch):
            raise mismatch([spec.name], given, why=_not_stacked(spec, batch))
        return {spec.name: fit(spec, stack_columns(batch, given))}
    expected = [spec.name for spec in inputs]
    if sorted(expected) != sorted(given):
        raise mismatch(expected, given)
    return {spec.name: fit(spec, column_array(batch.column(spec.name), spec.name)) for spec in inputs}


def _stackable(spec: InputSpec, batch: pa.RecordBatch) -> bool:
    """Several columns can make up one matrix input: all plain numbers, the input 2-D (or unknown)."""
    if spec.shape is not None and len(spec.shape) != 2:
        return False
    return all(_is_number(t) for t in batch.schema.types)


def _not_stacked(spec: InputSpec, batch: pa.RecordBatch) -> str:
    """Why a matrix input does not take the columns stacked: the first column that is not a plain number."""
    if spec.name in batch.schema.names or (spec.shape is not None and len(spec.shape) != 2):
        return ""
    types: list[pa.DataType] = list(batch.schema.types)
    name, t = next((n, t) for n, t in zip(batch.schema.names, types) if not _is_number(t))
    return f"; columns stack into {spec.name} only when all are plain numbers, and {name} is {t}"


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def stack_columns(batch: pa.RecordBatch, names: Sequence[str]) -> Array:
    """Plain numeric columns `names` of `batch`, in that order, as one (N, len(names)) array."""
    columns = [column_array(batch.column(name), name) for name in names]
    for name, array in zip(names, columns):
        if array.ndim != 1:
            raise ModelInputError(
                f"column {name} is a tensor column; only plain columns stack into one matrix input "
                f"(columns: {names_list(names)})"
            )
    if not columns:
        return np.empty((batch.num_rows, 0))
    return np.column_stack(columns)


def column_array(column: Any, name: str) -> Array:
    """One column as an array: (N,) for a plain column, (N, d1, ...) for a tensor column."""
    if isinstance(column, pa.ChunkedArray):
        column = cast(Any, column).combine_chunks()
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.dictionary_decode()
        t = column.type
    try:
        if isinstance(t, pa.FixedShapeTensorType) or pa.types.is_fixed_size_list(t):
            return tensors.to_numpy(column)
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return _variable_lists(column)
    except ValueError as exc:
        raise ModelInputError(f"column {name}: {exc}") from exc
    if pa.types.is_list_view(t) or pa.types.is_struct(t) or pa.types.is_map(t):
        raise ModelInputError(f"column {name} has type {t}; the model takes numbers or tensors of numbers")
    # Floats keep NaN for null; integers with nulls become float64 with NaN (pyarrow's to_numpy).
    array: Array = column.to_numpy(zero_copy_only=False)
    return array


def _variable_lists(column: Any) -> Array:
    """A list<...> column whose rows all have the same lengths, as (N, d1, ...) (one copy)."""
    shape: list[int] = [len(column)]
    values: Any = column
    while pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        if values.null_count:
            raise ValueError(f"the tensor column holds {values.null_count} null row(s); fill or drop them")
        lengths: Array = values.value_lengths().to_numpy(zero_copy_only=False)
        size = int(lengths[0]) if len(lengths) else 0
        if len(lengths) and (lengths != size).any():
            row = int(np.argmax(lengths != size))
            detail = f"row 0 has {size} values, row {row} {lengths[row]}"
            raise ValueError(f"the rows of a tensor column need equal lengths: {detail}")
        shape.append(size)
        values = values.flatten()
    if pa.types.is_fixed_size_list(values.type):
        inner: Any = tensors.to_numpy(values)
        return cast(Array, inner.reshape(tuple(shape) + inner.shape[1:]))
    if values.null_count or not _is_number(values.type):
        raise ValueError(f"a tensor's elements must be numbers without nulls, got {values.type}")
    flat: Any = values.to_numpy(zero_copy_only=False)
    return cast(Array, flat.reshape(shape))


def fit(spec: InputSpec, array: Array) -> Array:
    """`array` made to fit `spec`: (N,) becomes (N, 1) for an (N, 1) input; checked shape; cast dtype."""
    shape = spec.shape
    if shape is not None:
        if array.ndim == len(shape) - 1 and shape[-1] == 1:
            array = np.expand_dims(array, -1)
        if array.ndim != len(shape) or any(
            want is not None and want != got for want, got in zip(shape[1:], array.shape[1:])
        ):
            want_text = "(N" + "".join(f", {'?' if d is None else d}" for d in shape[1:]) + ")"
            got_text = "(N" + "".join(f", {d}" for d in array.shape[1:]) + ")"
            raise ModelInputError(f"input {spec.name} takes shape {want_text}; the batch gives {got_text}")
    return cast_to(spec, array)


def cast_to(spec: InputSpec, array: Array) -> Array:
    """`array` as spec.dtype: floats into an integer input only when they are whole numbers."""
    want = spec.dtype
    if want is None or array.dtype == want:
        return array
    if array.dtype.kind not in "biuf":
        raise ModelInputError(f"input {spec.name} takes {want} numbers; the batch gives {array.dtype} values")
    out: Array = array.astype(want)
    if want.kind in "biu" and array.dtype.kind == "f" and not np.array_equal(out, array):
        raise ModelInputError(f"input {spec.name} takes {want} integers; the batch gives fractions or NaN")
    return out
