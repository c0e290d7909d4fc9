"""Shared fixtures: the pyudf package on sys.path, Arrow helpers, and a pool-side harness for workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zmq

PYTHON_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PYTHON_DIR))

from pyudf import arrow_ipc as ipc  # noqa: E402
from pyudf import protocol as p  # noqa: E402  (needs the sys.path entry above)

RECV_TIMEOUT_MS = 15_000


def ipc_bytes(batches: list[pa.RecordBatch], schema: pa.Schema | None = None) -> bytes:
    return bytes(ipc.write_ipc_stream(schema or batches[0].schema, batches))


def read_table(body: Any) -> pa.Table:
    schema, batches = ipc.read_ipc_stream(body)
    return pa.Table.from_batches(batches, schema=schema)


def worker_env(extra_path: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(PYTHON_DIR)] + ([extra_path] if extra_path else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def worker_command(
    endpoint: str, worker_id: str = "w0", python: list[str] | None = None, args: tuple[str, ...] = ()
) -> list[str]:
    base = python or [sys.executable, "-u", "-X", "faulthandler"]
    return [*base, "-m", "pyudf.worker", "--endpoint", endpoint, "--id", worker_id, *args]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


class Pool:
    """The pool's side of the wire, as the tests drive it: one ROUTER and the workers it spawned."""

    def __init__(self, directory: str) -> None:
        self.endpoint = f"ipc://{directory}/pool.sock"
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.bind(self.endpoint)
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(
        self, worker_id: str = "w0", args: tuple[str, ...] = (), stdout: int = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            worker_command(self.endpoint, worker_id, args=args),
            env=worker_env(),
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        self.procs.append(proc)
        return proc

    def start(
        self, worker_id: str = "w0", args: tuple[str, ...] = ()
    ) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
        """Spawn a worker and wait for its READY."""
        proc = self.spawn(worker_id, args)
        wid, header, bodies = self.recv()
        assert wid == worker_id.encode()
        assert header.kind == p.READY, header
        return proc, json.loads(bodies[0].bytes)

    def send_raw(self, frames: list[Any], worker_id: str = "w0") -> None:
        self.router.send_multipart([worker_id.encode(), *frames])

    def send(
        self,
        kind: int,
        request_id: int = 0,
        udf_id: int = 0,
        *bodies: Any,
        worker_id: str = "w0",
        flags: int = 0,
    ) -> None:
        self.send_raw([p.encode_header(kind, request_id, udf_id, flags), *bodies], worker_id)

    def recv(self, timeout_ms: int = RECV_TIMEOUT_MS) -> tuple[bytes, p.Header, list[zmq.Frame]]:
        if not self.router.poll(timeout_ms):
            raise TimeoutError(f"no message from the worker within {timeout_ms} ms")
        frames = self.router.recv_multipart(copy=False)
        return frames[0].bytes, p.decode_header(frames[1].bytes), frames[2:]

    def request(
        self, kind: int, request_id: int, udf_id: int, *bodies: Any, flags: int = 0
    ) -> tuple[p.Header, list[zmq.Frame]]:
        self.send(kind, request_id, udf_id, *bodies, flags=flags)
        _, header, answer = self.recv()
        assert (header.request_id, header.udf_id) == (request_id, udf_id), header
        return header, answer

    def register(self, udf_id: int, request_id: int | None = None, **spec: Any) -> tuple[p.Header, Any]:
        full = {"name": "udf", "module": None, "code": None, "init": "init", "apply": "apply", "conf": None}
        full.update(spec)
        header, bodies = self.request(p.REGISTER, request_id or udf_id, udf_id, json.dumps(full).encode())
        return header, json.loads(bodies[0].bytes) if bodies else None

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)
        self.router.close(linger=0)
        self.context.term()


@pytest.fixture
def pool() -> Iterator[Pool]:
    # A short private directory: ipc:// paths are limited to about 107 bytes.
    directory = tempfile.mkdtemp(prefix="pyudf-")
    harness = Pool(directory)
    try:
        yield harness
    finally:
        harness.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def udf_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(
        "import pyarrow.compute as pc\n"
        "\n"
        "def init(conf):\n"
        "    return conf['k']\n"
        "\n"
        "def apply(k, batch):\n"
        "    return {'y': pc.multiply(batch.column('x'), k)}\n"
    )
    return path
