"""The UDF module that serves a saved model: what `pool.register({ model })` registers in each worker.

Its conf comes from register() (src/udf/register-options.ts): {"path": absolute path, "format": null or
a format, "signature": null or a SavedModel signature, "method": null, "predict" or "predict_proba"}.
Joblib/pickle and TorchScript files run code when they load: serve trusted files only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast

import pyarrow as pa

from pyudf.builtins import SavedModel, SavedModelError, load_model

CONF_KEYS = ("path", "format", "signature", "method")


def init(conf: object) -> SavedModel:
    """Validate the conf and load the model: the UDF's state."""
    if not isinstance(conf, Mapping):
        raise SavedModelError(f"conf must be an object with keys {', '.join(CONF_KEYS)}; got {conf!r}")
    options = cast("Mapping[str, Any]", conf)
    unknown = sorted(str(k) for k in options if k not in CONF_KEYS)
    if unknown:
        raise SavedModelError(f"conf has unknown key(s) {', '.join(unknown)}; known: {', '.join(CONF_KEYS)}")
    path = options.get("path")
    if not isinstance(path, str) or not os.path.isabs(path):
        raise SavedModelError(f"conf.path must be the absolute path of a saved model; got {path!r}")
    for key in CONF_KEYS[1:]:
        value = options.get(key)
        if value is not None and not isinstance(value, str):
            raise SavedModelError(f"conf.{key} must be a string or null; got {value!r}")
    signature, method = options.get("signature"), options.get("method")
    return load_model(path, options.get("format"), signature=signature, method=method)


def apply(model: SavedModel, batch: pa.RecordBatch) -> pa.RecordBatch:
    return model.predict(batch)
