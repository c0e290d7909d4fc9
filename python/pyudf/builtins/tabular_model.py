"""Models of a feature matrix (scikit-learn estimators, XGBoost): which columns are the features.

By name where the model knows its features' names, else by position; plus a prediction for zero rows.
"""

from __future__ import annotations

import importlib.util
import warnings
from abc import abstractmethod
from typing import Any, cast

import numpy as np
import pyarrow as pa

from . import input_mapping
from .input_mapping import Array, InputSpec
from .model_api import ArrayModel
from .model_errors import ModelInputError, ModelOutputError, SavedModelError
from .model_formats import Format

MATRIX = "X"


class TabularModel(ArrayModel):
    """A model of an (N, n) feature matrix X.

    A model fitted on a DataFrame knows its feature names (scikit-learn's `feature_names_in_`, a
    Booster's `feature_names`): they are its inputs, taken from the columns of those names in the
    model's order (as a pandas DataFrame where pandas is installed, so each keeps its type), and a
    missing or extra column is an error. Otherwise its one input X takes the only column (a tensor
    column of n numbers per row) or the plain numeric columns stacked in their order.
    """

    def __init__(self, fmt: Format, path: str, features: Any, n_features: Any) -> None:
        self.features: tuple[str, ...] | None = (
            tuple(str(f) for f in features) if features is not None and len(features) else None
        )
        width = int(n_features) if n_features is not None else None
        self.matrix = InputSpec(MATRIX, None, (None, width) if width is not None else None)
        super().__init__(fmt, path, [InputSpec(f) for f in self.features] if self.features else [self.matrix])

    @abstractmethod
    def call(self, x: Any) -> Any:
        """The model's prediction for the feature matrix x (an array, or a DataFrame of the features)."""

    @property
    @abstractmethod
    def output_name(self) -> str: ...

    @property
    def output_names(self) -> tuple[str, ...]:
        return (self.output_name,)

    def arrays(self, batch: pa.RecordBatch) -> dict[str, Any]:
        features = self.features
        if features is None:
            return input_mapping.model_inputs([self.matrix], batch)
        given: list[str] = list(batch.schema.names)
        if len(given) == 1 and given[0] not in features:
            # One tensor column of every feature, by position.
            matrix = input_mapping.column_array(batch.column(0), given[0])
            return {MATRIX: input_mapping.fit(self.matrix, matrix)}
        if sorted(given) != sorted(features):
            raise input_mapping.mismatch(features, given, "features")
        return {MATRIX: _frame(batch, features)}

    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        x = inputs[MATRIX]
        if rows == 0:
            return {self.output_name: self._empty(x)}
        return {self.output_name: self._call(x)}

    def _call(self, x: Any) -> Array:
        with warnings.catch_warnings():
            # A model fitted on a DataFrame and given the features as one tensor column: that is intended.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            result = self.call(x)
        return _per_output(cast("list[Any]", result)) if isinstance(result, list) else np.asarray(result)

    def _empty(self, x: Any) -> Array:
        """Zero rows of the model's output: its prediction for one row of zeros, without the row (most
        estimators refuse an empty matrix, and the output's type and width still have to be right)."""
        try:
            return self._call(_zeros_like(x))[:0]
        except Exception as exc:
            refused = f"the model refused a row of zeros ({exc})"
            raise SavedModelError(f"cannot predict zero rows: {refused}") from exc


def _per_output(arrays: list[Any]) -> Array:
    """A multi-output estimator's predict_proba: one (N, classes) array per output, as (N, outputs, classes).

    np.asarray would give (outputs, N, classes), read as rows: wrong rows, silently, when N equals outputs."""
    parts = [np.asarray(a) for a in arrays]
    shapes = sorted({p.shape for p in parts})
    if not parts or len(shapes) != 1:
        listed = ", ".join(map(str, shapes)) or "(none)"
        raise ModelOutputError(
            f"the model returned a list of {len(parts)} arrays of shapes {listed}; one per output of a "
            "multi-output estimator, they make one column only with the same number of classes each"
        )
    return np.stack(parts, axis=1)


def _frame(batch: pa.RecordBatch, features: tuple[str, ...]) -> Any:
    """The feature columns in the model's order: a pandas DataFrame, or a stacked array without pandas."""
    if importlib.util.find_spec("pandas") is None:
        return input_mapping.stack_columns(batch, features)
    table: Any = pa.Table.from_batches([batch]).select(list(features))
    return table.to_pandas()


def _zeros_like(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        array = cast(Array, x)
        kind = array.dtype if array.dtype.kind in "biuf" else np.float64
        return np.zeros((1,) + array.shape[1:], dtype=kind)
    import pandas as pd

    frame: Any = x
    columns: dict[str, Any] = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if getattr(dtype, "kind", "O") not in "biuf":
            raise ModelInputError(f"column {name} is not numeric, so no row of zeros stands for it")
        columns[name] = np.zeros(1, dtype=dtype)
    return pd.DataFrame(columns)
