"""The real worker process against a ROUTER bound here, driven message by message."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zmq
from conftest import Pool, ipc_bytes, read_table, stop, worker_command, worker_env

from pyudf import arrow_ipc as ipc
from pyudf import protocol as p

INPUT = pa.record_batch({"x": pa.array([1, 2, 3], pa.int64())})


def error_payload(bodies: list[zmq.Frame]) -> dict[str, Any]:
    return json.loads(bodies[0].bytes)


def test_ready_register_call_unregister_shutdown(pool: Pool, udf_file: Path) -> None:
    proc, info = pool.start()
    assert info["pid"] == proc.pid
    assert {"python", "pyarrow", "pyzmq", "numpy"} <= info.keys()
    assert info["pyarrow"] == pa.__version__

    header, _ = pool.register(1, module=str(udf_file), conf={"k": 10})
    assert header.kind == p.REGISTERED

    # PING gets no answer: the next message the worker sends answers the CALL after it.
    pool.send(p.PING)
    header, bodies = pool.request(p.CALL, 2, 1, ipc_bytes([INPUT]))
    assert header.kind == p.RESULT
    assert read_table(bodies[0]).column("y").to_pylist() == [10, 20, 30]

    # Zero rows: a stream with a schema and no batch.
    header, bodies = pool.request(p.CALL, 3, 1, ipc_bytes([], INPUT.schema))
    assert header.kind == p.RESULT
    assert read_table(bodies[0]).num_rows == 0

    header, _ = pool.request(p.UNREGISTER, 4, 1)
    assert header.kind == p.UNREGISTERED
    header, bodies = pool.request(p.CALL, 5, 1, ipc_bytes([INPUT]))
    assert header.kind == p.ERROR and error_payload(bodies)["kind"] == "protocol"
    # Unregistering is idempotent.
    assert pool.request(p.UNREGISTER, 6, 1)[0].kind == p.UNREGISTERED

    pool.send(p.SHUTDOWN)
    assert proc.wait(timeout=10) == 0


def test_a_call_split_over_several_frames_is_read_as_one_stream(pool: Pool, udf_file: Path) -> None:
    pool.start()
    pool.register(1, module=str(udf_file), conf={"k": 3})
    batch = pa.record_batch({"x": pa.array(range(50_000), pa.int64())})
    stream = ipc_bytes([batch])
    # Cut inside the schema message, the batch header and the column buffer, as the pool never would.
    cuts = [0, 7, 300, 1000, len(stream) // 2, len(stream)]
    header, bodies = pool.request(p.CALL, 2, 1, *(stream[a:b] for a, b in zip(cuts, cuts[1:])))
    assert header.kind == p.RESULT
    assert read_table(bodies[0]).column("y").to_pylist() == [3 * x for x in range(50_000)]


def test_large_results_travel_as_shared_memory_files(pool: Pool, udf_file: Path, tmp_path: Path) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    pool.start(args=("--shm-dir", str(shm), "--shm-min-bytes", "100000"))
    pool.register(1, module=str(udf_file), conf={"k": 2})
    batch = pa.record_batch({"x": pa.array(range(20_000), pa.int64())})  # 160 kB
    header, bodies = pool.request(p.CALL, 7, 1, ipc_bytes([batch]))
    assert header.kind == p.RESULT and header.flags & p.FLAG_BODY_IN_FILE
    result_file = Path(bodies[0].bytes.decode())
    assert result_file == shm / "r7"
    assert read_table(result_file.read_bytes()).column("y").to_pylist() == [2 * x for x in range(20_000)]
    # A small result comes back on the socket.
    header, bodies = pool.request(p.CALL, 8, 1, ipc_bytes([INPUT]))
    assert header.kind == p.RESULT and not header.flags & p.FLAG_BODY_IN_FILE
    assert read_table(bodies[0]).column("y").to_pylist() == [2, 4, 6]
    # Where the file cannot be written (a full or missing /dev/shm), the socket carries it.
    result_file.unlink()
    shm.rmdir()
    header, bodies = pool.request(p.CALL, 9, 1, ipc_bytes([batch]))
    assert header.kind == p.RESULT and not header.flags & p.FLAG_BODY_IN_FILE
    assert read_table(bodies[0]).num_rows == 20_000


def test_several_calls_in_flight_are_answered_in_order(pool: Pool, udf_file: Path) -> None:
    pool.start()
    pool.register(1, module=str(udf_file), conf={"k": 2})
    for request_id in range(10, 20):
        pool.send(p.CALL, request_id, 1, ipc_bytes([INPUT]))
    for request_id in range(10, 20):
        _, header, bodies = pool.recv()
        assert (header.kind, header.request_id) == (p.RESULT, request_id)
        assert read_table(bodies[0]).column("y").to_pylist() == [2, 4, 6]


def test_apply_error_then_the_worker_keeps_serving(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "flaky.py"
    path.write_text(
        "def apply(state, batch):\n"
        "    if batch.num_rows == 1:\n"
        "        raise ValueError('bad pixel')\n"
        "    return batch\n"
    )
    pool.start()
    pool.register(1, module=str(path))
    header, bodies = pool.request(p.CALL, 2, 1, ipc_bytes([INPUT.slice(0, 1)]))
    assert header.kind == p.ERROR
    payload = error_payload(bodies)
    assert (payload["kind"], payload["phase"], payload["type"]) == ("python", "apply", "ValueError")
    assert payload["message"] == "bad pixel"
    assert payload["frames"][-1] == {"file": str(path), "line": 3, "function": "apply"}

    header, bodies = pool.request(p.CALL, 3, 1, ipc_bytes([INPUT]))
    assert header.kind == p.RESULT
    assert read_table(bodies[0]).equals(pa.Table.from_batches([INPUT]))


def test_init_error(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "init_fails.py"
    path.write_text(
        "def init(conf):\n    raise RuntimeError('no model at ' + conf)\n\ndef apply(s, b):\n    pass\n"
    )
    pool.start()
    header, payload = pool.register(1, module=str(path), conf="/nowhere")
    assert header.kind == p.ERROR
    assert (payload["kind"], payload["phase"], payload["type"]) == ("python", "init", "RuntimeError")
    assert payload["message"] == "no model at /nowhere"
    # The UDF was not registered.
    header, bodies = pool.request(p.CALL, 2, 1, ipc_bytes([INPUT]))
    assert error_payload(bodies)["kind"] == "protocol"


def test_load_errors(pool: Pool, tmp_path: Path) -> None:
    pool.start()
    header, payload = pool.register(1, module=str(tmp_path / "missing.py"))
    assert header.kind == p.ERROR and payload["phase"] == "load"
    assert payload["type"] == "FileNotFoundError"
    header, payload = pool.register(2, code="def apply(:\n", name="broken")
    assert payload["phase"] == "load" and payload["type"] == "SyntaxError"


@pytest.mark.parametrize(
    ("frames", "needle", "ids"),
    [
        ([b"short"], "expected 16 bytes", (0, 0)),
        ([struct.pack("<4sBBHII", b"PUDF", 9, p.CALL, 0, 41, 42)], "received version 9", (41, 42)),
        ([struct.pack("<4sBBHII", b"XXXX", p.VERSION, p.CALL, 0, 43, 44)], "magic", (43, 44)),
        ([struct.pack("<4sBBHII", b"PUDF", p.VERSION, 99, 0, 45, 46)], "unknown message kind 99", (45, 46)),
        ([p.encode_header(p.RESULT, 47, 48), b""], "unexpected RESULT", (47, 48)),
        ([p.encode_header(p.CALL, 49, 1234), ipc_bytes([INPUT])], "not registered", (49, 1234)),
        ([p.encode_header(p.CALL, 50, 1)], "needs at least 1 body frame, got 0", (50, 1)),
        ([p.encode_header(p.REGISTER, 51, 2), b"{not json"], "not valid UTF-8 JSON", (51, 2)),
        ([p.encode_header(p.REGISTER, 52, 2), b'{"name": "x"}'], "missing key", (52, 2)),
    ],
)
def test_protocol_errors_are_answered_and_survived(
    pool: Pool, udf_file: Path, frames: list[bytes], needle: str, ids: tuple[int, int]
) -> None:
    pool.start()
    pool.register(1, module=str(udf_file), conf={"k": 1})
    pool.send_raw(frames)
    _, header, bodies = pool.recv()
    assert header.kind == p.ERROR and (header.request_id, header.udf_id) == ids
    payload = error_payload(bodies)
    assert (payload["kind"], payload["phase"], payload["type"]) == ("protocol", None, "ProtocolError")
    assert needle in payload["message"]
    # Still serving.
    assert pool.request(p.CALL, 60, 1, ipc_bytes([INPUT]))[0].kind == p.RESULT


def test_call_with_garbage_is_a_protocol_error(pool: Pool, udf_file: Path) -> None:
    pool.start()
    pool.register(1, module=str(udf_file), conf={"k": 1})
    _, bodies = pool.request(p.CALL, 2, 1, b"not an arrow stream")
    assert "Arrow IPC stream" in error_payload(bodies)["message"]


def test_closing_stdin_ends_the_worker(pool: Pool) -> None:
    proc, _ = pool.start()
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=5) == 0


def test_prints_go_to_stdout_not_the_socket(pool: Pool, tmp_path: Path) -> None:
    path = tmp_path / "chatty.py"
    path.write_text("def apply(state, batch):\n    print('hello from apply')\n    return batch\n")
    proc = pool.spawn(stdout=subprocess.PIPE)
    pool.recv()
    pool.register(1, module=str(path))
    assert pool.request(p.CALL, 2, 1, ipc_bytes([INPUT]))[0].kind == p.RESULT
    pool.send(p.SHUTDOWN)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout is not None and b"hello from apply" in proc.stdout.read()


def test_sigint_is_ignored(pool: Pool) -> None:
    proc, _ = pool.start()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert proc.poll() is None


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    for args in (["--endpoint", "ipc:///tmp/x"], ["--endpoint", "ipc:///tmp/x", "--id", "nope"]):
        cmd = [sys.executable, "-m", "pyudf.worker", *args]
        done = subprocess.run(cmd, env=worker_env(), capture_output=True, timeout=30)
        assert done.returncode == 2, done.stderr


def test_missing_zmq_is_an_env_error(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import sys

            class _BlockZmq:
                def find_spec(self, name, path=None, target=None):
                    if name == "zmq" or name.startswith("zmq."):
                        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                    return None

            sys.meta_path.insert(0, _BlockZmq())
            """
        )
    )
    done = subprocess.run(
        worker_command("ipc:///nonexistent/pool.sock"),
        env=worker_env(str(blocker)),
        stdin=subprocess.PIPE,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 3
    last = done.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("pyudf-env-error: zmq: "), last


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_parent_death_kills_the_worker(pool: Pool) -> None:
    # A middle process spawns the worker with stdin on /dev/null, so only PDEATHSIG can end it.
    spawner = textwrap.dedent(
        f"""
        import subprocess, sys, time
        proc = subprocess.Popen({worker_command(pool.endpoint)!r}, stdin=subprocess.DEVNULL)
        print(proc.pid, flush=True)
        time.sleep(600)
        """
    )
    middle = subprocess.Popen(
        [sys.executable, "-c", spawner], env=worker_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    pool.procs.append(middle)
    assert middle.stdout is not None
    worker_pid = int(middle.stdout.readline())
    try:
        _, header, _ = pool.recv()
        assert header.kind == p.READY
        stop(middle)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(worker_pid):
            time.sleep(0.05)
        assert not _alive(worker_pid)
    finally:
        if _alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_table_and_dataframe_results_cross_the_wire(pool: Pool, tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    path = tmp_path / "frames.py"
    path.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import pandas as pd
            import pyarrow as pa
            from sklearn.linear_model import LinearRegression

            def init(conf):
                x = np.arange(10, dtype=float).reshape(-1, 1)
                return LinearRegression().fit(x, 2 * x[:, 0] + 1)

            def apply(model, batch):
                x = batch.column("x").to_numpy().astype(float).reshape(-1, 1)
                return pd.DataFrame({"y": model.predict(x)})

            def split(state, batch):
                return pa.Table.from_batches([batch.slice(0, 1), batch.slice(1)])

            def nothing(state, batch):
                return pa.schema([("z", pa.string())]).empty_table()
            """
        )
    )
    pool.start()
    pool.register(1, module=str(path))
    _, bodies = pool.request(p.CALL, 2, 1, ipc_bytes([INPUT]))
    assert read_table(bodies[0]).column("y").to_pylist() == pytest.approx([3.0, 5.0, 7.0])

    pool.register(2, module=str(path), init=None, apply="split")
    _, bodies = pool.request(p.CALL, 3, 2, ipc_bytes([INPUT]))
    _, batches = ipc.read_ipc_stream(bodies[0])
    assert [b.num_rows for b in batches] == [1, 2]

    pool.register(3, module=str(path), init=None, apply="nothing")
    header, bodies = pool.request(p.CALL, 4, 3, ipc_bytes([INPUT]))
    assert header.kind == p.RESULT
    table = read_table(bodies[0])
    assert table.schema == pa.schema([("z", pa.string())]) and table.num_rows == 0
