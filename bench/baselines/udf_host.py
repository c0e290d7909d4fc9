"""Runs a UDF module the way a pyudf worker does (init(conf) once, apply(state, batch) per batch),
without pyudf, for the baselines; plus the stdin watch that ends a baseline whose parent is gone."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class HostedUdf:
    def __init__(self, module_path: str, conf: Any = None) -> None:
        spec = importlib.util.spec_from_file_location("bench_udf", module_path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {module_path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        init = getattr(module, "init", None)
        self.state = init(conf) if init is not None else None
        self._apply = module.apply

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return to_batch(self._apply(self.state, batch))


def to_batch(result: Any) -> pa.RecordBatch:
    """What an apply hook returns (RecordBatch, Table or dict of columns) as one RecordBatch."""
    if isinstance(result, pa.RecordBatch):
        return result
    if isinstance(result, pa.Table):
        return result.combine_chunks().to_batches()[0]
    if isinstance(result, dict):
        return pa.RecordBatch.from_pydict({name: _column(value) for name, value in result.items()})
    raise TypeError(f"apply returned {type(result).__name__}")


def _column(value: Any) -> Any:
    """A 2-D or higher numpy array as nested fixed-size lists, as pyudf's worker returns it."""
    if isinstance(value, np.ndarray) and value.ndim > 1:
        column: pa.Array = pa.array(np.ascontiguousarray(value).reshape(-1))
        for size in reversed(value.shape[1:]):
            column = pa.FixedSizeListArray.from_arrays(column, size)
        return column
    return value


def checksum(batches: list[pa.RecordBatch]) -> float:
    """Sum of every numeric value in every column (list columns flattened): a cheap output fingerprint."""
    total = 0.0
    for batch in batches:
        for column in batch.columns:
            while pa.types.is_list(column.type) or pa.types.is_fixed_size_list(column.type):
                column = column.flatten()
            if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
                total += float(pc.sum(column.cast(pa.float64())).as_py() or 0.0)
    return total


def parse_conf(text: str | None) -> Any:
    return json.loads(text) if text else None


def service_args(description: str | None, argv: list[str]) -> argparse.Namespace:
    """--module, --conf, --port and --reuse-port of an HTTP service baseline."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--module", required=True)
    parser.add_argument("--conf")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reuse-port", action="store_true")
    return parser.parse_args(argv)


def exit_when_stdin_closes() -> None:
    """The parent holds our stdin pipe; when it dies the pipe closes and we exit, so no baseline leaks."""

    def watch() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            return
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
