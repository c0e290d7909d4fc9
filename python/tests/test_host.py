"""UdfHost with no socket at all: register, apply with normalisation, failures by phase, unregister."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pyudf import loader
from pyudf.host import UdfError, UdfHost, UnknownUdfError
from pyudf.loader import UdfSpec

INPUT = pa.record_batch({"x": pa.array([1, 2, 3], pa.int64())})

SCALE = """
import pyarrow as pa
import pyarrow.compute as pc

def init(conf):
    return {"k": conf["k"], "calls": 0}

def apply(state, batch):
    state["calls"] += 1
    return pa.record_batch({"y": pc.multiply(batch.column("x"), state["k"])})
"""


def inline(name: str, code: str, *, conf: Any = None) -> UdfSpec:
    """A spec for inline source with the default hooks (init may be absent)."""
    return UdfSpec(name=name, module=None, code=code, init="init", apply="apply", conf=conf)


@pytest.fixture
def host() -> Iterator[UdfHost]:
    with UdfHost() as udfs:
        yield udfs


def test_register_runs_init_once_and_apply_sees_its_state(host: UdfHost) -> None:
    host.register(1, inline("scale", SCALE, conf={"k": 10}))
    assert 1 in host and len(host) == 1
    schema, batches = host.apply(1, INPUT)
    assert schema == pa.schema([("y", pa.int64())])
    assert [b.column("y").to_pylist() for b in batches] == [[10, 20, 30]]
    host.apply(1, INPUT.slice(0, 1))
    udf = host.get(1)
    assert udf is not None and udf.state == {"k": 10, "calls": 2}


def test_stateless_udf_without_init_gets_none(host: UdfHost) -> None:
    host.register(1, inline("echo", "def apply(state, batch):\n    return {'state': [repr(state)]}\n"))
    _, batches = host.apply(1, INPUT)
    assert batches[0].to_pydict() == {"state": ["None"]}


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("pa.Table.from_batches([batch.slice(0, 1), batch.slice(1)])", [[1], [2, 3]]),
        ("pd.DataFrame({'x': batch.column('x').to_numpy() * 2}, index=[7, 8, 9])", [[2, 4, 6]]),
        ("{'x': np.asarray(batch.column('x')) + 1}", [[2, 3, 4]]),
        ("{'x': [v * v for v in batch.column('x').to_pylist()]}", [[1, 4, 9]]),
        ("{'x': pa.array([7, 8, 9])}", [[7, 8, 9]]),
    ],
)
def test_apply_results_are_normalised(host: UdfHost, returns: str, expected: list[list[int]]) -> None:
    code = (
        "import numpy as np\nimport pandas as pd\nimport pyarrow as pa\n\n"
        f"def apply(state, batch):\n    return {returns}\n"
    )
    host.register(1, inline("shape", code))
    schema, batches = host.apply(1, INPUT)
    # Only "x": a DataFrame's index is not sent as a column.
    assert schema.names == ["x"] and pa.types.is_integer(schema.field("x").type)
    assert all(b.schema == schema for b in batches)
    assert [b.column("x").to_pylist() for b in batches] == expected


def test_an_empty_table_keeps_its_schema(host: UdfHost) -> None:
    code = (
        "import pyarrow as pa\n\n"
        "def apply(state, batch):\n    return pa.schema([('z', pa.string())]).empty_table()\n"
    )
    host.register(1, inline("empty", code))
    schema, batches = host.apply(1, INPUT)
    assert schema == pa.schema([("z", pa.string())])
    assert sum(b.num_rows for b in batches) == 0


def test_an_unsupported_result_is_an_apply_error(host: UdfHost) -> None:
    host.register(1, inline("list", "def apply(state, batch):\n    return [1, 2, 3]\n"))
    with pytest.raises(UdfError) as caught:
        host.apply(1, INPUT)
    assert caught.value.phase == "apply"
    assert isinstance(caught.value.cause, TypeError)
    assert "apply returned list" in str(caught.value.cause)
    # The UDF stays registered: a wrong answer is not a broken UDF.
    assert 1 in host


def test_an_exception_in_apply_carries_the_users_frames(host: UdfHost) -> None:
    code = "def apply(state, batch):\n    raise ValueError('bad pixel')\n"
    host.register(1, inline("boom", code))
    with pytest.raises(UdfError) as caught:
        host.apply(1, INPUT)
    error = caught.value
    assert error.phase == "apply" and error.__cause__ is error.cause
    assert str(error) == "UDF apply failed: ValueError: bad pixel"
    payload = error.payload()
    assert (payload["kind"], payload["phase"], payload["type"]) == ("python", "apply", "ValueError")
    assert payload["frames"] == [{"file": "<pyudf:boom>", "line": 2, "function": "apply"}]
    assert "raise ValueError('bad pixel')" in payload["traceback"]


def test_a_raising_init_is_phase_init_and_leaves_nothing_registered(host: UdfHost) -> None:
    code = (
        "def init(conf):\n    raise RuntimeError('no model at ' + conf)\n\n"
        "def apply(s, b):\n    return b\n"
    )
    spec = inline("noinit", code, conf="/nowhere")
    with pytest.raises(UdfError) as caught:
        host.register(3, spec)
    assert caught.value.phase == "init"
    assert isinstance(caught.value.cause, RuntimeError)
    assert caught.value.payload()["message"] == "no model at /nowhere"
    assert 3 not in host and host.get(3) is None
    assert loader.module_name(spec, 3) not in sys.modules
    with pytest.raises(UnknownUdfError, match="udf_id 3 is not registered"):
        host.apply(3, INPUT)


def test_a_syntax_error_is_phase_load(host: UdfHost) -> None:
    spec = inline("broken", "def apply(:\n")
    with pytest.raises(UdfError) as caught:
        host.register(4, spec)
    assert caught.value.phase == "load"
    assert isinstance(caught.value.cause, SyntaxError)
    payload = caught.value.payload()
    assert payload["type"] == "SyntaxError"
    assert payload["frames"][-1]["file"] == "<pyudf:broken>"
    assert 4 not in host and loader.module_name(spec, 4) not in sys.modules


def test_a_missing_file_or_hook_is_phase_load(host: UdfHost, tmp_path: Path) -> None:
    path = str(tmp_path / "missing.py")
    missing = UdfSpec(name="m", module=path, code=None, init=None, apply="apply", conf=None)
    with pytest.raises(UdfError) as caught:
        host.register(5, missing)
    assert caught.value.phase == "load" and isinstance(caught.value.cause, FileNotFoundError)

    with pytest.raises(UdfError) as caught:
        host.register(5, inline("nohook", "def predict(state, batch):\n    return batch\n"))
    assert caught.value.phase == "load" and isinstance(caught.value.cause, AttributeError)
    assert "'apply'" in str(caught.value.cause)
    assert 5 not in host


def test_unregister_frees_the_module_and_is_idempotent(host: UdfHost) -> None:
    spec = inline("scale", SCALE, conf={"k": 2})
    host.register(1, spec)
    name = loader.module_name(spec, 1)
    assert name in sys.modules
    assert host.unregister(1) is True
    assert name not in sys.modules and 1 not in host
    assert host.unregister(1) is False
    with pytest.raises(UnknownUdfError):
        host.apply(1, INPUT)


def test_unregister_lets_the_state_be_collected(host: UdfHost) -> None:
    # The state sits in a reference cycle, as framework graphs do: only a collection frees it.
    code = (
        "class Model:\n"
        "    def __init__(self):\n"
        "        self.me = self\n"
        "\n"
        "def init(conf):\n"
        "    return Model()\n"
        "\n"
        "def apply(model, batch):\n"
        "    return batch\n"
    )
    host.register(1, inline("cyclic", code))
    udf = host.get(1)
    assert udf is not None
    state = weakref.ref(udf.state)
    del udf
    host.unregister(1)
    assert state() is None


def test_re_registering_replaces_the_udf(host: UdfHost) -> None:
    host.register(1, inline("scale", SCALE, conf={"k": 2}))
    host.register(1, inline("scale", SCALE, conf={"k": 5}))
    _, batches = host.apply(1, INPUT)
    assert batches[0].column("y").to_pylist() == [5, 10, 15]
    assert len(host) == 1

    # A failed re-registration drops the old UDF first: the udf_id is then unregistered.
    with pytest.raises(UdfError):
        host.register(1, inline("broken", "def apply(:\n"))
    assert 1 not in host


def test_two_udfs_from_one_source_have_separate_state(host: UdfHost) -> None:
    host.register(1, inline("scale", SCALE, conf={"k": 2}))
    host.register(2, inline("scale", SCALE, conf={"k": 3}))
    host.apply(1, INPUT)
    host.apply(1, INPUT)
    host.apply(2, INPUT)
    first, second = host.get(1), host.get(2)
    assert first is not None and second is not None
    assert first.module is not second.module
    assert (first.state["calls"], second.state["calls"]) == (2, 1)


def test_close_unregisters_everything() -> None:
    specs = {udf_id: inline("scale", SCALE, conf={"k": udf_id}) for udf_id in (1, 2)}
    with UdfHost() as host:
        for udf_id, spec in specs.items():
            host.register(udf_id, spec)
        assert len(host) == 2
    assert len(host) == 0
    assert not any(loader.module_name(spec, udf_id) in sys.modules for udf_id, spec in specs.items())


def test_a_spec_round_trips_through_its_register_body() -> None:
    spec = inline("scale", SCALE, conf={"k": [1, 2]})
    assert UdfSpec.from_json(spec.to_json()) == spec


def _version_dir(root: Path, version: int) -> Path:
    """A model version as a repository holds it: model.py importing a sibling helper module."""
    directory = root / "model" / str(version)
    (directory / "tools").mkdir(parents=True, exist_ok=True)
    (directory / "helper.py").write_text(f"VERSION = {version}\n")
    (directory / "tools" / "__init__.py").write_text(f"VERSION = {version}\n")
    (directory / "model.py").write_text(
        "import pyarrow as pa\nimport helper\nimport tools\n\n"
        "def apply(state, batch):\n"
        "    v = helper.VERSION * 10 + tools.VERSION\n"
        "    return pa.record_batch({'v': pa.array([v] * batch.num_rows)})\n"
    )
    return directory / "model.py"


def test_each_version_of_a_model_imports_its_own_helper_modules(host: UdfHost, tmp_path: Path) -> None:
    """Hot reload loads version 2 while version 1 still serves: neither may see the other's `helper`."""
    def spec(version: int) -> UdfSpec:
        return UdfSpec(name=f"m/{version}", module=str(_version_dir(tmp_path, version)), code=None,
                       init=None, apply="apply", conf=None)

    def served(udf_id: int) -> int:
        return host.apply(udf_id, INPUT)[1][0].column("v")[0].as_py()

    host.register(1, spec(1))
    host.register(2, spec(2))
    assert (served(1), served(2)) == (11, 22)
    host.unregister(1)
    assert "helper" not in sys.modules or sys.modules["helper"].VERSION == 2
    host.register(3, spec(3))
    assert served(3) == 33
    host.unregister(2)
    host.unregister(3)
    # Unloading forgets a version's helpers, so a reload of version 1 imports them afresh.
    assert "helper" not in sys.modules and "tools" not in sys.modules
    host.register(4, spec(1))
    assert served(4) == 11
