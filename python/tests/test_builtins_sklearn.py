"""scikit-learn and XGBoost models through pyudf.builtins: every prediction equals the estimator's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xgboost as xgb
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from pyudf import tensors
from pyudf.builtins import ModelInputError, SavedModelError, load_model

IRIS: Any = load_iris()
X: Any = IRIS.data  # (150, 4) float64
Y: Any = IRIS.target
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def columns(x: Any, names: list[str] = FEATURES) -> pa.RecordBatch:
    return pa.record_batch({name: pa.array(x[:, i]) for i, name in enumerate(names)})


@pytest.fixture(scope="module")
def logistic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    model = LogisticRegression(max_iter=500).fit(X, Y)
    path = tmp_path_factory.mktemp("sklearn") / "logistic.joblib"
    joblib.dump(model, path)
    return model, path


def test_predict_and_predict_proba_equal_the_estimators_own(logistic: tuple[Any, Path]) -> None:
    estimator, path = logistic
    model = load_model(path)
    assert (model.format, model.input_names, model.output_names) == ("sklearn", ("X",), ("predict",))
    # Four plain columns stack, in order, into the (150, 4) feature matrix.
    out = model.predict(columns(X))
    assert out.schema == pa.schema([("predict", pa.int64())])
    np.testing.assert_array_equal(out.column(0).to_numpy(), estimator.predict(X))

    proba = load_model(path, method="predict_proba")
    assert proba.output_names == ("predict_proba",)
    # The same rows as one tensor column of 4 numbers per row.
    out = proba.predict(pa.record_batch({"x": tensors.from_numpy(X)}))
    assert out.schema == pa.schema([("predict_proba", pa.list_(pa.float64(), 3))])
    np.testing.assert_array_equal(tensors.to_numpy(out.column(0)), estimator.predict_proba(X))


def test_zero_rows_keep_the_outputs_types(logistic: tuple[Any, Path]) -> None:
    _, path = logistic
    empty = columns(X[:0])
    assert load_model(path).predict(empty).schema == pa.schema([("predict", pa.int64())])
    out = load_model(path, method="predict_proba").predict(empty)
    assert (out.num_rows, out.schema.field(0).type) == (0, pa.list_(pa.float64(), 3))


def test_the_wrong_number_of_features_is_an_error(logistic: tuple[Any, Path]) -> None:
    with pytest.raises(ModelInputError, match=r"input X takes shape \(N, 4\); the batch gives \(N, 3\)"):
        load_model(logistic[1]).predict(columns(X[:, :3], FEATURES[:3]))


def test_a_model_fitted_on_a_dataframe_takes_its_features_by_name(tmp_path: Path) -> None:
    frame = pd.DataFrame(X, columns=FEATURES)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, Y)
    path = tmp_path / "forest.pkl"
    joblib.dump(forest, path)
    model = load_model(path, "sklearn", method="predict_proba")
    assert model.input_names == tuple(FEATURES)
    shuffled = columns(X, FEATURES).select(["petal_width", "sepal_length", "petal_length", "sepal_width"])
    out = model.predict(shuffled)
    np.testing.assert_array_equal(tensors.to_numpy(out.column("predict_proba")), forest.predict_proba(frame))
    # One tensor column holding every feature, in the model's order, works too.
    out = model.predict(pa.record_batch({"features": tensors.from_numpy(X)}))
    np.testing.assert_array_equal(tensors.to_numpy(out.column("predict_proba")), forest.predict_proba(frame))
    with pytest.raises(ModelInputError) as info:
        model.predict(shuffled.rename_columns(["petal_width", "sepal_length", "petal_length", "sepal_wdith"]))
    assert str(info.value) == (
        "the model's features are sepal_length, sepal_width, petal_length, petal_width; the batch has "
        "columns petal_width, sepal_length, petal_length, sepal_wdith "
        "(missing: sepal_width; unexpected: sepal_wdith)"
    )


def test_a_regressor_without_predict_proba_says_what_it_has(tmp_path: Path) -> None:
    regression = LinearRegression().fit(X[:, :3], X[:, 3])
    path = tmp_path / "regression.pickle"
    joblib.dump(regression, path)
    out = load_model(path).predict(columns(X[:, :3], FEATURES[:3]))
    np.testing.assert_array_equal(out.column("predict").to_numpy(), regression.predict(X[:, :3]))
    with pytest.raises(SavedModelError, match=r"LinearRegression\) has no method predict_proba; it has: p"):
        load_model(path, method="predict_proba")


@pytest.fixture(scope="module")
def booster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    classifier = xgb.XGBClassifier(n_estimators=8, max_depth=3, n_jobs=1, random_state=0).fit(X, Y)
    return classifier, tmp_path_factory.mktemp("xgboost")


@pytest.mark.parametrize("name", ["classifier.joblib", "classifier.json", "classifier.ubj"])
def test_an_xgboost_classifier_predicts_as_itself(booster: tuple[Any, Path], name: str) -> None:
    classifier, directory = booster
    path = directory / name
    if name.endswith(".joblib"):
        joblib.dump(classifier, path)
    else:
        classifier.save_model(path)
    batch = columns(X)
    predict = load_model(path, "xgboost")
    assert (predict.format, predict.output_names) == ("xgboost", ("predict",))
    np.testing.assert_array_equal(predict.predict(batch).column(0).to_numpy(), classifier.predict(X))
    proba = load_model(path, "xgboost", method="predict_proba")
    assert proba.output_names == ("predict_proba",)
    probabilities = tensors.to_numpy(proba.predict(batch).column(0))
    np.testing.assert_array_equal(probabilities, classifier.predict_proba(X))
    if name.endswith(".joblib"):
        # An XGBoost estimator in a joblib file is a scikit-learn model too.
        labels = load_model(path).predict(batch).column(0).to_numpy()
        np.testing.assert_array_equal(labels, classifier.predict(X))


def test_a_plain_xgboost_booster_predicts_what_its_objective_does(tmp_path: Path) -> None:
    frame = pd.DataFrame(X, columns=FEATURES)
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1}
    native = xgb.train(params, xgb.DMatrix(frame, label=(Y == 2).astype(float)), num_boost_round=5)
    path = tmp_path / "booster.json"
    native.save_model(path)
    model = load_model(path, "xgboost")
    assert (model.input_names, model.output_names) == (tuple(FEATURES), ("predict",))
    out = model.predict(columns(X).select(list(reversed(FEATURES))))
    np.testing.assert_array_equal(out.column("predict").to_numpy(), native.predict(xgb.DMatrix(frame)))
    with pytest.raises(SavedModelError, match="plain XGBoost Booster .* only predict, not predict_proba"):
        load_model(path, "xgboost", method="predict_proba")
