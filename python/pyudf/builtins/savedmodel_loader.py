"""TensorFlow SavedModel directories, called through one of their signatures (default `serving_default`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework_import import require
from .input_mapping import Array, InputSpec
from .model_api import ArrayModel
from .model_errors import SavedModelError

DEFAULT_SIGNATURE = "serving_default"


class TensorFlowModel(ArrayModel):
    """A SavedModel signature: inputs are its named arguments (dtypes and shapes as declared), outputs
    the keys of the dict it returns, both in name order (a SavedModel stores them in protobuf maps,
    which keep none). Called with the inputs as keyword tensors."""

    def __init__(self, path: str, loaded: Any, function: Any, signature: str) -> None:
        args: Any = function.structured_input_signature
        specs: dict[str, Any] = dict(args[1]) if args else {}
        super().__init__("savedmodel", path, [_input(name, specs[name]) for name in sorted(specs)])
        self.signature = signature
        self.function = function
        # The loaded object owns the variables the signature reads; keep it alive with the function.
        self.loaded = loaded
        self._outputs = tuple(sorted(str(k) for k in dict(function.structured_outputs)))

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        result: dict[str, Any] = dict(self.function(**inputs))
        return {name: np.asarray(result[name]) for name in self._outputs}


def _input(name: str, spec: Any) -> InputSpec:
    shape: Any = spec.shape.as_list() if spec.shape.rank is not None else None
    return InputSpec(str(name), np.dtype(spec.dtype.as_numpy_dtype), None if shape is None else tuple(shape))


def load(path: str, signature: str | None = None) -> TensorFlowModel:
    tf = require("tensorflow", "a TensorFlow SavedModel")
    loaded = tf.saved_model.load(path)
    name = DEFAULT_SIGNATURE if signature is None else signature
    signatures: dict[str, Any] = dict(loaded.signatures)
    if name not in signatures:
        available = ", ".join(repr(s) for s in signatures) or "none (save it with signatures=...)"
        raise SavedModelError(f"the SavedModel {path} has no signature {name!r}; its signatures: {available}")
    return TensorFlowModel(path, loaded, signatures[name], name)
