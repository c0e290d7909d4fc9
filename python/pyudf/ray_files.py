"""What a UDF needs on a Ray node that is not on the wire: its code and artifacts, bundled and cached.

The driver (ray_driver.py) bundles a UDF's module directory and each artifact once per registration and
names each bundle by the hash of its content; an actor (ray_actor.py) fetches a bundle it lacks from the
object store and unpacks it into a node-local cache directory named by that hash, so that actors on one
node share one copy and a restarted actor finds it there (protocol.md section 9.4). No Ray import here:
the bundling and unpacking are plain files and bytes, tested without a cluster.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypedDict, cast

# A module directory is code, not data: past this its bundle is refused (data goes as `artifacts`).
MAX_CODE_BUNDLE_BYTES = 64 * 1024 * 1024
# Directories never bundled with a module: caches, version control, environments, Node packages.
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", ".git", ".venv", "venv"})
# A fixed timestamp, so that equal content always gives an equal bundle and an equal hash.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

BundleKind = Literal["zip", "file"]


class BundleError(Exception):
    """A module or artifact cannot be bundled: missing, unreadable, or too large."""


class Descriptor(TypedDict):
    """One bundle, as the REGISTER spec's `ray_files` names it: the actor needs nothing else to find it."""

    hash: str
    kind: BundleKind
    # "file": the file's base name; "zip": the path inside the bundle that is meant (a module), or "".
    name: str


class RayFiles(TypedDict, total=False):
    """The `ray_files` key of a REGISTER spec sent to a Ray actor (protocol.md section 9.4)."""

    # The UDF's module directory; `name` is the module's path inside it.
    module: Descriptor
    # A module shipped inside the pyudf package (the saved-model loader): its path inside the package.
    package_module: str
    # conf["artifacts"][name] becomes the local path of each.
    artifacts: dict[str, Descriptor]
    # conf[key] becomes the local path of each (a saved model's conf["path"]).
    conf: dict[str, Descriptor]


# Fetches a bundle's bytes from wherever it was staged (the object store, on a Ray node).
Fetcher = Callable[[Descriptor], "bytes | memoryview"]


