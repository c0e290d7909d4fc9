"""TorchScript modules through pyudf.builtins: predictions equal the module's own.

PyTorch is optional (python/requirements-torch.txt: its Linux wheel brings gigabytes of CUDA): without
it these tests are skipped, unless PYUDF_REQUIRE_ALL_FRAMEWORKS=1, which makes them fail instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from pyudf import tensors
from pyudf.builtins import ModelInputError, load_model

RNG = np.random.default_rng(3)


@pytest.fixture(scope="module")
def torch() -> Any:
    try:
        module = importlib.import_module("torch")
    except ImportError as exc:
        reason = f"PyTorch is not installed (pip install -r python/requirements-torch.txt): {exc}"
        if os.environ.get("PYUDF_REQUIRE_ALL_FRAMEWORKS") == "1":
            pytest.fail(f"PYUDF_REQUIRE_ALL_FRAMEWORKS=1 but {reason}")
        pytest.skip(reason)
    module.manual_seed(0)
    return module


# Modules to script: TorchScript compiles forward from its source and needs real torch annotations, so
# they live in a file of their own, written and imported once torch is known to be there.
SCRIPTED = """
import torch


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, features: torch.Tensor, offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.linear(features)
        return scores, scores.sum(dim=1) + offset


class Stats(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"mean": x.mean(dim=1), "max": x.amax(dim=1)}
"""


@pytest.fixture(scope="module")
def scripted(torch: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("torch") / "scripted_nets.py"
    path.write_text(SCRIPTED)
    spec = importlib.util.spec_from_file_location("scripted_nets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jit(torch: Any, how: str, module: Any, *example: Any) -> Any:
    with warnings.catch_warnings():
        # torch.jit is deprecated in favour of torch.export, but TorchScript files are what users have.
        warnings.simplefilter("ignore", FutureWarning)
        return torch.jit.script(module) if how == "script" else torch.jit.trace(module, example)


def test_a_traced_module_predicts_what_it_computes(torch: Any, tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    traced = jit(torch, "trace", net, torch.zeros(2, 4))
    path = tmp_path / "net.pt"
    traced.save(str(path))
    model = load_model(path)
    assert (model.format, model.output_names) == ("torchscript", ("output",))
    x = RNG.standard_normal((40, 4))  # float64: cast to the module's float32 parameters
    out = model.predict(pa.record_batch({"anything": tensors.from_numpy(x)}))
    with torch.no_grad():
        expected = traced(torch.from_numpy(x.astype(np.float32))).numpy()
    assert out.schema == pa.schema([("output", pa.list_(pa.float32(), 3))])
    np.testing.assert_array_equal(tensors.to_numpy(out.column("output")), expected)


def test_a_scripted_module_takes_its_forward_arguments_by_name_and_returns_a_tuple(
    torch: Any, scripted: Any, tmp_path: Path
) -> None:
    net = jit(torch, "script", scripted.Net().eval())
    path = tmp_path / "net.torchscript"
    net.save(str(path))
    model = load_model(path)
    assert (model.input_names, model.output_names) == (("features", "offset"), ("output_0", "output_1"))
    features = RNG.standard_normal((10, 3)).astype(np.float32)
    offset = RNG.standard_normal(10).astype(np.float32)
    columns = {"offset": pa.array(offset), "features": tensors.from_numpy(features)}
    out = model.predict(pa.record_batch(columns))
    with torch.no_grad():
        scores, total = net(torch.from_numpy(features), torch.from_numpy(offset))
    np.testing.assert_array_equal(tensors.to_numpy(out.column("output_0")), scores.numpy())
    np.testing.assert_array_equal(out.column("output_1").to_numpy(), total.numpy())
    with pytest.raises(ModelInputError, match=r"features, offset; .*\(missing: offset; unexpected: shift\)"):
        model.predict(pa.record_batch({"shift": columns["offset"], "features": columns["features"]}))


def test_a_module_returning_a_dict_has_one_column_per_key(torch: Any, scripted: Any, tmp_path: Path) -> None:
    path = tmp_path / "stats.pth"
    jit(torch, "script", scripted.Stats()).save(str(path))
    model = load_model(path)
    x = RNG.standard_normal((5, 6))
    out = model.predict(pa.record_batch({"x": tensors.from_numpy(x)}))
    # No parameters to take a dtype from: float64 stays float64.
    assert out.schema == pa.schema([("mean", pa.float64()), ("max", pa.float64())])
    np.testing.assert_array_equal(out.column("max").to_numpy(), x.max(axis=1))
    assert model.output_names == ("mean", "max")
