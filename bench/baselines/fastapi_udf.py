"""HTTP JSON service baseline: the same apply behind FastAPI on uvicorn, the other common deployment.

Takes and answers the same Open Inference Protocol JSON as tornado_udf.py (whose tensor conversions it
uses), on 127.0.0.1:--port (0 picks one), and prints `PORT <n>`; with --reuse-port several processes
share one port, as `uvicorn --workers N` does, but each is a process the benchmark starts and stops.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import uvicorn
from fastapi import FastAPI, Request, Response
from tornado_udf import batch_to_tensors, tensors_to_batch
from udf_host import HostedUdf, exit_when_stdin_closes, parse_conf, service_args


def make_app(udf: HostedUdf) -> FastAPI:
    app = FastAPI()

    @app.post("/v2/models/{model}/infer")
    async def infer(model: str, request: Request) -> Response:
        # The apply runs on the event loop, as in Tornado: a thread pool would only add a hop per request.
        try:
            body = json.loads(await request.body())
            batch = tensors_to_batch(body["inputs"])
        except (ValueError, KeyError, TypeError) as exc:
            return Response(json.dumps({"error": str(exc)}), status_code=400, media_type="application/json")
        answer = {"model_name": model, "outputs": batch_to_tensors(udf.apply(batch))}
        return Response(json.dumps(answer), media_type="application/json")

    return app


def main(argv: list[str]) -> int:
    args = service_args(__doc__, argv)
    exit_when_stdin_closes()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", args.port))
    udf = HostedUdf(args.module, parse_conf(args.conf))
    config = uvicorn.Config(make_app(udf), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
