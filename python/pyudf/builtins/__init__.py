"""Built-in loaders for saved models: Keras, TensorFlow SavedModel, scikit-learn, XGBoost, ONNX, TorchScript.

`pool.register({ model: path })` serves a saved model through `udf.py` here, with no Python file of the
user's. In Python, with only pyarrow and numpy imported until a model of a framework is loaded:

    model = load_model("digits.keras")            # format from the path, or format="keras"
    out = model.predict(batch)                    # pa.RecordBatch in, pa.RecordBatch out

Joblib/pickle files (scikit-learn, XGBoost estimators) and TorchScript files run code when they load:
load trusted files only.
"""

from __future__ import annotations

from .model_api import SavedModel
from .model_errors import (
    MissingFrameworkError,
    ModelInputError,
    ModelOutputError,
    SavedModelError,
    UnknownFormatError,
)
from .model_formats import EXTENSIONS, FORMATS, Format, detect_format
from .model_loading import load_model

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Format",
    "MissingFrameworkError",
    "ModelInputError",
    "ModelOutputError",
    "SavedModel",
    "SavedModelError",
    "UnknownFormatError",
    "detect_format",
    "load_model",
]
