"""XGBoost models: joblib/pickled scikit-learn API estimators, or native Booster files from save_model.

Native files are `.json`, `.ubj` or the legacy binary format. Unpickling runs code: trusted files only.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import sklearn_loader
from .framework_import import require
from .model_errors import SavedModelError
from .sklearn_loader import EstimatorModel, Method
from .tabular_model import TabularModel

PICKLES = (".joblib", ".pkl", ".pickle")


class BoosterModel(TabularModel):
    """A native Booster with no scikit-learn estimator type recorded: `Booster.inplace_predict` over its
    feature matrix, in an output column `predict` (what its objective predicts: probabilities for
    `multi:softprob`, `binary:logistic`)."""

    def __init__(self, path: str, booster: Any) -> None:
        super().__init__("xgboost", path, booster.feature_names, booster.num_features())
        self.booster = booster

    @property
    def output_name(self) -> str:
        return "predict"

    def call(self, x: Any) -> Any:
        return self.booster.inplace_predict(x)


def load(path: str, method: Method | None = None) -> EstimatorModel | BoosterModel:
    xgb = require("xgboost", "an XGBoost model")
    if os.path.splitext(path)[1].lower() in PICKLES:
        return sklearn_loader.EstimatorModel(
            "xgboost", path, sklearn_loader.load_estimator(path, "an XGBoost model"), method or "predict"
        )
    booster = xgb.Booster()
    booster.load_model(path)
    # save_model() on an XGBClassifier, XGBRegressor or XGBRanker records which it was.
    kind = json.loads(booster.attr("scikit_learn") or "{}").get("_estimator_type")
    estimator_class = {
        "classifier": xgb.XGBClassifier, "regressor": xgb.XGBRegressor, "ranker": xgb.XGBRanker,
    }
    if kind in estimator_class:
        estimator = estimator_class[kind]()
        estimator.load_model(path)
        return EstimatorModel("xgboost", path, estimator, method or "predict")
    if method not in (None, "predict"):
        raise SavedModelError(f"{path} is a plain XGBoost Booster (not saved from a scikit-learn estimator): "
                              f"it has only predict, not {method}")
    return BoosterModel(path, booster)
