# model.py: plain Python, no pyudf import needed.
import numpy as np


def init(conf):
    # Called once per worker: load your model here. The return value is the state.
    return np.asarray(conf["weights"], dtype=np.float64)


def apply(weights, batch):
    # batch is a pyarrow.RecordBatch; return a RecordBatch, Table, pandas DataFrame or dict of columns.
    if batch.schema.names != ["a", "b"]:
        raise ValueError(f"expected columns a, b; got {batch.schema.names}")
    x = np.column_stack([batch.column("a").to_numpy(), batch.column("b").to_numpy()])
    return {"score": x @ weights}
