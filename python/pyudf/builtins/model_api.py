"""SavedModel, what every built-in loader returns, and ArrayModel, the base the loaders share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from . import input_mapping, output_columns
from .input_mapping import Array, InputSpec
from .model_formats import Format


class SavedModel(ABC):
    """A loaded model: its named inputs and outputs, and `predict` from a record batch to one.

    `predict` maps the batch's columns to the inputs (pyudf.builtins.input_mapping) and returns one
    column per output, named after it (pyudf.builtins.output_columns), one row per input row.
    """

    format: Format
    path: str

    @property
    @abstractmethod
    def input_names(self) -> tuple[str, ...]: ...

    @property
    @abstractmethod
    def output_names(self) -> tuple[str, ...]: ...

    @abstractmethod
    def predict(self, batch: pa.RecordBatch) -> pa.RecordBatch: ...

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.path!r}, inputs={list(self.input_names)}, "
            f"outputs={list(self.output_names)})"
        )


class ArrayModel(SavedModel):
    """A SavedModel over a function of numpy arrays: subclasses give the inputs and `run`."""

    def __init__(self, fmt: Format, path: str, inputs: Sequence[InputSpec]) -> None:
        self.format = fmt
        self.path = path
        self.inputs: tuple[InputSpec, ...] = tuple(inputs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    def arrays(self, batch: pa.RecordBatch) -> dict[str, Any]:
        """The model's inputs for `batch`, by name."""
        return input_mapping.model_inputs(self.inputs, batch)

    @abstractmethod
    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        """The model's outputs, by name in output order, for its inputs by name (`rows` rows each)."""

    def predict(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = batch.num_rows
        return output_columns.record_batch(self.run(self.arrays(batch), rows), rows)
