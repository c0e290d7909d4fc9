"""The Ray driver and actor against a ROUTER bound here over tcp with CURVE, on a Ray the driver starts.

One driver (and its own local Ray, on loopback) serves the whole module: starting Ray takes seconds.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zmq
from conftest import PYTHON_DIR, ipc_bytes, read_table

from pyudf import protocol as p

pytest.importorskip("ray")

TOKEN = "t" * 64
TIMEOUT_S = 60


class Driver:
    """`python -m pyudf.ray_driver` with its events on a pipe, and the pool's ROUTER it sends actors to."""

    def __init__(self, tmp: Path) -> None:
        self.server_public, server_secret = zmq.curve_keypair()
        self.client_public, self.client_secret = zmq.curve_keypair()
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.curve_server = True
        self.router.curve_secretkey = server_secret
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoint = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        read_end, write_end = os.pipe()
        env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "RAY_AUTH_MODE": "disabled"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyudf.ray_driver", "--events-fd", str(write_end)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(tmp / "driver.log", "wb"),  # noqa: SIM115
            pass_fds=(write_end,), env=env, text=True,
        )
        os.close(write_end)
        self.events = os.fdopen(read_end, "r")
        self.connected: dict[str, Any] = {}
        self.send({
            "address": None, "num_cpus": 2, "package_dir": str(PYTHON_DIR / "pyudf"), "token": TOKEN,
            "server_key": self.server_public.decode(), "public_key": self.client_public.decode(),
            "secret_key": self.client_secret.decode(), "actor_options": {"num_cpus": 0.5},
        })

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def event(self, kind: str, worker: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.events], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.events.readline()
            if not line:
                raise AssertionError(f"the driver ended while we waited for {kind}")
            event = json.loads(line)
            if event["event"] == kind and (worker is None or event.get("id") == worker):
                return event
        raise AssertionError(f"no {kind} event within {TIMEOUT_S} s")

    def receive(self, timeout_s: float = TIMEOUT_S) -> tuple[str, p.Header, list[bytes]] | None:
        if not self.router.poll(int(timeout_s * 1000)):
            return None
        ident, header, *bodies = self.router.recv_multipart()
        return ident.decode(), p.decode_header(header), bodies

    def request(
        self, worker: str, kind: int, request: int, udf: int, *bodies: bytes
    ) -> tuple[p.Header, list[bytes]]:
        self.router.send_multipart([worker.encode(), p.encode_header(kind, request, udf), *bodies])
        got = self.receive()
        assert got is not None, f"no answer from {worker}"
        return got[1], got[2]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    tmp = tmp_path_factory.mktemp("ray-driver")
    driver = Driver(tmp)
    try:
        driver.connected = driver.event("connected")
        yield driver
    finally:
        if driver.proc.stdin and not driver.proc.stdin.closed:
            driver.proc.stdin.close()  # end of stdin: the driver kills its actors and stops its Ray
        try:
            driver.proc.wait(timeout=30)
        finally:
            if driver.proc.poll() is None:
                driver.proc.kill()
            driver.router.close()
            driver.context.term()


