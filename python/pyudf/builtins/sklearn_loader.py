"""scikit-learn (and XGBoost's scikit-learn API) estimators saved with joblib or pickle.

joblib.load unpickles, and unpickling runs code from the file: load trusted files only.
"""

from __future__ import annotations

from typing import Any, Literal

from .framework_import import missing, require
from .model_errors import SavedModelError
from .model_formats import Format
from .tabular_model import TabularModel

Method = Literal["predict", "predict_proba"]
METHODS: tuple[Method, ...] = ("predict", "predict_proba")


def as_method(value: object) -> Method:
    for method in METHODS:
        if value == method:
            return method
    raise SavedModelError(f"method must be one of {', '.join(METHODS)}; got {value!r}")


class EstimatorModel(TabularModel):
    """An estimator's `predict` or `predict_proba` over its feature matrix.

    The output column is named after the method: `predict` (labels or values: (N,), or (N, k) for k
    targets) or `predict_proba` ((N, classes) probabilities, in the order of the estimator's `classes_`;
    (N, outputs, classes) for a multi-output classifier whose outputs have the same number of classes).
    """

    def __init__(self, fmt: Format, path: str, estimator: Any, method: Method) -> None:
        features = getattr(estimator, "feature_names_in_", None)
        super().__init__(fmt, path, features, getattr(estimator, "n_features_in_", None))
        self.estimator = estimator
        self.method: Method = method
        has = [m for m in METHODS if callable(getattr(estimator, m, None))]
        if method not in has:
            what = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
            raise SavedModelError(
                f"the model in {path} ({what}) has no method {method}; it has: {', '.join(has) or 'neither'}"
            )
        self._method = getattr(estimator, method)

    @property
    def output_name(self) -> str:
        return self.method

    def call(self, x: Any) -> Any:
        return self._method(x)


def load_estimator(path: str, needed_for: str) -> Any:
    """Unpickle an estimator with joblib; a module the pickle needs but lacks names its pip package."""
    joblib = require("joblib", needed_for)
    try:
        return joblib.load(path)
    except ModuleNotFoundError as exc:
        raise missing(exc.name or "?", needed_for, exc) from exc


def load(path: str, method: Method | None = None, fmt: Format = "sklearn") -> EstimatorModel:
    estimator = load_estimator(path, "a scikit-learn model")
    return EstimatorModel(fmt, path, estimator, method or "predict")
