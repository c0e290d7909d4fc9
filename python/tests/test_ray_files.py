"""Bundling a UDF's code and artifacts, and unpacking them into a node's cache (no Ray needed)."""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import pytest

from pyudf import ray_files
from pyudf.ray_files import BundleError, Descriptor


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_module_bundle_holds_the_python_files_beside_it_and_is_deterministic(tmp_path: Path) -> None:
    module = write(tmp_path / "model.py", "import helper\n")
    write(tmp_path / "helper.py", "X = 1\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "deep.py", "Y = 2\n")
    write(tmp_path / "data.csv", "a,b\n")  # data goes as artifacts
    write(tmp_path / "__pycache__" / "helper.cpython-311.py", "")
    write(tmp_path / ".git" / "hook.py", "")
    write(tmp_path / "node_modules" / "x.py", "")
    write(tmp_path / "env" / "pyvenv.cfg", "")
    write(tmp_path / "env" / "lib.py", "")
    data, name = ray_files.bundle_module(str(module))
    assert name == "model.py"
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["helper.py", "model.py", "pkg/__init__.py", "pkg/deep.py"]
    # Equal content, equal bundle: a second registration (or a restarted driver) names the same hash.
    os.utime(module, (1, 1))
    assert ray_files.bundle_module(str(module))[0] == data


def test_materialise_fetches_once_per_node_and_reuses_the_cache(tmp_path: Path) -> None:
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"\x00\x01" * 1000)
    kind, data, name = ray_files.bundle_artifact(str(artifact))
    assert (kind, name) == ("file", "weights.bin")
    descriptor: Descriptor = {"hash": ray_files.content_hash(data), "kind": kind, "name": name}
    fetches: list[str] = []

    def fetch() -> memoryview:
        fetches.append("x")
        return memoryview(bytes(data))

    cache = str(tmp_path / "cache")
    # Several actors of one node at once: each may fetch, one copy stays, and all see the same path.
    paths: list[str] = []
    threads = [
        threading.Thread(target=lambda: paths.append(ray_files.materialise(cache, descriptor, fetch)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1 and Path(paths[0]).read_bytes() == artifact.read_bytes()
    assert sorted(os.listdir(cache)) == [descriptor["hash"]]  # no staging directory left behind
    # A restarted actor finds it: nothing is fetched again.
    fetches.clear()
    assert ray_files.materialise(cache, descriptor, fetch) == paths[0]
    assert fetches == []


def test_materialise_refuses_content_that_does_not_match_its_hash(tmp_path: Path) -> None:
    descriptor: Descriptor = {"hash": ray_files.content_hash(b"good"), "kind": "file", "name": "f"}
    with pytest.raises(BundleError, match="other content"):
        ray_files.materialise(str(tmp_path), descriptor, lambda: b"evil")
    assert os.listdir(tmp_path) == []


def test_directory_artifacts_and_module_bundles_unpack_to_directories(tmp_path: Path) -> None:
    write(tmp_path / "saved" / "saved_model.pb", "pb")
    write(tmp_path / "saved" / "variables" / "v.index", "idx")
    kind, data, name = ray_files.bundle_artifact(str(tmp_path / "saved"))
    assert (kind, name) == ("zip", "")
    descriptor: Descriptor = {"hash": ray_files.content_hash(data), "kind": kind, "name": name}
    local = ray_files.materialise(str(tmp_path / "cache"), descriptor, lambda: data)
    assert (Path(local) / "variables" / "v.index").read_text() == "idx"


def test_zip_entries_outside_the_directory_are_refused(tmp_path: Path) -> None:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        bundle.writestr("../escape.py", "boom")
    data = out.getvalue()
    descriptor: Descriptor = {"hash": ray_files.content_hash(data), "kind": "zip", "name": ""}
    with pytest.raises(BundleError, match="outside"):
        ray_files.materialise(str(tmp_path / "cache"), descriptor, lambda: data)
    assert not (tmp_path / "escape.py").exists()


def test_localise_spec_rewrites_module_artifacts_and_conf_paths(tmp_path: Path) -> None:
    def resolve(d: Descriptor) -> str:
        return f"/cache/{d['hash']}/{d['name']}"

    spec: dict[str, object] = {
        "name": "m", "module": "/pool/side/model.py", "code": None, "init": "init", "apply": "apply",
        "conf": {"k": 3, "artifacts": {"model": "/pool/side/m.keras"}, "path": "/pool/m.onnx"},
    }
    files = {
        "module": {"hash": "aa", "kind": "zip", "name": "model.py"},
        "artifacts": {"model": {"hash": "bb", "kind": "file", "name": "m.keras"}},
        "conf": {"path": {"hash": "cc", "kind": "file", "name": "m.onnx"}},
    }
    out = ray_files.localise_spec(spec, files, resolve, str(tmp_path))
    assert out["module"] == "/cache/aa/model.py"
    assert out["conf"] == {"k": 3, "artifacts": {"model": "/cache/bb/m.keras"}, "path": "/cache/cc/m.onnx"}
    assert spec["module"] == "/pool/side/model.py"  # the original is left as it was
    # A module of the pyudf package resolves inside this node's copy, and nowhere outside it.
    package = {"package_module": "builtins/udf.py"}
    assert ray_files.localise_spec(spec, package, resolve, str(tmp_path))["module"] == str(
        tmp_path / "builtins" / "udf.py"
    )
    with pytest.raises(BundleError, match="outside"):
        ray_files.localise_spec(spec, {"package_module": "../../etc/x.py"}, resolve, str(tmp_path))
    assert ray_files.localise_spec(spec, None, resolve, str(tmp_path)) is spec
