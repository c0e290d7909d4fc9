"""Tensor columns (nested fixed-size lists, fixed-shape tensors) as (N, ...) numpy arrays, and back.

Both directions view the column's memory instead of copying it where Arrow's layout allows: a
fixed-size list of N rows of (d1, ..., dk) numbers is one contiguous buffer of N*d1*...*dk values.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa

# pyarrow's stubs leave most array members untyped; the arrays are handled as Any inside.
Column = Any


def to_numpy(column: Column) -> np.ndarray[Any, Any]:
    """An (N, d1, ..., dk) array viewing a tensor column of N rows (a pyarrow Array or ChunkedArray):
    nested fixed-size lists of numbers, or Arrow's fixed-shape tensor type. Several chunks are joined
    (one copy).

    Raises ValueError for a column that is not a tensor column or holds nulls (a tensor has none).
    """
    if isinstance(column, pa.ChunkedArray):
        column = cast(Any, column.combine_chunks())
    if isinstance(column.type, pa.FixedShapeTensorType):
        tensor: np.ndarray[Any, Any] = column.to_numpy_ndarray()
        return tensor
    shape: list[int] = [len(column)]
    values: Column = column
    while pa.types.is_fixed_size_list(values.type):
        if values.null_count:
            raise ValueError(f"the tensor column holds {values.null_count} null row(s); fill or drop them")
        shape.append(values.type.list_size)
        # flatten() honours the array's offset (a sliced column) and views the child, no copy.
        values = values.flatten()
    if len(shape) == 1:
        raise ValueError(f"expected a fixed-size-list or fixed-shape-tensor column, got {column.type}")
    if values.null_count or not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        found = f"{values.type} ({values.null_count} null)"
        raise ValueError(f"a tensor's elements must be numbers without nulls, got {found}")
    flat: Any = values.to_numpy(zero_copy_only=True)
    return cast("np.ndarray[Any, Any]", flat.reshape(shape))


def from_numpy(array: np.ndarray[Any, Any]) -> Column:
    """A pyarrow column of len(array) rows from an (N, d1, ..., dk) array: nested fixed-size lists, one
    level per dimension after the first, over the array's memory (copied once only if not C-contiguous).
    A 1-D array becomes a plain column."""
    flat: Any = np.ascontiguousarray(array)
    column: Column = cast(Any, pa.array(flat.reshape(-1)))
    lists: Any = pa.FixedSizeListArray
    for size in reversed(array.shape[1:]):
        column = lists.from_arrays(column, int(size))
    return column