def content_hash(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()[:40]


def _code_files(root: str) -> Iterator[str]:
    """The Python sources under `root`, relative to it, sorted; hidden and environment dirs skipped."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIPPED_DIRS
            and not d.startswith(".")
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def _all_files(root: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield os.path.relpath(os.path.join(dirpath, name), root)


def _zip(root: str, names: Iterator[str], limit: int | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for name in names:
            info = zipfile.ZipInfo(name.replace(os.sep, "/"), date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(root, name), "rb") as source:
                bundle.writestr(info, source.read())
            if limit is not None and out.tell() > limit:
                raise BundleError(
                    f"the Python files under {root} pass {limit // (1024 * 1024)} MiB: register the module "
                    "from a directory of its own, and send data files as artifacts"
                )
    return out.getvalue()


def bundle_module(module: str) -> tuple[bytes, str]:
    """The module's directory as a zip of its Python sources, and the module's path inside it."""
    if not os.path.isfile(module):
        raise BundleError(f"no such module file: {module}")
    root = os.path.dirname(os.path.abspath(module))
    return _zip(root, _code_files(root), MAX_CODE_BUNDLE_BYTES), os.path.basename(module)


def bundle_artifact(path: str) -> tuple[BundleKind, bytes | memoryview, str]:
    """A file as its bytes (mapped, not read, so a large model is not held twice), a directory as a zip."""
    if os.path.isdir(path):
        return "zip", _zip(path, _all_files(path), None), ""
    if not os.path.isfile(path):
        raise BundleError(f"no such artifact file or directory: {path}")
    size = os.path.getsize(path)
    if size == 0:
        return "file", b"", os.path.basename(path)
    import mmap

    with open(path, "rb") as source:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    return "file", memoryview(mapped)[:size], os.path.basename(path)


def cache_root() -> str:
    """This node's cache of unpacked bundles; Ray's session directory when there is one."""
    try:
        worker: Any = importlib.import_module("ray._private.worker")
        node = worker._global_node
        session = str(node.get_session_dir_path()) if node is not None else None
    except Exception:
        session = None
    return os.path.join(session or tempfile.gettempdir(), "pyudf-files")


def materialise(root: str, descriptor: Descriptor, fetch: Callable[[], bytes | memoryview]) -> str:
    """The local path of a bundle: from the cache, or fetched, unpacked there and then renamed into place.

    Several actors on a node may do this at once: each unpacks into a directory of its own, and the
    first rename wins; the others find the bundle in place and drop their copy.
    """
    digest = descriptor["hash"]
    if not digest or any(c not in "0123456789abcdef" for c in digest):
        raise BundleError(f"bad bundle hash {digest!r}")
    target = os.path.join(root, digest)
    if not os.path.isdir(target):
        os.makedirs(root, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{digest}-", dir=root)
        try:
            data = fetch()
            if content_hash(data) != digest:
                raise BundleError(f"bundle {digest} arrived with other content")
            if descriptor["kind"] == "zip":
                with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                    _extract(bundle, staging)
            else:
                with open(os.path.join(staging, _plain_name(descriptor["name"])), "wb") as out:
                    out.write(data)
            try:
                os.rename(staging, target)
            except OSError:
                if not os.path.isdir(target):
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if descriptor["kind"] == "file":
        return os.path.join(target, _plain_name(descriptor["name"]))
    return os.path.join(target, descriptor["name"]) if descriptor["name"] else target


def _plain_name(name: str) -> str:
    base = os.path.basename(name)
    if not base or base in (".", ".."):
        raise BundleError(f"bad artifact file name {name!r}")
    return base


def _extract(bundle: zipfile.ZipFile, into: str) -> None:
    """Unpack, refusing names that would land outside `into`."""
    real = os.path.realpath(into)
    for info in bundle.infolist():
        dest = os.path.realpath(os.path.join(into, info.filename))
        if not dest.startswith(real + os.sep):
            raise BundleError(f"bundle entry {info.filename!r} points outside its directory")
    bundle.extractall(into)


def localise_spec(
    spec: dict[str, object], files: object, resolve: Callable[[Descriptor], str], package_dir: str
) -> dict[str, object]:
    """The REGISTER spec with the pool's paths replaced by this node's (protocol.md section 9.4).

    `module` becomes the unpacked module, or the module inside this node's pyudf package; each
    `conf["artifacts"][name]` and each `conf[key]` named in `files` becomes its unpacked file or directory.
    """
    if files is None:
        return spec
    if not isinstance(files, dict):
        raise BundleError("ray_files must be an object")
    named = cast("dict[str, object]", files)
    out = dict(spec)
    module = named.get("module")
    package_module = named.get("package_module")
    if module is not None:
        out["module"] = resolve(_descriptor(module, "module"))
    elif isinstance(package_module, str):
        local = os.path.realpath(os.path.join(package_dir, package_module))
        if not local.startswith(os.path.realpath(package_dir) + os.sep):
            raise BundleError(f"package module {package_module!r} points outside the pyudf package")
        out["module"] = local
    conf = out.get("conf")
    for key in ("artifacts", "conf"):
        entries = named.get(key)
        if entries is None:
            continue
        if not isinstance(entries, dict) or not isinstance(conf, dict):
            raise BundleError(f"ray_files.{key} needs an object, and a conf object to rewrite")
        conf = dict(cast("dict[str, object]", conf))
        if key == "artifacts":
            current = conf.get("artifacts")
            target = dict(cast("dict[str, object]", current)) if isinstance(current, dict) else {}
            for name, entry in cast("dict[str, object]", entries).items():
                target[name] = resolve(_descriptor(entry, f"artifacts.{name}"))
            conf["artifacts"] = target
        else:
            for name, entry in cast("dict[str, object]", entries).items():
                conf[name] = resolve(_descriptor(entry, f"conf.{name}"))
        out["conf"] = conf
    return out


def _descriptor(value: object, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise BundleError(f"ray_files.{what} must be an object")
    entry = cast("dict[str, object]", value)
    digest, kind, name = entry.get("hash"), entry.get("kind"), entry.get("name")
    if not isinstance(digest, str) or kind not in ("zip", "file") or not isinstance(name, str):
        raise BundleError(f"ray_files.{what} must have a string hash, kind zip or file, and a string name")
    return {"hash": digest, "kind": "zip" if kind == "zip" else "file", "name": name}
