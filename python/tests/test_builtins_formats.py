"""pyudf.builtins with no model loaded: format detection, options, missing frameworks, udf.py's conf."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from pyudf.builtins import (
    EXTENSIONS,
    FORMATS,
    MissingFrameworkError,
    SavedModelError,
    UnknownFormatError,
    detect_format,
    load_model,
)
from pyudf.builtins import udf as builtin_udf

PYTHON_DIR = Path(__file__).resolve().parent.parent


def unary_onnx(path: Path, op: str, output: str = "y") -> Path:
    """An ONNX model of one float64 operator (Neg, Abs) from x (N,) to `output` (N,)."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node(op, ["x"], [output])], op,
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N"])],
        [helper.make_tensor_value_info(output, TensorProto.DOUBLE, ["N"])],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("m.keras", "keras"), ("m.h5", "keras"), ("m.HDF5", "keras"),
        ("m.joblib", "sklearn"), ("m.pkl", "sklearn"), ("m.pickle", "sklearn"),
        ("m.ubj", "xgboost"), ("m.onnx", "onnx"),
        ("m.pt", "torchscript"), ("m.pth", "torchscript"), ("m.torchscript", "torchscript"),
    ],
)
def test_formats_are_recognised_from_the_extension(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert detect_format(path) == fmt
    assert detect_format(str(path)) == fmt


def test_a_directory_holding_saved_model_pb_is_a_savedmodel(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert detect_format(tmp_path) == "savedmodel"


def test_an_unknown_name_is_an_error_naming_the_path_the_extensions_and_format(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"")
    with pytest.raises(UnknownFormatError) as info:
        detect_format(path)
    message = str(info.value)
    assert str(path) in message
    for ext in EXTENSIONS:
        assert ext in message
    assert "format: 'keras' | 'savedmodel' | 'sklearn' | 'xgboost' | 'onnx' | 'torchscript'" in message
    with pytest.raises(UnknownFormatError, match="directory without saved_model.pb"):
        detect_format(tmp_path)
    # load_model says the same: nothing is loaded from a file whose format is unknown.
    with pytest.raises(UnknownFormatError, match="format:"):
        load_model(path)


def test_a_missing_path_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no saved model at .*nothing.onnx"):
        load_model(tmp_path / "nothing.onnx")
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "nothing.onnx")


def test_options_are_checked_against_the_format(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"")
    with pytest.raises(UnknownFormatError, match="format must be one of keras, savedmodel"):
        load_model(path, "tflite")
    with pytest.raises(SavedModelError, match="signature applies only to a TensorFlow SavedModel"):
        load_model(path, signature="serving_default")
    with pytest.raises(SavedModelError, match="method applies only to scikit-learn and XGBoost"):
        load_model(path, method="predict_proba")
    pickle = tmp_path / "model.joblib"
    pickle.write_bytes(b"")
    with pytest.raises(SavedModelError, match="method must be one of predict, predict_proba; got 'transf"):
        load_model(pickle, method="transform")
    assert FORMATS == ("keras", "savedmodel", "sklearn", "xgboost", "onnx", "torchscript")


@pytest.mark.parametrize(
    ("fmt", "module", "package"),
    [
        ("keras", "keras", "tensorflow-cpu"),
        ("savedmodel", "tensorflow", "tensorflow-cpu"),
        ("sklearn", "joblib", "joblib"),
        ("xgboost", "xgboost", "xgboost-cpu"),
        ("onnx", "onnxruntime", "pip install onnxruntime"),
        ("torchscript", "torch", "pip install torch"),
    ],
)
def test_a_missing_framework_says_which_pip_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, module: str, package: str
) -> None:
    path = tmp_path / "model"
    path.mkdir()
    # None in sys.modules makes `import module` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingFrameworkError) as info:
        load_model(path, fmt)
    message = str(info.value)
    assert f"needs the Python package {module!r}" in message
    assert package in message
    assert sys.executable in message


def test_a_pickle_needing_a_missing_package_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib
    from sklearn.linear_model import LinearRegression

    path = tmp_path / "model.joblib"
    joblib.dump(LinearRegression().fit(np.eye(3), np.arange(3.0)), path)
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingFrameworkError, match="'sklearn'.*pip install scikit-learn"):
        load_model(path)


def test_importing_pyudf_builtins_imports_no_framework() -> None:
    code = (
        "import sys, pyudf.builtins, pyudf.builtins.udf\n"
        "heavy = ['tensorflow', 'keras', 'torch', 'sklearn', 'joblib', 'xgboost', 'onnx', 'onnxruntime',\n"
        "         'pandas']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (None, "conf must be an object with keys path, format, signature, method"),
        ({"path": "m.onnx"}, "conf.path must be the absolute path of a saved model; got 'm.onnx'"),
        ({"path": "/abs/m.onnx", "weights": 1}, "conf has unknown key"),
        ({"path": "/abs/m.onnx", "format": 3}, "conf.format must be a string or null; got 3"),
    ],
)
def test_the_builtin_udf_checks_its_conf(conf: Any, message: str) -> None:
    with pytest.raises(SavedModelError, match=message):
        builtin_udf.init(conf)


def test_the_builtin_udf_loads_and_applies_a_model(tmp_path: Path) -> None:
    path = unary_onnx(tmp_path / "neg.onnx", "Neg", "negated")
    conf = {"path": str(path), "format": None, "signature": None, "method": None}
    model = builtin_udf.init(conf)
    out = builtin_udf.apply(model, pa.record_batch({"value": pa.array([1.5, -2.0])}))
    assert out.schema.names == ["negated"]
    assert out.column(0).to_pylist() == [-1.5, 2.0]
    unknown = tmp_path / "neg.data"
    unknown.write_bytes(path.read_bytes())
    with pytest.raises(UnknownFormatError, match="format"):
        builtin_udf.init({**conf, "path": str(unknown)})
    # Given the format, the name does not matter.
    assert builtin_udf.init({**conf, "path": str(unknown), "format": "onnx"}).output_names == ("negated",)


def test_two_saved_models_in_one_worker_through_the_udf_host(tmp_path: Path) -> None:
    """What a worker does for register({ model }) twice: udf.py loaded as two UDFs, each with its model."""
    from pyudf.host import UdfHost
    from pyudf.loader import UdfSpec

    paths = [unary_onnx(tmp_path / f"{op}.onnx", op) for op in ("Neg", "Abs")]
    module = str(Path(builtin_udf.__file__).resolve())

    def spec(path: Path) -> UdfSpec:
        conf = {"path": str(path), "format": None, "signature": None, "method": None}
        return UdfSpec(name=path.stem, module=module, code=None, init="init", apply="apply", conf=conf)

    batch = pa.record_batch({"x": pa.array([-1.5, 2.0])})
    with UdfHost() as host:
        host.register(1, spec(paths[0]))
        host.register(2, spec(paths[1]))
        assert host.apply(1, batch)[1][0].column("y").to_pylist() == [1.5, -2.0]
        assert host.apply(2, batch)[1][0].column("y").to_pylist() == [1.5, 2.0]
        host.unregister(1)
        assert host.apply(2, batch)[1][0].column("y").to_pylist() == [1.5, 2.0]
        host.register(3, spec(paths[0]))
        assert host.apply(3, batch)[1][0].column("y").to_pylist() == [1.5, -2.0]
