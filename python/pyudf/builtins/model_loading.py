"""load_model: the saved model at a path, by the loader of its format (given, or detected from the path)."""

from __future__ import annotations

import os

from . import (
    keras_loader,
    onnx_loader,
    savedmodel_loader,
    sklearn_loader,
    torchscript_loader,
    xgboost_loader,
)
from .model_api import SavedModel
from .model_errors import MissingFrameworkError, SavedModelError
from .model_formats import Format, as_format, detect_format


def load_model(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    signature: str | None = None,
    method: str | None = None,
) -> SavedModel:
    """Load the saved model at `path` (format: detected from the path unless given).

    `signature` picks a SavedModel's signature (default `serving_default`); `method` a scikit-learn or
    XGBoost estimator's `predict` (default) or `predict_proba`. Each applies only to those formats.
    A file its framework cannot read raises SavedModelError naming the file, the format and the cause.

    Joblib/pickle files (scikit-learn, XGBoost estimators) and TorchScript files run code when they
    load: load trusted files only.
    """
    name: str = os.path.abspath(os.fspath(path))
    if not os.path.exists(name):
        raise FileNotFoundError(f"no saved model at {name}")
    fmt = detect_format(name) if format is None else as_format(format)
    if signature is not None and fmt != "savedmodel":
        raise SavedModelError(f"signature applies only to a TensorFlow SavedModel; {name} is {fmt}")
    if method is not None and fmt not in ("sklearn", "xgboost"):
        raise SavedModelError(f"method applies only to scikit-learn and XGBoost models; {name} is {fmt}")
    try:
        return _load(name, fmt, signature, method)
    except (SavedModelError, MissingFrameworkError):
        raise
    except Exception as exc:
        # Frameworks say little about a damaged file (a KeyError from pickle, an empty EOFError, Keras's
        # "File not found" for a file that is there): name the file and the format it was read as.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
        raise SavedModelError(
            f"cannot load {name} as format {fmt!r}: {type(exc).__name__}: {detail} (is the file damaged or "
            "incomplete, or a model of another format? format says which)"
        ) from exc


def _load(name: str, fmt: Format, signature: str | None, method: str | None) -> SavedModel:
    if fmt == "keras":
        return keras_loader.load(name)
    if fmt == "savedmodel":
        return savedmodel_loader.load(name, signature)
    if fmt == "sklearn":
        return sklearn_loader.load(name, None if method is None else sklearn_loader.as_method(method))
    if fmt == "xgboost":
        return xgboost_loader.load(name, None if method is None else sklearn_loader.as_method(method))
    if fmt == "onnx":
        return onnx_loader.load(name)
    return torchscript_loader.load(name)
