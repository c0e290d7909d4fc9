"""Saved-model formats, and which one a path is, from its name (or a SavedModel directory's contents)."""

from __future__ import annotations

import os
from typing import Literal

from .model_errors import UnknownFormatError

Format = Literal["keras", "savedmodel", "sklearn", "xgboost", "onnx", "torchscript"]
FORMATS: tuple[Format, ...] = ("keras", "savedmodel", "sklearn", "xgboost", "onnx", "torchscript")

# Lower-case file extensions and the format each one means. XGBoost's `.json` is not here: a JSON file
# could be anything, so a native XGBoost model saved as JSON needs format "xgboost".
EXTENSIONS: dict[str, Format] = {
    ".keras": "keras",
    ".h5": "keras",
    ".hdf5": "keras",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".ubj": "xgboost",
    ".onnx": "onnx",
    ".pt": "torchscript",
    ".pth": "torchscript",
    ".torchscript": "torchscript",
}

SAVED_MODEL_FILE = "saved_model.pb"


def as_format(value: object, what: str = "format") -> Format:
    """`value` as a Format; a SavedModelError-derived error naming the formats otherwise."""
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise UnknownFormatError(f"{what} must be one of {', '.join(FORMATS)}; got {value!r}")


def recognised() -> str:
    """The names detect_format recognises, for error messages."""
    by_format: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(ext)
    by_format.setdefault("savedmodel", []).append(f"a directory holding {SAVED_MODEL_FILE}")
    return "; ".join(f"{' '.join(names)} ({fmt})" for fmt, names in by_format.items())


def detect_format(path: str | os.PathLike[str]) -> Format:
    """The format of the saved model at `path`: from its extension, or `savedmodel` for a directory
    holding saved_model.pb. Raises UnknownFormatError (naming the path, the recognised names and the
    `format` option) when neither says it, FileNotFoundError when nothing is there."""
    name = os.fspath(path)
    if os.path.isdir(name):
        if os.path.isfile(os.path.join(name, SAVED_MODEL_FILE)):
            return "savedmodel"
        raise UnknownFormatError(
            f"{name} is a directory without {SAVED_MODEL_FILE}, so not a TensorFlow SavedModel; "
            f"recognised are: {recognised()}"
        )
    if not os.path.exists(name):
        raise FileNotFoundError(f"no saved model at {name}")
    fmt = EXTENSIONS.get(os.path.splitext(name)[1].lower())
    if fmt is None:
        raise UnknownFormatError(
            f"cannot tell the format of the saved model {name} from its name; recognised are: "
            f"{recognised()}. Give it as format: {' | '.join(repr(f) for f in FORMATS)}"
        )
    return fmt
