"""HTTP JSON service baseline: the same apply behind a Tornado server, the traditional deployment.

POST /v2/models/<name>/infer takes the same Open Inference Protocol JSON body that `pyudf serve`
takes (1-D tensors: FP64, FP32, INT64, INT32, BOOL, BYTES) and answers in kind. Listens on
127.0.0.1:--port (0 picks one) and prints `PORT <n>`; with --reuse-port several processes can
share one port (the kernel spreads connections over them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import pyarrow as pa
import tornado.httpserver
import tornado.netutil
import tornado.web
from udf_host import HostedUdf, exit_when_stdin_closes, parse_conf, service_args

TO_ARROW = {
    "FP64": pa.float64(),
    "FP32": pa.float32(),
    "INT64": pa.int64(),
    "INT32": pa.int32(),
    "BOOL": pa.bool_(),
    "BYTES": pa.string(),
}
FROM_ARROW = {str(t): name for name, t in TO_ARROW.items()}


def tensors_to_batch(inputs: list[dict[str, Any]]) -> pa.RecordBatch:
    columns = {}
    for tensor in inputs:
        if len(tensor["shape"]) != 1:
            raise ValueError(f"input {tensor['name']}: only 1-D tensors are supported")
        columns[tensor["name"]] = pa.array(tensor["data"], TO_ARROW[tensor["datatype"]])
    return pa.RecordBatch.from_pydict(columns)


def batch_to_tensors(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "datatype": FROM_ARROW[str(column.type)],
            "shape": [len(column)],
            "data": column.to_pylist(),
        }
        for name, column in zip(batch.schema.names, batch.columns)
    ]


class InferHandler(tornado.web.RequestHandler):
    def initialize(self, udf: HostedUdf) -> None:
        self.udf = udf

    def post(self, model: str) -> None:
        try:
            request = json.loads(self.request.body)
            batch = tensors_to_batch(request["inputs"])
        except (ValueError, KeyError, TypeError) as exc:
            self.set_status(400)
            self.finish({"error": str(exc)})
            return
        result = self.udf.apply(batch)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"model_name": model, "outputs": batch_to_tensors(result)}))


async def serve(args: argparse.Namespace) -> None:
    udf = HostedUdf(args.module, parse_conf(args.conf))
    app = tornado.web.Application([(r"/v2/models/([^/]+)/infer", InferHandler, {"udf": udf})])
    sockets = tornado.netutil.bind_sockets(args.port, "127.0.0.1", reuse_port=args.reuse_port)
    server = tornado.httpserver.HTTPServer(app, max_body_size=256 * 1024 * 1024)
    server.add_sockets(sockets)
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str]) -> int:
    args = service_args(__doc__, argv)
    exit_when_stdin_closes()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
