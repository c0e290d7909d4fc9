"""The worker's message loop: one DEALER socket, one handler per message kind, answers on the wire.

What a UDF is and does lives in host.py; this module only turns messages into UdfHost calls and their
outcomes into messages (READY, body-frame checks, Arrow IPC, shared-memory result files, ERROR).
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import pyarrow as pa
import zmq

from . import arrow_ipc as ipc
from . import convert, errors, loader
from . import protocol as p
from .host import UdfError, UdfHost
from .result_files import ResultFiles


def worker_info(token: str | None = None) -> p.WorkerInfo:
    """The READY body (section 3.1), with the pool's secret when the worker was given one."""
    info: p.WorkerInfo = {
        "pid": os.getpid(),
        "python": platform.python_version(),
        "pyarrow": pa.__version__,
        "pyzmq": zmq.__version__,
        # numpy 2's stubs type it with typing.LiteralString, which pyright's Python 3.10 lacks.
        "numpy": np.__version__,  # pyright: ignore[reportUnknownMemberType]
    }
    if token is not None:
        info["token"] = token
    return info


class MessageLoop:
    """Serves one pool connection with the UDFs of one UdfHost."""

    def __init__(
        self,
        socket: zmq.Socket[Any],
        files: ResultFiles | None = None,
        host: UdfHost | None = None,
        token: str | None = None,
    ) -> None:
        self._socket = socket
        self._token = token
        self._files = files
        self._host = host if host is not None else UdfHost()
        self._schemas = ipc.SchemaCache()

    def run(self) -> None:
        """Send READY, then answer messages until SHUTDOWN."""
        self._send(p.encode_header(p.READY), p.encode_json(worker_info(self._token)))
        while True:
            frames: list[zmq.Frame] = self._socket.recv_multipart(copy=False)
            try:
                header = p.decode_header(frames[0].bytes)
                if header.kind == p.SHUTDOWN:
                    self._expect_bodies(header, frames[1:], 0)
                    return
                self._dispatch(header, frames[1:])
            except p.ProtocolError as exc:
                self._send_error(exc.request_id, exc.udf_id, errors.protocol_error(str(exc)))

    def _dispatch(self, header: p.Header, bodies: list[zmq.Frame]) -> None:
        try:
            if header.kind == p.CALL:
                if not bodies:
                    raise p.ProtocolError("CALL needs at least 1 body frame, got 0")
                self._call(header, bodies)
            elif header.kind == p.REGISTER:
                self._expect_bodies(header, bodies, 1)
                self._register(header, bodies[0])
            elif header.kind == p.PING:
                self._expect_bodies(header, bodies, 0)
            elif header.kind == p.UNREGISTER:
                self._expect_bodies(header, bodies, 0)
                self._host.unregister(header.udf_id)
                self._send(p.encode_header(p.UNREGISTERED, header.request_id, header.udf_id))
            else:
                raise p.ProtocolError(f"unexpected {p.kind_name(header.kind)} message from the pool")
        except p.ProtocolError as exc:
            # Errors found after the header parsed echo that header's ids.
            raise p.ProtocolError(str(exc), header.request_id, header.udf_id) from exc

    @staticmethod
    def _expect_bodies(header: p.Header, bodies: list[zmq.Frame], count: int) -> None:
        if len(bodies) != count:
            raise p.ProtocolError(
                f"{p.kind_name(header.kind)} needs {count} body frame(s), got {len(bodies)}",
                header.request_id,
                header.udf_id,
            )

    # ---- 3.2 REGISTER ----------------------------------------------------------------------------

    def _register(self, header: p.Header, body: zmq.Frame) -> None:
        spec = loader.UdfSpec.from_json(p.decode_json_object(body.buffer, "REGISTER"))
        try:
            self._host.register(header.udf_id, spec)
        except UdfError as exc:
            self._send_error(header.request_id, header.udf_id, exc.payload())
            return
        self._send(p.encode_header(p.REGISTERED, header.request_id, header.udf_id))

    # ---- 3.4 CALL / RESULT -----------------------------------------------------------------------

    def _call(self, header: p.Header, bodies: list[zmq.Frame]) -> None:
        # Checked before the body is read, so that a CALL for an unknown UDF says so whatever it holds.
        if header.udf_id not in self._host:
            raise p.ProtocolError(f"CALL for udf_id {header.udf_id}, which is not registered")
        schema, batches = ipc.read_call_body(bodies, self._schemas)
        batch = convert.one_batch(schema, batches)
        try:
            out_schema, out_batches = self._host.apply(header.udf_id, batch)
            size = ipc.buffer_bytes(out_batches)
            ipc.check_result_size(out_schema, out_batches, size)
            files = self._files
            if files is not None and size >= files.min_bytes:
                path = files.write(f"r{header.request_id}", out_schema, out_batches)
                if path is not None:
                    flags = p.FLAG_BODY_IN_FILE
                    self._send(p.encode_header(p.RESULT, header.request_id, header.udf_id, flags), path)
                    return
            result = ipc.write_ipc_stream(out_schema, out_batches, self._schemas, size)
        except UdfError as exc:
            self._send_error(header.request_id, header.udf_id, exc.payload())
            return
        except Exception as exc:
            # What apply returned could not be written as Arrow: still the UDF's answer, phase apply.
            self._send_error(header.request_id, header.udf_id, errors.python_error(exc, "apply"))
            return
        self._send(p.encode_header(p.RESULT, header.request_id, header.udf_id), result)

    # ---- 3.5 ERROR -------------------------------------------------------------------------------

    def _send_error(self, request_id: int, udf_id: int, payload: p.ErrorPayload) -> None:
        self._send(p.encode_header(p.ERROR, request_id, udf_id), p.encode_json(payload))

    def _send(self, *frames: Any) -> None:
        # copy=False hands the result buffer to libzmq instead of copying it (protocol.md section 7).
        self._socket.send_multipart(frames, copy=False)
