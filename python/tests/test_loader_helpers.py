"""A version whose model.py fails after importing its helpers leaves them to no later version."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from pyudf.host import UdfError, UdfHost
from pyudf.loader import UdfSpec

INPUT = pa.record_batch({"x": pa.array([1], pa.int64())})


@pytest.fixture
def host() -> Iterator[UdfHost]:
    with UdfHost() as udfs:
        yield udfs
    sys.modules.pop("review_helper", None)


def _version(root: Path, version: int, *, broken: bool) -> UdfSpec:
    directory = root / str(version)
    directory.mkdir(parents=True)
    (directory / "review_helper.py").write_text(f"VERSION = {version}\n")
    (directory / "model.py").write_text(
        "import pyarrow as pa\nimport review_helper\n"
        + ("raise RuntimeError('version is broken after importing its helper')\n" if broken else "")
        + "def apply(state, batch):\n"
        "    return pa.record_batch({'v': pa.array([review_helper.VERSION])})\n"
    )
    module = str(directory / "model.py")
    return UdfSpec(name=f"m/{version}", module=module, code=None, init=None, apply="apply", conf=None)


# Fix in loader.py: load_module drops the helpers of a load that raised (forget_module), as nothing else will.
def test_a_version_that_failed_to_load_leaves_no_helper_behind(host: UdfHost, tmp_path: Path) -> None:
    with pytest.raises(UdfError, match="broken after importing"):
        host.register(1, _version(tmp_path, 1, broken=True))
    host.register(2, _version(tmp_path, 2, broken=False))
    assert host.apply(2, INPUT)[1][0].column("v").to_pylist() == [2]
