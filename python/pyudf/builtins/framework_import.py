"""Importing a model's framework only when a model needs it, with the pip package to install if absent."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from .model_errors import MissingFrameworkError

# What to `pip install` for a module a saved model imports (also while joblib unpickles an estimator).
PIP_PACKAGES: dict[str, str] = {
    "keras": "tensorflow-cpu (or tensorflow, which brings keras)",
    "tensorflow": "tensorflow-cpu (or tensorflow)",
    "sklearn": "scikit-learn",
    "joblib": "joblib (scikit-learn brings it)",
    "xgboost": "xgboost-cpu (or xgboost)",
    "onnxruntime": "onnxruntime",
    "torch": "torch (CPU only: pip install torch --index-url https://download.pytorch.org/whl/cpu)",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
}


def pip_package(module: str) -> str:
    top = module.split(".", 1)[0]
    return PIP_PACKAGES.get(top, top)


def missing(module: str, needed_for: str, cause: BaseException) -> MissingFrameworkError:
    """The error for a framework `module` that failed to import while loading `needed_for`."""
    return MissingFrameworkError(
        f"loading {needed_for} needs the Python package {module!r}, which {sys.executable} cannot import "
        f"({cause}); install it into that Python: pip install {pip_package(module)}"
    )


def require(module: str, needed_for: str) -> Any:
    """Import `module` (a framework: untyped here, hence Any), or raise MissingFrameworkError."""
    if module in ("tensorflow", "keras"):
        # TensorFlow's C++ start-up notices would otherwise fill the worker's log on every load.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(module, needed_for, exc) from exc
