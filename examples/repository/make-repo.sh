#!/usr/bin/env bash
# make-repo.sh MODELS REPO: a model repository of the digit classifiers that train.py saved in MODELS.
set -euo pipefail
models=$1 repo=$2
mkdir -p "$repo/digits/1" "$repo/digits-sklearn/1"
cp "$models/digits.keras" "$repo/digits/1/model.keras"             # no Python file: the Keras loader serves it
cp "$models/digits.joblib" "$repo/digits-sklearn/1/model.joblib"   # a scikit-learn estimator
# config.json sits beside a model's versions; every key is optional.
cat > "$repo/digits-sklearn/config.json" <<'JSON'
{ "method": "predict_proba", "instances": 1, "batching": { "maxDelayMs": 5 } }
JSON
