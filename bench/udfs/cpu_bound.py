"""CPU-bound UDF: a pure-Python loop per row. It holds the GIL throughout, so it scales with
processes, not threads: the workload that shows what a second worker buys."""

from __future__ import annotations

import pyarrow as pa


def init(conf: dict) -> int:
    return int(conf["iterations"])


def apply(iterations: int, batch: pa.RecordBatch) -> dict:
    out = []
    for x in batch.column("x").to_pylist():
        acc = 0.0
        for i in range(iterations):
            acc += (x * i) % 7.0
        out.append(acc)
    return {"y": pa.array(out, pa.float64())}
