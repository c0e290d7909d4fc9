"""Results over MAX_RESULT_BYTES are refused before anything is written, naming size, limit and fix."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pyudf import arrow_ipc as ipc
from pyudf import protocol as p


def test_a_buffer_shared_by_columns_counts_once_per_column() -> None:
    # numpy's zeros are pages never touched: 0.8 GiB offered three times costs no memory.
    shared = pa.array(np.zeros(int(0.8 * 2**30), np.uint8))
    batch = pa.record_batch([shared, shared, shared], names=["a", "b", "c"])
    assert ipc.buffer_bytes([batch]) < p.MAX_RESULT_BYTES // 2
    with pytest.raises(p.ResultTooLargeError, match=r"2,576,\d{3},\d{3} bytes .* smaller batchSize"):
        ipc.check_result_size(batch.schema, [batch], ipc.buffer_bytes([batch]))


def test_a_result_under_the_limit_passes() -> None:
    batch = pa.record_batch({"x": pa.array(np.zeros(1000, np.float64))})
    ipc.check_result_size(batch.schema, [batch], ipc.buffer_bytes([batch]))
