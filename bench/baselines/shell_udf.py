"""python-shell baseline: JSON lines over stdio, one request per line, the same apply on each.

Request:  {"id": n, "columns": {"c0": [..], ...}}   (JSON-decoded into a RecordBatch)
Answer:   {"id": n, "columns": {...}}               (the result batch's columns as JSON lists)
Prints {"ready": true} once the UDF's init has run; ends at end of input.
"""

from __future__ import annotations

import argparse
import json
import sys

import pyarrow as pa
from udf_host import HostedUdf, parse_conf


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", required=True)
    parser.add_argument("--conf")
    args = parser.parse_args(argv)
    udf = HostedUdf(args.module, parse_conf(args.conf))
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        result = udf.apply(pa.RecordBatch.from_pydict(request["columns"]))
        out.write(json.dumps({"id": request["id"], "columns": result.to_pydict()}))
        out.write("\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
