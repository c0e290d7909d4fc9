"""The worker's registry of UDFs, with no socket: load a module, run `init`, `apply` batches, unregister.

message_loop.py drives it from the wire (protocol.md sections 3.2 - 3.4); a test or a Ray actor can
drive it directly with nothing but pyarrow:

    spec = UdfSpec(name="double", module=None, code=SOURCE, init=None, apply="apply", conf=None)
    with UdfHost() as host:
        host.register(1, spec)
        schema, batches = host.apply(1, batch)
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from . import conform, convert, errors, loader
from .loader import UdfSpec
from .protocol import ErrorPayload, Phase


class UdfError(Exception):
    """The UDF's own code failed while it was loaded, initialised or applied.

    `phase` says when ("load", "init" or "apply"), `cause` is the user's exception (also chained as
    `__cause__`, with its traceback), and `payload()` is the ERROR body the worker answers with.
    """

    def __init__(self, phase: Phase, cause: Exception) -> None:
        name = errors.qualified_name(type(cause))
        super().__init__(f"UDF {phase} failed: {name}: {errors.exception_message(cause)}")
        self.phase: Phase = phase
        self.cause = cause

    def payload(self) -> ErrorPayload:
        return errors.python_error(self.cause, self.phase)


class UnknownUdfError(LookupError):
    """apply() for a udf_id that is not registered (on the wire this is a protocol error, section 5)."""

    def __init__(self, udf_id: int) -> None:
        super().__init__(f"udf_id {udf_id} is not registered")
        self.udf_id = udf_id


@dataclass(frozen=True)
class LoadedUdf:
    """A registered UDF: its spec, its own module object, the state `init` returned, its apply hook."""

    spec: UdfSpec
    module: loader.LoadedModule
    state: Any
    apply: loader.Hook


class UdfHost:
    """The UDFs registered in one worker, by udf_id: the worker's only mutable state."""

    def __init__(self) -> None:
        self._udfs: dict[int, LoadedUdf] = {}

    def register(self, udf_id: int, spec: UdfSpec) -> None:
        """Load the UDF's module, find its hooks and run `init`; raise UdfError("load" or "init")."""
        # Replacing drops the old UDF first, so two models are never held at once; a failed
        # re-registration therefore leaves the udf_id unregistered.
        self.unregister(udf_id)
        phase: Phase = "load"
        module: loader.LoadedModule | None = None
        others = self._others(udf_id)
        try:
            module = loader.load_module(spec, udf_id, others)
            init, apply = loader.resolve_hooks(module.module, spec)
            phase = "init"
            with loader.own_imports(module, others):
                state = init(spec.conf) if init is not None else None
        except Exception as exc:
            if module is not None:
                loader.forget_module(module)
            raise UdfError(phase, exc) from exc
        self._udfs[udf_id] = LoadedUdf(spec=spec, module=module, state=state, apply=apply)

    def apply(self, udf_id: int, batch: pa.RecordBatch) -> tuple[pa.Schema, list[pa.RecordBatch]]:
        """Call the UDF's apply hook on `batch`; the output schema and batches (convert.normalise).

        Raises UnknownUdfError for an unregistered udf_id and UdfError("apply") when the hook raises or
        returns something that is not a table.
        """
        entry = self._udfs.get(udf_id)
        if entry is None:
            raise UnknownUdfError(udf_id)
        declared = entry.spec.output
        try:
            if not entry.spec.keep_dictionaries:
                batch = conform.decode_dictionaries(batch)
            with loader.own_imports(entry.module, self._others(udf_id)):
                result = entry.apply(entry.state, batch)
            schema, batches = convert.normalise(result)
            return (schema, batches) if declared is None else conform.conform(declared, schema, batches)
        except Exception as exc:
            raise UdfError("apply", exc) from exc

    def _others(self, udf_id: int) -> list[loader.LoadedModule]:
        """The other UDFs' modules, whose helpers stay out of sys.modules while this one runs."""
        return [e.module for other, e in self._udfs.items() if other != udf_id and e.module.helpers]

    def unregister(self, udf_id: int) -> bool:
        """Drop the UDF's state and module; False if udf_id was not registered (not an error)."""
        if not self._drop(udf_id):
            return False
        # Models often sit in reference cycles (frameworks' graphs); free them now, not later.
        gc.collect()
        return True

    def _drop(self, udf_id: int) -> bool:
        # A function of its own so that no local outlives it to keep the state alive through a gc.
        entry = self._udfs.pop(udf_id, None)
        if entry is None:
            return False
        loader.forget_module(entry.module)
        return True

    def get(self, udf_id: int) -> LoadedUdf | None:
        return self._udfs.get(udf_id)

    def __contains__(self, udf_id: object) -> bool:
        return udf_id in self._udfs

    def __len__(self) -> int:
        return len(self._udfs)

    def close(self) -> None:
        """Unregister every UDF."""
        if self._udfs:
            for udf_id in list(self._udfs):
                self._drop(udf_id)
            gc.collect()

    def __enter__(self) -> UdfHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
