"""Columns cast to a declared schema where the difference is lossless, and dictionaries decoded (section 3.2).

A UDF that returns int32 where int64 is declared, large_string (pandas 3) where string is, or a
dictionary column where its values are, gets the declared type; any other difference is left for the
pool, which reports it as a SchemaError.
"""

from __future__ import annotations

from typing import Any, cast

import pyarrow as pa

_INTS: dict[Any, int] = {pa.int8(): 8, pa.int16(): 16, pa.int32(): 32, pa.int64(): 64}
_UINTS: dict[Any, int] = {pa.uint8(): 8, pa.uint16(): 16, pa.uint32(): 32, pa.uint64(): 64}
_FLOATS: dict[Any, int] = {pa.float16(): 16, pa.float32(): 32, pa.float64(): 64}
# Integer bits a float holds exactly (its significand).
_EXACT_INT_BITS: dict[Any, int] = {pa.float16(): 11, pa.float32(): 24, pa.float64(): 53}
_STRINGS = (pa.string(), pa.large_string())
_BINARIES = (pa.binary(), pa.large_binary())


def lossless(src: Any, dst: Any) -> bool:
    """True when every value of pyarrow type `src` has the same value in type `dst` (offsets' width aside)."""
    if src == dst or pa.types.is_null(src):
        return True
    if pa.types.is_dictionary(src):
        return not pa.types.is_dictionary(dst) and lossless(src.value_type, dst)
    if src in _INTS:
        return (dst in _INTS and _INTS[dst] >= _INTS[src]) or _EXACT_INT_BITS.get(dst, 0) >= _INTS[src]
    if src in _UINTS:
        bits = _UINTS[src]
        wider = (dst in _UINTS and _UINTS[dst] >= bits) or (dst in _INTS and _INTS[dst] > bits)
        return wider or _EXACT_INT_BITS.get(dst, 0) >= bits
    if src in _FLOATS:
        return dst in _FLOATS and _FLOATS[dst] >= _FLOATS[src]
    if src in _STRINGS:
        return dst in _STRINGS
    if src in _BINARIES:
        return dst in _BINARIES
    if _is_list(src) and _is_list(dst):
        return lossless(src.value_type, dst.value_type)
    if pa.types.is_fixed_size_list(src) and pa.types.is_fixed_size_list(dst):
        return src.list_size == dst.list_size and lossless(src.value_type, dst.value_type)
    if pa.types.is_struct(src) and pa.types.is_struct(dst):
        theirs, ours = _fields(src), _fields(dst)
        same_names = [f.name for f in theirs] == [f.name for f in ours]
        return same_names and all(lossless(a.type, b.type) for a, b in zip(theirs, ours))
    return False


def _fields(struct: Any) -> list[Any]:
    return [struct.field(i) for i in range(struct.num_fields)]


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def conform_batch(declared: pa.Schema, batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with each column whose type differs losslessly from the declared one cast to it.

    A cast that fails (a large_string column of more than 2 GiB cannot become a string) leaves the
    column as it is, for the pool to report.
    """
    columns: list[Any] = []
    fields: list[Any] = []
    changed = False
    schema, wanted = cast(Any, batch.schema), cast(Any, declared)
    for i in range(batch.num_columns):
        field = schema.field(i)
        column = cast(Any, batch.column(i))
        index = wanted.get_field_index(field.name)
        want = wanted.field(index).type if index >= 0 else field.type
        if want != field.type and lossless(field.type, want):
            try:
                column = column.cast(want)
                field = field.with_type(want)
                changed = True
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        columns.append(column)
        fields.append(field)
    if not changed:
        return batch
    record_batch: Any = pa.RecordBatch
    out = record_batch.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))
    return cast(pa.RecordBatch, out)


def conform(
    declared: pa.Schema, schema: pa.Schema, batches: list[pa.RecordBatch]
) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    """conform_batch over a result's batches; the schema comes from an empty batch when there is none."""
    if not batches:
        empty = conform_batch(declared, pa.RecordBatch.from_pylist([], schema=schema))
        return empty.schema, []
    out = [conform_batch(declared, batch) for batch in batches]
    return out[0].schema, out


def decode_dictionaries(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with each dictionary-encoded column decoded to its values (plain types at the boundary,
    as Spark's Arrow UDFs give them: apache-arrow JS encodes strings as dictionaries by default)."""
    schema = cast(Any, batch.schema)
    if not any(pa.types.is_dictionary(schema.field(i).type) for i in range(batch.num_columns)):
        return batch
    columns: list[Any] = []
    fields: list[Any] = []
    for i in range(batch.num_columns):
        field, column = schema.field(i), cast(Any, batch.column(i))
        if pa.types.is_dictionary(field.type):
            column = column.dictionary_decode()
            field = field.with_type(field.type.value_type)
        columns.append(column)
        fields.append(field)
    record_batch: Any = pa.RecordBatch
    out = record_batch.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))
    return cast(pa.RecordBatch, out)

