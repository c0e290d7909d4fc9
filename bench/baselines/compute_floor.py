"""Compute floor: the same apply called directly in Python on the same Arrow data, no bridge at all.

--mode calls: for each --sizes N, apply on the table's first N rows again and again (like sequential
  udf.apply calls of N rows); reports the mean time per call (median over repeats) and rows/s.
--mode pass: apply over the whole table in batches of --batch-rows (like one udf.apply of the table
  with that batchSize); reports the time per pass (median over repeats) and rows/s.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import pyarrow as pa
from udf_host import HostedUdf, checksum, parse_conf


def read_table(path: str) -> pa.Table:
    with pa.memory_map(path) as source:
        return pa.ipc.open_stream(source).read_all().combine_chunks()


def time_calls(udf: HostedUdf, batch: pa.RecordBatch, args: argparse.Namespace) -> dict:
    deadline = time.perf_counter() + args.warmup_s
    while time.perf_counter() < deadline:
        udf.apply(batch)
    per_call = []
    for _ in range(args.repeats):
        calls = 0
        start = now = time.perf_counter()
        while now - start < args.min_s:
            udf.apply(batch)
            calls += 1
            now = time.perf_counter()
        per_call.append((now - start) / calls)
    latency = statistics.median(per_call)
    return {
        "rowsPerCall": batch.num_rows,
        "medianLatencyMs": latency * 1e3,
        "rowsPerSec": batch.num_rows / latency,
        "repeatLatenciesMs": [s * 1e3 for s in per_call],
        "rows": batch.num_rows,
        "checksum": checksum([udf.apply(batch)]),
    }


def time_passes(udf: HostedUdf, table: pa.Table, args: argparse.Namespace) -> dict:
    batches = table.to_batches(max_chunksize=args.batch_rows)
    for _ in range(args.warmup_passes):
        for batch in batches:
            udf.apply(batch)
    passes = []
    while len(passes) < args.repeats or sum(passes) < args.min_s:
        start = time.perf_counter()
        for batch in batches:
            udf.apply(batch)
        passes.append(time.perf_counter() - start)
    seconds = statistics.median(passes)
    out = [udf.apply(batch) for batch in batches]
    return {
        "rowsPerCall": table.num_rows,
        "batchRows": args.batch_rows,
        "medianLatencyMs": seconds * 1e3,
        "rowsPerSec": table.num_rows / seconds,
        "repeatLatenciesMs": [s * 1e3 for s in passes],
        "rows": sum(b.num_rows for b in out),
        "checksum": checksum(out),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", required=True)
    parser.add_argument("--conf")
    parser.add_argument("--data", required=True, help="an Arrow IPC stream file")
    parser.add_argument("--mode", choices=["calls", "pass"], default="calls")
    parser.add_argument("--sizes", default="1", help="calls mode: rows per call, comma-separated")
    parser.add_argument("--batch-rows", type=int, default=65536, help="pass mode: rows per apply")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-s", type=float, default=0.3, help="seconds per repeat (calls) or all (pass)")
    parser.add_argument("--warmup-s", type=float, default=0.2)
    parser.add_argument("--warmup-passes", type=int, default=1)
    args = parser.parse_args(argv)

    udf = HostedUdf(args.module, parse_conf(args.conf))
    table = read_table(args.data)
    if args.mode == "pass":
        results = [time_passes(udf, table, args)]
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        results = [time_calls(udf, table.slice(0, n).combine_chunks().to_batches()[0], args) for n in sizes]
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
