"""Normalising what an `apply` hook returns into record batches (protocol.md section 3.4)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa

from . import tensors

ACCEPTED = (
    "pyarrow.RecordBatch, pyarrow.Table, pandas.DataFrame, "
    "or a dict of column name to pyarrow.Array, numpy array (2-D and up: a tensor column) or list"
)


def _type_name(obj: object) -> str:
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def normalise(result: object) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    """Return the output schema and batches for a hook's return value.

    The schema is returned separately because a Table may hold zero batches and the RESULT stream
    still has to carry its schema.
    """
    if isinstance(result, pa.RecordBatch):
        return result.schema, [result]
    if isinstance(result, pa.Table):
        return result.schema, result.to_batches()
    # Import pandas only when the object came from it: it is optional and slow to import.
    if type(result).__module__.split(".", 1)[0] == "pandas":
        import pandas as pd

        if isinstance(result, pd.DataFrame):
            batch = pa.RecordBatch.from_pandas(result, preserve_index=False)
            return batch.schema, [batch]
    if isinstance(result, dict):
        # Keys and values are the user's: from_pydict rejects what it cannot convert. An (N, ...) array is
        # a tensor column of N rows, which from_pydict would refuse ("only handle 1-dimensional arrays").
        columns: dict[str, Any] = {
            name: tensors.from_numpy(cast(Any, v)) if isinstance(v, np.ndarray) and v.ndim > 1 else v
            for name, v in cast("dict[str, Any]", result).items()
        }
        batch = pa.RecordBatch.from_pydict(columns)
        return batch.schema, [batch]
    raise TypeError(f"apply returned {_type_name(result)}; expected {ACCEPTED}")


def to_batches(result: object) -> list[pa.RecordBatch]:
    return normalise(result)[1]


def one_batch(schema: pa.Schema, batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """The single batch `apply` sees for a CALL stream: the only one, the concatenation of several
    (coalesced small inputs; this copies), or a zero-row batch when there is none."""
    if len(batches) == 1:
        return batches[0]
    if not batches:
        return empty_batch(schema)
    combined = pa.Table.from_batches(batches, schema=schema).combine_chunks().to_batches()
    return combined[0] if combined else empty_batch(schema)


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A zero-row batch of `schema`: what a CALL stream with no batches stands for."""
    return pa.RecordBatch.from_pylist([], schema=schema)
