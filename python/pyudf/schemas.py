"""Declared schemas of a UDF module, read without calling `init` (for `pyudf types`).

A module declares its row types in one of two ways:

* module-level ``INPUT`` and ``OUTPUT`` pyarrow schemas (no pyudf import needed), or
* the optional decorator ``@schemas.udf(input=..., output=...)`` on its apply function, which only
  sets attributes and so changes nothing when the worker runs the module.

``python -m pyudf.schemas MODULE.py --out FILE [--apply NAME]`` writes a JSON object to FILE with
each schema as a base64 Arrow IPC stream holding no batches (``null`` where none is declared). The
result goes to a file, not stdout, because the user's module may print while it is imported.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import sys
from typing import Any, Callable, TypeVar

INPUT_ATTR = "__pyudf_input__"
OUTPUT_ATTR = "__pyudf_output__"
EXIT_LOAD_ERROR = 1
EXIT_ENV = 3

F = TypeVar("F", bound=Callable[..., Any])


def udf(*, input: Any = None, output: Any = None) -> Callable[[F], F]:  # noqa: A002 - mirrors register()
    """Declare the input and output schemas of an apply function; returns the function unchanged."""

    def mark(fn: F) -> F:
        setattr(fn, INPUT_ATTR, input)
        setattr(fn, OUTPUT_ATTR, output)
        return fn

    return mark


def _as_schema(value: Any, where: str) -> Any:
    import pyarrow as pa

    if value is None or isinstance(value, pa.Schema):
        return value
    try:
        # A list of fields or a dict of name -> type is what pa.schema() takes; accept it as a convenience.
        return pa.schema(value)
    except (TypeError, ValueError) as exc:
        what = type(value).__name__
        raise TypeError(f"{where} must be a pyarrow.Schema (pa.schema([...])), got {what}: {exc}") from exc


def declared_schemas(module: Any, apply_name: str) -> dict[str, tuple[Any, str]]:
    """Map "input"/"output" to (schema or None, where it came from); the decorator wins over globals."""
    fn = getattr(module, apply_name, None)
    found: dict[str, tuple[Any, str]] = {}
    for side, attr, global_name in (("input", INPUT_ATTR, "INPUT"), ("output", OUTPUT_ATTR, "OUTPUT")):
        from_decorator = getattr(fn, attr, None) if fn is not None else None
        if from_decorator is not None:
            where = f"@schemas.udf({side}=...) on {apply_name}()"
            found[side] = (_as_schema(from_decorator, where), where)
        else:
            found[side] = (_as_schema(getattr(module, global_name, None), global_name), global_name)
    return found


def schema_ipc(schema: Any) -> str | None:
    """Base64 of an Arrow IPC stream holding only `schema` (None for none): how schemas cross to Node."""
    import pyarrow as pa

    if schema is None:
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema):
        pass
    return base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")


def read(path: str, apply_name: str) -> dict[str, Any]:
    from .loader import UdfSpec, forget_module, load_module

    spec = UdfSpec(
        name=os.path.basename(path), module=os.path.abspath(path),
        code=None, init=None, apply=apply_name, conf=None,
    )
    loaded = load_module(spec, 0)
    try:
        found = declared_schemas(loaded.module, apply_name)
    finally:
        forget_module(loaded)
    return {side: schema_ipc(schema) for side, (schema, _) in found.items()} | {
        "sources": {side: where for side, (schema, where) in found.items() if schema is not None},
    }


def main(argv: list[str]) -> int:
    summary = (__doc__ or "").split("\n\n")[0]  # python -OO strips docstrings
    parser = argparse.ArgumentParser(prog="python -m pyudf.schemas", description=summary)
    parser.add_argument("module", help="the UDF's .py file")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--apply", default="apply", help="name of the apply function (default: apply)")
    args = parser.parse_args(argv)
    try:
        importlib.import_module("pyarrow")  # checked first so a missing one is an environment error
    except Exception as exc:
        print(f"pyudf-env-error: pyarrow: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ENV
    try:
        result = read(args.module, args.apply)
    except Exception as exc:
        from . import errors  # not at the top: user code imports this module for its decorator

        # The same ErrorPayload a worker sends: the user's frames only, the headline at their line.
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(errors.python_error(exc, "load"), out)
        return EXIT_LOAD_ERROR
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