def test_connects_launches_stages_and_serves_a_udf_with_artifacts(driver: Driver, tmp_path: Path) -> None:
    connected = driver.connected
    assert connected["local"] is True and connected["node_ip"] == "127.0.0.1" and connected["pids"]
    assert all(_alive(pid) for pid in connected["pids"])

    driver.send({"op": "launch", "id": "w0", "endpoint": driver.endpoint})
    ident, header, bodies = driver.receive() or ("", None, [])
    assert ident == "w0" and header is not None and header.kind == p.READY
    info = json.loads(bodies[0])
    assert info["token"] == TOKEN
    placed = driver.event("placed", "w0")
    assert placed["pid"] == info["pid"] and placed["node_ip"] == "127.0.0.1" and placed["node_id"]

    # The module imports a helper beside it; init reads an artifact through conf["artifacts"].
    (tmp_path / "helper.py").write_text("FACTOR = 3\n")
    (tmp_path / "scale.txt").write_text("7")
    module = tmp_path / "model.py"
    module.write_text(textwrap.dedent("""
        import helper
        def init(conf):
            with open(conf["artifacts"]["scale"]) as f:
                return int(f.read()) * helper.FACTOR
        def apply(state, batch):
            return {"y": [x * state for x in batch.column("x").to_pylist()]}
    """))
    artifacts = {"scale": str(tmp_path / "scale.txt")}
    driver.send({"op": "stage", "seq": 1, "module": str(module), "artifacts": artifacts})
    staged = driver.event("staged")
    assert staged["seq"] == 1 and "error" not in staged, staged
    files = staged["files"]
    assert files["module"]["name"] == "model.py" and files["artifacts"]["scale"]["kind"] == "file"

    spec = {
        "name": "m", "module": str(module), "code": None, "init": "init", "apply": "apply",
        "conf": {"artifacts": {"scale": str(tmp_path / "scale.txt")}}, "ray_files": files,
    }
    header, bodies = driver.request("w0", p.REGISTER, 1, 1, p.encode_json(spec))
    assert header.kind == p.REGISTERED, bodies
    batch = pa.record_batch({"x": pa.array([1, 2], pa.int64())})
    header, bodies = driver.request("w0", p.CALL, 2, 1, ipc_bytes([batch]))
    assert header.kind == p.RESULT
    assert read_table(bodies[0]).column("y").to_pylist() == [21, 42]

    # A bundle that was never staged fails the registration as a load error, and the actor keeps serving.
    missing = {**spec, "ray_files": {"module": {"hash": "ab" * 20, "kind": "zip", "name": "model.py"}}}
    header, bodies = driver.request("w0", p.REGISTER, 3, 2, p.encode_json(missing))
    assert header.kind == p.ERROR
    error = json.loads(bodies[0])
    assert error["phase"] == "load" and "not staged" in error["message"]

    driver.router.send_multipart([b"w0", p.encode_header(p.SHUTDOWN)])
    exited = driver.event("exited", "w0")
    assert exited["clean"] is True
    _wait_dead(placed["pid"])


def test_a_peer_without_the_curve_keys_gets_no_frame_through(driver: Driver) -> None:
    plain = driver.context.socket(zmq.DEALER)
    plain.setsockopt(zmq.LINGER, 0)
    plain.setsockopt(zmq.ROUTING_ID, b"w7")
    plain.connect(driver.endpoint)
    plain.send_multipart([p.encode_header(p.READY), p.encode_json({"token": TOKEN})])
    # No CURVE keys: the handshake fails, and the ROUTER never sees the message.
    assert driver.receive(timeout_s=1.5) is None
    plain.close()


def test_a_killed_actor_is_reported_dead(driver: Driver) -> None:
    driver.send({"op": "launch", "id": "w1", "endpoint": driver.endpoint})
    got = driver.receive()
    assert got is not None and got[0] == "w1" and got[1].kind == p.READY
    placed = driver.event("placed", "w1")
    driver.send({"op": "kill", "id": "w1"})
    exited = driver.event("exited", "w1")
    assert exited["clean"] is False and exited["type"]
    _wait_dead(placed["pid"])


def test_end_of_stdin_kills_the_actors_and_stops_the_ray_it_started(driver: Driver) -> None:
    driver.send({"op": "launch", "id": "w3", "endpoint": driver.endpoint})
    got = driver.receive()
    assert got is not None and got[0] == "w3"
    placed = driver.event("placed", "w3")
    assert driver.proc.stdin is not None
    driver.proc.stdin.close()
    assert driver.proc.wait(timeout=30) == 0
    _wait_dead(placed["pid"])
    for pid in driver.connected["pids"]:
        _wait_dead(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_dead(pid: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        assert time.monotonic() < deadline, f"actor process {pid} still alive"
        time.sleep(0.1)


def test_actor_options_keep_the_pyudf_package_and_leave_restarts_to_the_pool() -> None:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from pyudf.ray_driver import actor_options, gcs_endpoint

    job = {"py_modules": ["/pkg/pyudf"], "excludes": ["__pycache__"], "env_vars": {"A": "1"}}
    out = actor_options(
        {"num_cpus": 2, "runtime_env": {"pip": ["x"], "env_vars": {"B": "2"}},
         "scheduling_strategy": {"node_id": "ab" * 28, "soft": True}},
        job,
    )
    assert out["num_cpus"] == 2 and out["max_restarts"] == 0
    assert out["runtime_env"] == {
        "pip": ["x"], "py_modules": ["/pkg/pyudf"], "env_vars": {"A": "1", "B": "2"},
        "excludes": ["__pycache__"],
    }
    assert isinstance(out["scheduling_strategy"], NodeAffinitySchedulingStrategy)
    assert actor_options({"scheduling_strategy": "SPREAD"}, job)["scheduling_strategy"] == "SPREAD"
    assert gcs_endpoint("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert gcs_endpoint("[::1]:6379") == ("::1", 6379)
    for address in ("ray://head:10001", "auto", None):
        assert gcs_endpoint(address) is None
