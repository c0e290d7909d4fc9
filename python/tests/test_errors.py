"""ErrorPayload contents: qualified type, user frames only, inline-code file names and source lines."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zmq

from pyudf import arrow_ipc as ipc
from pyudf import errors, loader
from pyudf import protocol as p
from pyudf.host import UdfHost
from pyudf.message_loop import MessageLoop


class RecordingSocket:
    """Stands in for the DEALER so the message loop's handlers run in-process."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []

    def send_multipart(self, frames: Any, copy: bool = True) -> None:
        self.sent.append(list(frames))


def dispatch(loop: MessageLoop, kind: int, udf_id: int, body: bytes) -> tuple[p.Header, dict[str, Any]]:
    socket: RecordingSocket = loop._socket  # type: ignore[assignment]
    header = p.Header(kind=kind, request_id=udf_id, udf_id=udf_id)
    loop._dispatch(header, [zmq.Frame(body)])
    frames = socket.sent.pop()
    answer = p.decode_header(bytes(frames[0]))
    return answer, json.loads(bytes(frames[1])) if len(frames) > 1 and answer.kind == p.ERROR else {}


def spec(**fields: Any) -> bytes:
    full = {"name": "udf", "module": None, "code": None, "init": "init", "apply": "apply", "conf": None}
    full.update(fields)
    return json.dumps(full).encode()


@pytest.fixture
def host() -> Iterator[UdfHost]:
    with UdfHost() as udfs:
        yield udfs


@pytest.fixture
def loop(host: UdfHost) -> MessageLoop:
    return MessageLoop(RecordingSocket(), host=host)  # type: ignore[arg-type]


def call_body() -> bytes:
    batch = pa.record_batch({"x": [1, 2]})
    return bytes(ipc.write_ipc_stream(batch.schema, [batch]))


def test_qualified_name() -> None:
    assert errors.qualified_name(ValueError) == "ValueError"
    assert errors.qualified_name(json.JSONDecodeError) == "json.decoder.JSONDecodeError"


