"""A linear scorer with declared schemas, for `pyudf apply`, `pyudf serve` and `pyudf types`."""

import numpy as np
import pyarrow as pa

# Read by `pyudf types model.py` (without calling init) to generate model.types.ts.
INPUT = pa.schema([("a", pa.float64()), ("b", pa.float64())])
OUTPUT = pa.schema([("score", pa.float64())])


def init(conf):
    # `pyudf apply model.py --conf weights=[0.5,2] ...` passes {"weights": [0.5, 2]}.
    return np.asarray(conf.get("weights", [1.0, 1.0]), dtype=np.float64)


def apply(weights, batch):
    # zero_copy_only=False: a column with nulls (empty CSV fields) becomes floats with NaN.
    x = np.column_stack([batch.column(n).to_numpy(zero_copy_only=False) for n in ("a", "b")])
    return {"score": x @ weights}
