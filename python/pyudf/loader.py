"""Loading a UDF's module and hooks from a `UdfSpec` (protocol.md section 3.2)."""

from __future__ import annotations

import base64
import importlib.util
import linecache
import os
import re
import sys
import types
from collections.abc import Generator, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from .protocol import ProtocolError, UdfSpecMessage
from .schemas import schema_ipc

Hook = Callable[..., Any]

# The pyudf package's own directory: UDF modules shipped in it are not a user's directory of helpers.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

_SPEC_KEYS = ("name", "module", "code", "init", "apply", "conf")


@dataclass(frozen=True)
class UdfSpec:
    """A validated `UdfSpecMessage` (protocol.md section 3.2)."""

    name: str
    module: str | None
    code: str | None
    init: str | None
    apply: str
    conf: Any
    # The declared output: result columns whose types differ losslessly are cast to it (conform.py).
    output: pa.Schema | None = None
    # apply sees dictionary-encoded input columns as they came, instead of decoded to their values.
    keep_dictionaries: bool = False

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> UdfSpec:
        """Validate the shape of a decoded REGISTER body; a bad shape is a ProtocolError (section 5)."""
        missing = [key for key in _SPEC_KEYS if key not in obj]
        if missing:
            raise ProtocolError(f"UdfSpec is missing key(s): {', '.join(missing)}")
        name, module, code, init, apply = (obj[k] for k in _SPEC_KEYS[:5])
        if not isinstance(name, str) or not name:
            raise ProtocolError("UdfSpec.name must be a non-empty string")
        if not isinstance(apply, str) or not apply:
            raise ProtocolError("UdfSpec.apply must be a non-empty string")
        if init is not None and (not isinstance(init, str) or not init):
            raise ProtocolError("UdfSpec.init must be a non-empty string or null")
        if (module is None) == (code is None):
            raise ProtocolError("UdfSpec needs exactly one of module and code to be a string")
        if module is not None and (not isinstance(module, str) or not os.path.isabs(module)):
            raise ProtocolError(f"UdfSpec.module must be an absolute path, got {module!r}")
        if code is not None and not isinstance(code, str):
            raise ProtocolError("UdfSpec.code must be a string or null")
        keep = obj.get("keep_dictionaries", False)
        if not isinstance(keep, bool):
            raise ProtocolError("UdfSpec.keep_dictionaries must be true or false")
        return cls(
            name=name, module=module, code=code, init=init, apply=apply, conf=obj["conf"],
            output=_schema(obj, "output"), keep_dictionaries=keep,
        )

    def to_json(self) -> UdfSpecMessage:
        """The REGISTER body that from_json reads back as this spec."""
        return {
            "name": self.name,
            "module": self.module,
            "code": self.code,
            "init": self.init,
            "apply": self.apply,
            "conf": self.conf,
            "output": schema_ipc(self.output),
            "keep_dictionaries": self.keep_dictionaries,
        }

    @property
    def source_name(self) -> str:
        """The file name tracebacks show for this UDF's code."""
        return self.module if self.module is not None else f"<pyudf:{self.name}>"


def _schema(obj: Mapping[str, object], key: str) -> pa.Schema | None:
    """The optional schema under `key`: base64 of an Arrow IPC stream; a bad one is a ProtocolError."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"UdfSpec.{key} must be a base64 string or null")
    try:
        return pa.ipc.open_stream(pa.py_buffer(base64.b64decode(value, validate=True))).schema
    except Exception as exc:  # pyarrow raises many kinds (ArrowNotImplementedError for a malformed type)
        raise ProtocolError(f"UdfSpec.{key} is not a base64 Arrow IPC stream of a schema: {exc}") from exc


def _identifier(text: str) -> str:
    return re.sub(r"\W", "_", text)


def module_name(spec: UdfSpec, udf_id: int) -> str:
    # Unique per udf_id so two UDFs from one file are separate module objects with separate globals.
    base = os.path.splitext(os.path.basename(spec.module))[0] if spec.module else spec.name
    return f"pyudf_udf_{udf_id}_{_identifier(base)}"


@dataclass(frozen=True)
class LoadedModule:
    """A UDF's module and the helper modules it imported from its own directory (its siblings)."""

    module: types.ModuleType
    # Where its sibling modules live; None for inline code and for UDFs shipped inside pyudf.
    directory: str | None = None
    helpers: dict[str, types.ModuleType] = field(default_factory=lambda: {})