def test_apply_error_points_at_the_user_file(loop: MessageLoop, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(
        "class BadPixel(Exception):\n"
        "    pass\n"
        "\n"
        "def check(batch):\n"
        "    raise BadPixel('bad pixel')\n"
        "\n"
        "def apply(state, batch):\n"
        "    check(batch)\n"
    )
    answer, _ = dispatch(loop, p.REGISTER, 1, spec(module=str(path)))
    assert answer.kind == p.REGISTERED
    answer, payload = dispatch(loop, p.CALL, 1, call_body())
    assert answer.kind == p.ERROR
    assert payload["kind"] == "python" and payload["phase"] == "apply"
    assert payload["type"] == "pyudf_udf_1_model.BadPixel"
    assert payload["message"] == "bad pixel"
    assert payload["frames"] == [
        {"file": str(path), "line": 8, "function": "apply"},
        {"file": str(path), "line": 5, "function": "check"},
    ]
    assert "raise BadPixel('bad pixel')" in payload["traceback"]
    assert payload["traceback"].startswith("Traceback (most recent call last):")


def test_load_error_frames_skip_importlib_and_worker(loop: MessageLoop, tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("x = 1\nimport definitely_not_a_module_xyz\n")
    answer, payload = dispatch(loop, p.REGISTER, 2, spec(module=str(path)))
    assert answer.kind == p.ERROR and payload["phase"] == "load"
    assert payload["type"] == "ModuleNotFoundError"
    assert payload["frames"] == [{"file": str(path), "line": 2, "function": "<module>"}]
    assert payload["traceback"].startswith(f'Traceback (most recent call last):\n  File "{path}", line 2')


def test_syntax_error_frame_points_at_the_line(loop: MessageLoop, tmp_path: Path) -> None:
    path = tmp_path / "typo.py"
    path.write_text("def apply(state, batch):\n    return (\n\ndef x(:\n")
    _, payload = dispatch(loop, p.REGISTER, 3, spec(module=str(path)))
    assert payload["phase"] == "load" and payload["type"] == "SyntaxError"
    assert payload["frames"][-1]["file"] == str(path)
    # The traceback is the user's file and line alone: no importlib or worker frame before it.
    assert payload["traceback"].startswith(f'  File "{path}", line ')
    assert "frozen" not in payload["traceback"] and "pyudf" not in payload["traceback"]


def test_inline_code_file_name_and_source_line(loop: MessageLoop) -> None:
    code = "def apply(state, batch):\n    return 1 / 0  # divide\n"
    answer, _ = dispatch(loop, p.REGISTER, 4, spec(name="div", code=code))
    assert answer.kind == p.REGISTERED
    _, payload = dispatch(loop, p.CALL, 4, call_body())
    assert payload["type"] == "ZeroDivisionError"
    assert payload["frames"] == [{"file": "<pyudf:div>", "line": 2, "function": "apply"}]
    assert 'File "<pyudf:div>", line 2, in apply' in payload["traceback"]
    assert "return 1 / 0  # divide" in payload["traceback"]


def test_init_error_phase(loop: MessageLoop) -> None:
    code = "def init(conf):\n    raise KeyError(conf['missing'])\n\ndef apply(s, b):\n    return b\n"
    _, payload = dispatch(loop, p.REGISTER, 5, spec(name="i", code=code, conf={}))
    assert payload["phase"] == "init" and payload["type"] == "KeyError"
    assert payload["frames"] == [{"file": "<pyudf:i>", "line": 2, "function": "init"}]


def test_missing_hooks(loop: MessageLoop, tmp_path: Path) -> None:
    path = tmp_path / "hooks.py"
    path.write_text("def predict(state, batch):\n    return batch\n\ndef helper():\n    pass\n")
    _, payload = dispatch(loop, p.REGISTER, 6, spec(module=str(path)))
    assert payload["phase"] == "load" and payload["type"] == "AttributeError"
    assert str(path) in payload["message"] and "'apply'" in payload["message"]
    assert "helper, predict" in payload["message"]
    _, payload = dispatch(loop, p.REGISTER, 6, spec(module=str(path), apply="predict", init="setup"))
    assert "init function 'setup'" in payload["message"]
    # The default init may be absent: the state is then None.
    answer, _ = dispatch(loop, p.REGISTER, 6, spec(module=str(path), apply="predict"))
    assert answer.kind == p.REGISTERED


def test_wrong_return_type(loop: MessageLoop) -> None:
    dispatch(loop, p.REGISTER, 7, spec(name="t", code="def apply(s, b):\n    return [1]\n"))
    _, payload = dispatch(loop, p.CALL, 7, call_body())
    assert payload["phase"] == "apply" and payload["type"] == "TypeError"
    assert "apply returned list" in payload["message"]


def test_two_udfs_from_one_file_have_separate_state(loop: MessageLoop, host: UdfHost, tmp_path: Path) -> None:
    path = tmp_path / "counter.py"
    path.write_text(
        "calls = 0\n"
        "def apply(state, batch):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    return {'n': [calls] * batch.num_rows}\n"
    )
    for udf_id in (8, 9):
        dispatch(loop, p.REGISTER, udf_id, spec(module=str(path)))
    for _ in range(2):
        dispatch(loop, p.CALL, 8, call_body())
    dispatch(loop, p.CALL, 9, call_body())
    first, second = host.get(8), host.get(9)
    assert first is not None and second is not None
    assert (first.module.module.calls, second.module.module.calls) == (2, 1)


def test_spec_shape_is_validated() -> None:
    with pytest.raises(p.ProtocolError, match="missing key"):
        loader.UdfSpec.from_json({"name": "x"})
    with pytest.raises(p.ProtocolError, match="exactly one of module and code"):
        loader.UdfSpec.from_json(json.loads(spec(module="/a.py", code="x")))
    with pytest.raises(p.ProtocolError, match="absolute path"):
        loader.UdfSpec.from_json(json.loads(spec(module="model.py")))
    # A declared output that is not a schema stream, or one pyarrow cannot read (an Int without a width,
    # as another copy of apache-arrow once wrote), is a protocol error, never a worker crash.
    for output in ["not base64!", base64.b64encode(b"garbage").decode(), INT_WITHOUT_WIDTH]:
        with pytest.raises(p.ProtocolError, match="UdfSpec.output is not a base64 Arrow IPC stream"):
            loader.UdfSpec.from_json({**json.loads(spec(code="x")), "output": output})


# A schema with one Int field whose bitWidth is 0: what apache-arrow's ES module build wrote for a type
# object from its CommonJS build (pyarrow: ArrowNotImplementedError).
INT_WITHOUT_WIDTH = base64.b64encode(
    bytes.fromhex(
        "ffffffff700000001000000000000a0010000e00070008000a0000000000000110000000000004000800080000000400"
        "080000000400000001000000140000001000180004000b001300140000000c0010000000140000000000000114000000"
        "000000021000000001000000790000000000000000000000ffffffff00000000"
    )
).decode()
