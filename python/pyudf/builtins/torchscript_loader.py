"""PyTorch TorchScript modules (`.pt`, `.pth`, `.torchscript`), run in eval mode under no_grad.

TorchScript files (from torch.jit.save) can run arbitrary operators: load trusted files only.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

import numpy as np

from .framework_import import require
from .input_mapping import Array, InputSpec
from .model_api import ArrayModel
from .model_errors import ModelOutputError, SavedModelError

SINGLE_OUTPUT = "output"


class TorchScriptModel(ArrayModel):
    """A TorchScript module's forward.

    Inputs are forward's tensor arguments, by name (one input named `input` when the schema cannot be
    read), passed positionally. Floating-point inputs are cast to the dtype of the module's floating
    parameters (float32 usually); TorchScript declares no input dtypes. Outputs: a Tensor is column
    `output`; a tuple of tensors `output_0`, `output_1`, ...; a Dict[str, Tensor] one column per key.
    """

    def __init__(self, path: str, torch: Any, module: Any) -> None:
        super().__init__("torchscript", path, [InputSpec(name) for name in _argument_names(path, module)])
        self.torch = torch
        self.module = module
        self._outputs = _output_names(module)
        self.float_dtype: Any = next(
            (p.dtype for p in [*module.parameters(), *module.buffers()] if p.is_floating_point()), None
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        """The outputs' names; for a module returning a Dict, empty until its first prediction."""
        return self._outputs

    def run(self, inputs: dict[str, Any], rows: int) -> dict[str, Array]:
        torch = self.torch
        args: list[Any] = []
        with warnings.catch_warnings():
            # Columns arrive as read-only views of the batch; the module only reads them.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            for name in self.input_names:
                tensor = torch.from_numpy(np.ascontiguousarray(inputs[name]))
                if self.float_dtype is not None and tensor.is_floating_point():
                    tensor = tensor.to(self.float_dtype)
                args.append(tensor)
        with torch.no_grad():
            result: Any = self.module(*args)
        return self._columns(result)

    def _columns(self, result: Any) -> dict[str, Array]:
        torch = self.torch
        if isinstance(result, torch.Tensor):
            values: dict[str, Any] = {SINGLE_OUTPUT: result}
        elif isinstance(result, (tuple, list)):
            values = {f"output_{i}": item for i, item in enumerate(cast("list[Any]", result))}
        elif isinstance(result, dict):
            values = {str(k): v for k, v in cast("dict[Any, Any]", result).items()}
        else:
            raise ModelOutputError(f"the TorchScript module returned a {type(result).__name__}; expected "
                                   "a Tensor, a tuple of tensors or a dict of tensors")
        self._outputs = tuple(values.keys())
        out: dict[str, Array] = {}
        for name, value in values.items():
            if not isinstance(value, torch.Tensor):
                raise ModelOutputError(f"the TorchScript module's output {name} is a {type(value).__name__}")
            out[name] = value.detach().cpu().numpy()
        return out


def _argument_names(path: str, module: Any) -> list[str]:
    try:
        arguments: list[Any] = list(module.forward.schema.arguments)[1:]  # [0] is self
    except (AttributeError, RuntimeError):
        return ["input"]
    names: list[str] = []
    for arg in arguments:
        if str(arg.type) in ("Tensor", "Optional[Tensor]"):
            names.append(str(arg.name))
        elif not arg.has_default_value():
            raise SavedModelError(
                f"the TorchScript module {path} takes {arg.name}: {arg.type}; only tensor arguments are fed "
                "from columns (give the others defaults)"
            )
    return names


def _output_names(module: Any) -> tuple[str, ...]:
    try:
        returns: Any = module.forward.schema.returns[0].type
    except (AttributeError, IndexError, RuntimeError):
        return (SINGLE_OUTPUT,)
    kind = str(returns.kind())
    if kind == "TupleType":
        return tuple(f"output_{i}" for i in range(len(returns.elements())))
    return () if kind == "DictType" else (SINGLE_OUTPUT,)


def load(path: str) -> TorchScriptModel:
    torch = require("torch", "a TorchScript model")
    with warnings.catch_warnings():
        # torch.jit.load is deprecated in favour of torch.export, but TorchScript files still need it.
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(path, map_location="cpu")
    module.eval()
    return TorchScriptModel(path, torch, module)