@contextmanager
def own_imports(loaded: LoadedModule, others: Iterable[LoadedModule] = ()) -> Generator[None, None, None]:
    """Run a UDF's code (its module body, init, apply) with its own helper modules importable.

    Its directory goes first on sys.path, its helpers into sys.modules and other UDFs' helpers out of
    it, so that `import helpers` in version 2 of a model, at load time or inside apply, never gets
    version 1's from sys.modules. Helpers it imports meanwhile are recorded as its own.
    """
    directory = loaded.directory
    if directory is None:
        yield
        return
    if not sys.path or sys.path[0] != directory:
        if directory in sys.path:
            sys.path.remove(directory)
        sys.path.insert(0, directory)
    for other in others:
        for name, helper in other.helpers.items():
            if sys.modules.get(name) is helper:
                del sys.modules[name]
    sys.modules.update(loaded.helpers)
    count = len(sys.modules)
    try:
        yield
    finally:
        # sys.modules is a dict: what was imported meanwhile comes last (checked only when it grew).
        if len(sys.modules) > count:
            for name in list(sys.modules)[count:]:
                module = sys.modules[name]
                if module is not loaded.module and _inside(module, directory):
                    loaded.helpers[name] = module


def load_module(spec: UdfSpec, udf_id: int, others: Iterable[LoadedModule] = ()) -> LoadedModule:
    """Execute the UDF's source as a fresh module; exceptions here are phase "load".

    `others` are the other loaded UDFs: their helper modules are out of sys.modules while this one
    runs (own_imports).
    """
    name = module_name(spec, udf_id)
    if spec.module is not None:
        if not os.path.isfile(spec.module):
            raise FileNotFoundError(f"UDF module not found: {spec.module}")
        directory = os.path.dirname(spec.module)
        # A UDF shipped with pyudf (pyudf/builtins/udf.py, for saved models) imports pyudf as a package:
        # its directory is not a user's directory of helpers. Any other imports its siblings (helpers,
        # a local package) as a script would.
        shipped = directory.startswith(os.path.join(_PACKAGE_DIR, ""))
        # A directory listed before its files were written (a new model version) is read again.
        importlib.invalidate_caches()
        import_spec = importlib.util.spec_from_file_location(name, spec.module)
        if import_spec is None or import_spec.loader is None:
            raise ImportError(f"cannot load {spec.module} as a Python module (is it a .py file?)")
        module = importlib.util.module_from_spec(import_spec)
        exec_module = import_spec.loader.exec_module
        loaded = LoadedModule(module, None if shipped else directory)
        try:
            with own_imports(loaded, others):
                _run_registered(module, lambda: exec_module(module))
        except BaseException:
            # Helpers it imported before raising must not serve the next version's `import helpers`.
            forget_module(loaded)
            raise
        return loaded

    assert spec.code is not None
    filename = spec.source_name
    # Registered in linecache so tracebacks print the inline source lines; an entry with mtime None
    # is never invalidated by linecache.checkcache.
    linecache.cache[filename] = (len(spec.code), None, spec.code.splitlines(True), filename)
    code = compile(spec.code, filename, "exec")
    module = types.ModuleType(name)
    module.__file__ = filename
    _run_registered(module, lambda: exec(code, module.__dict__))
    return LoadedModule(module)


def _inside(module: types.ModuleType | None, directory: str) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and os.path.abspath(file).startswith(os.path.join(directory, ""))


def _run_registered(module: types.ModuleType, run: Callable[[], object]) -> None:
    """Run a module's body while it is in sys.modules, as a normal import does.

    dataclasses, pickle and typing resolve names through sys.modules[cls.__module__].
    """
    sys.modules[module.__name__] = module
    try:
        run()
    except BaseException:
        forget_module(module)
        raise


def _functions(module: types.ModuleType) -> str:
    names = sorted(
        name
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_") and not isinstance(value, type)
    )
    return ", ".join(names) if names else "none"


def _hook(module: types.ModuleType, spec: UdfSpec, role: str, name: str) -> Hook:
    fn = getattr(module, name, None)
    if fn is None:
        raise AttributeError(
            f"{spec.source_name} has no {role} function {name!r}; functions defined: {_functions(module)}"
        )
    if not callable(fn):
        raise TypeError(f"{spec.source_name}: {role} hook {name!r} is a {type(fn).__name__}, not a function")
    return fn


def resolve_hooks(module: types.ModuleType, spec: UdfSpec) -> tuple[Hook | None, Hook]:
    """Find (init, apply); a missing *default* init means a stateless UDF, not an error."""
    init: Hook | None = None
    if spec.init is not None and not (spec.init == "init" and not hasattr(module, "init")):
        init = _hook(module, spec, "init", spec.init)
    return init, _hook(module, spec, "apply", spec.apply)


def forget_module(loaded: LoadedModule | types.ModuleType) -> None:
    """Drop a UDF module and its helpers from sys.modules so its globals (a model, say) can be garbage
    collected and a later version of the model imports its own helpers afresh."""
    if isinstance(loaded, types.ModuleType):
        loaded = LoadedModule(loaded)
    for module in (loaded.module, *loaded.helpers.values()):
        if sys.modules.get(module.__name__) is module:
            del sys.modules[module.__name__]
