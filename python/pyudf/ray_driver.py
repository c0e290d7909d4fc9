"""The pool's Ray driver: joins (or starts) a Ray cluster, then creates, watches and kills the actors.

Started by the Node pool as `python -m pyudf.ray_driver` (protocol.md section 9.3). One JSON object per
line: the configuration and then commands on stdin, events on file descriptor 3; stdout and stderr are
logs (Ray's, and what actors print). No batch passes through here: actors talk to the pool's socket
directly. End of stdin means the pool is gone: the actors are killed and a cluster started here stops.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Iterable
from typing import IO, Any, cast

from . import ray_files

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ENV = 3
# The cluster cannot be reached (at start), or was lost (later): a restart waits for it to come back.
EXIT_UNAVAILABLE = 4
EVENTS_FD = 3
# How often the driver checks that the cluster's GCS still accepts connections, and for how long it may not.
HEALTH_INTERVAL_S = 1.0
LOST_AFTER_S = 3.0
_CAUSE_CHARS = 4000


class Unavailable(Exception):
    """The Ray cluster cannot be reached."""


class Events:
    """Writes one JSON object per line to the events channel; safe from any thread."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, event: str, **fields: object) -> None:
        line = json.dumps({"event": event, **fields}, separators=(",", ":"))
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the pool is gone; stdin's end of file ends the driver


def gcs_endpoint(address: str | None) -> tuple[str, int] | None:
    """host and port of a plain `host:port` address (not `ray://`, not `auto`), else None."""
    if not address or "://" in address or address == "auto":
        return None
    host, _, port = address.rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() else None


def reachable(endpoint: tuple[str, int], timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(endpoint, timeout=timeout):
            return True
    except OSError:
        return False


def actor_options(options: dict[str, Any], job_env: dict[str, Any]) -> dict[str, Any]:
    """The pool's actorOptions as `ray.remote().options()` takes them; Ray never restarts them itself."""
    out = dict(options)
    strategy = out.get("scheduling_strategy")
    if isinstance(strategy, dict):
        spec = cast("dict[str, Any]", strategy)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # pyright: ignore

        out["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
            node_id=str(spec["node_id"]), soft=bool(spec.get("soft", False))
        )
    runtime_env = out.get("runtime_env")
    if isinstance(runtime_env, dict):
        # An actor's runtime_env replaces the job's: keep the pyudf package and the pool's variables in it.
        env = dict(cast("dict[str, Any]", runtime_env))
        env["py_modules"] = [*job_env["py_modules"], *env.get("py_modules", [])]
        env["env_vars"] = {**job_env.get("env_vars", {}), **env.get("env_vars", {})}
        env.setdefault("excludes", job_env["excludes"])
        out["runtime_env"] = env
    out["max_restarts"] = 0  # the pool replaces dead actors: Ray restarting one too would make two
    return out


class Driver:
    def __init__(self, config: dict[str, Any], events: Events) -> None:
        self._config = config
        self._events = events
        self._ray: Any = None
        self._files: Any = None
        self._actor_class: Any = None
        self._lock = threading.Lock()
        # Worker id -> actor handle; settled actor calls ("where" or "run", worker id, ref) for the watcher.
        self._actors: dict[str, Any] = {}
        self._done: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        # Content hash -> [object ref, registrations using it].
        self._bundles: dict[str, list[Any]] = {}
        self._staging = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyudf-stage")
        self._stopping = False
        self._gcs: tuple[str, int] | None = None
        self._job_env: dict[str, Any] = {}

    # ---- connecting -------------------------------------------------------------------------------

    def connect(self) -> None:
        config = self._config
        address = config.get("address")
        endpoint = gcs_endpoint(address)
        if endpoint is not None and not reachable(endpoint, timeout=3.0):
            raise Unavailable(f"nothing accepts connections at {address} (is the Ray cluster running?)")
        ray: Any = importlib.import_module("ray")
        self._ray = ray
        self._job_env = {
            "py_modules": [config["package_dir"]],
            "excludes": ["__pycache__", "*.pyc"],
            "env_vars": dict(config.get("env") or {}),
        }
        kwargs: dict[str, Any] = {
            "runtime_env": self._job_env,
            "namespace": config.get("namespace"),
            "log_to_driver": True,
            "logging_level": logging.WARNING,
        }
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:
                # "local": a new cluster even where `ray start` left the address of another one behind.
                ray.init(address="local", num_cpus=config.get("num_cpus"), include_dashboard=False, **kwargs)
        except Exception as exc:
            where = address or "(a new local one)"
            raise Unavailable(f"cannot connect to the Ray cluster at {where}: {exc}") from exc
        from .ray_actor import PyudfActor, PyudfFiles

        self._actor_class = ray.remote(PyudfActor)
        # Not restarted: a new one would hold no references. It lives as long as this driver, its owner.
        self._files = ray.remote(PyudfFiles).options(num_cpus=0, max_restarts=0).remote()
        try:
            gcs = str(ray.get_runtime_context().gcs_address or "")
        except Exception:  # Ray Client (ray://) does not say; its connection is then not checked here
            gcs = ""
        self._gcs = gcs_endpoint(gcs)
        resources = cast("dict[str, float]", ray.cluster_resources())
        self._events.send(
            "connected",
            address=gcs,
            node_ip=str(ray.util.get_node_ip_address()),
            local=not address,
            pids=self._local_pids(),
            cpus=resources.get("CPU", 0),
            nodes=len([n for n in ray.nodes() if n.get("Alive")]),
            ray=str(ray.__version__),
        )
        threading.Thread(target=self._watch, name="pyudf-watch", daemon=True).start()
        if self._gcs is not None:
            threading.Thread(target=self._check_health, name="pyudf-health", daemon=True).start()

    def _local_pids(self) -> list[int]:
        """Processes of a cluster this driver started (reported so that the pool can make sure they end)."""
        try:
            node = self._ray._private.worker._global_node
            if node is None or not node.head or self._config.get("address"):
                return []
            return sorted(
                info.process.pid for infos in node.all_processes.values() for info in infos if info.process
            )
        except Exception:
            return []

    # ---- commands ---------------------------------------------------------------------------------

    def serve(self, lines: Iterable[str]) -> None:
        for line in lines:
            if not line.strip():
                continue
            command = json.loads(line)
            op = command.get("op")
            if op == "launch":
                self.launch(command["id"], command["endpoint"])
            elif op == "kill":
                self.kill(command["id"])
            elif op == "stage":
                self._staging.submit(self.stage, command)
            elif op == "release":
                self.release(command["hashes"])
            elif op == "shutdown":
                break
            else:
                print(f"pyudf ray driver: unknown command {op!r}", file=sys.stderr, flush=True)
        self.shutdown()

    def launch(self, worker_id: str, endpoint: str) -> None:
        config = self._config
        try:
            options = actor_options(dict(config.get("actor_options") or {}), self._job_env)
            actor = self._actor_class.options(**options).remote()
            where = actor.where.remote()
            run = actor.run.remote(
                {
                    "endpoint": endpoint,
                    "worker_id": worker_id,
                    "token": config["token"],
                    "server_key": config["server_key"],
                    "public_key": config["public_key"],
                    "secret_key": config["secret_key"],
                },
                self._files,
            )
        except Exception as exc:
            self._events.send("exited", id=worker_id, clean=False, type=type(exc).__name__, cause=str(exc))
            return
        with self._lock:
            self._actors[worker_id] = actor
        self._follow("where", worker_id, where)
        self._follow("run", worker_id, run)

    def kill(self, worker_id: str) -> None:
        with self._lock:
            actor = self._actors.get(worker_id)
        if actor is not None:
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception as exc:
                print(f"pyudf ray driver: cannot kill {worker_id}: {exc}", file=sys.stderr, flush=True)

    def stage(self, command: dict[str, Any]) -> None:
        """Bundle and put a registration's module and artifacts; answer with their descriptors."""
        seq = command["seq"]
        what = "module"
        try:
            files: ray_files.RayFiles = {}
            module = command.get("module")
            if module:
                data, name = ray_files.bundle_module(module)
                files["module"] = self._put("zip", data, name)
            if command.get("package_module"):
                files["package_module"] = str(command["package_module"])
            for key in ("artifacts", "conf"):
                entries = cast("dict[str, str]", command.get(key) or {})
                if entries:
                    staged: dict[str, ray_files.Descriptor] = {}
                    for name, path in entries.items():
                        what = f"{key}.{name}"
                        kind, content, base = ray_files.bundle_artifact(path)
                        staged[name] = self._put(kind, content, base)
                    files[key] = staged
        except Exception as exc:
            self._events.send("staged", seq=seq, what=what, error=f"{type(exc).__name__}: {exc}")
            return
        self._events.send("staged", seq=seq, files=files)

    def _put(self, kind: ray_files.BundleKind, data: bytes | memoryview, name: str) -> ray_files.Descriptor:
        import numpy as np

        digest = ray_files.content_hash(data)
        with self._lock:
            entry = self._bundles.get(digest)
            if entry is not None:
                entry[1] += 1
        if entry is None:
            # A numpy view goes into the object store with one copy, and comes out of it with none.
            ref = self._ray.put(np.frombuffer(data, dtype=np.uint8))
            self._ray.get(self._files.add.remote(digest, [ref]))
            with self._lock:
                self._bundles[digest] = [ref, 1]
        return {"hash": digest, "kind": kind, "name": name}

    def release(self, hashes: list[str]) -> None:
        for digest in hashes:
            with self._lock:
                entry = self._bundles.get(digest)
                if entry is None:
                    continue
                entry[1] -= 1
                if entry[1] > 0:
                    continue
                del self._bundles[digest]
            self._files.remove.remote(digest)

    def shutdown(self) -> None:
        self._stopping = True
        with self._lock:
            actors = list(self._actors.values())
        for actor in actors:
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self._staging.shutdown(wait=False, cancel_futures=True)
        self._done.put(("stop", "", None))
        try:
            self._ray.shutdown()
        except Exception:
            pass

    # ---- watching ---------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Reports each actor's placement, and its end: a clean return after SHUTDOWN, or its death."""
        while True:
            what, worker_id, ref = self._done.get()
            if what == "stop":
                return
            self._settled(what, worker_id, ref)

    def _follow(self, what: str, worker_id: str, ref: Any) -> None:
        """Hands `ref` to the watcher once it settles (Ray's callback thread must not block on Ray)."""
        def settled(_: object) -> None:
            self._done.put((what, worker_id, ref))

        ref.future().add_done_callback(settled)

    def _settled(self, what: str, worker_id: str, ref: Any) -> None:
        try:
            value = self._ray.get(ref)
        except Exception as exc:
            if what == "run":
                self._ended(worker_id)
                cause = str(exc)[-_CAUSE_CHARS:]
                self._events.send("exited", id=worker_id, clean=False, type=type(exc).__name__, cause=cause)
            return
        if what == "where":
            self._events.send("placed", id=worker_id, **cast("dict[str, object]", value))
        else:
            actor = self._ended(worker_id)
            if actor is not None:
                try:
                    self._ray.kill(actor, no_restart=True)  # its process ends now, not when Ray collects it
                except Exception:
                    pass
            self._events.send("exited", id=worker_id, clean=True, type="", cause=str(value))

    def _ended(self, worker_id: str) -> Any:
        with self._lock:
            return self._actors.pop(worker_id, None)

    def _check_health(self) -> None:
        """Exits (EXIT_UNAVAILABLE) once the cluster's GCS has refused connections for LOST_AFTER_S."""
        gcs = self._gcs
        assert gcs is not None
        down_since: float | None = None
        while not self._stopping:
            time.sleep(HEALTH_INTERVAL_S)
            if reachable(gcs):
                down_since = None
                continue
            now = time.monotonic()
            down_since = down_since or now
            if now - down_since >= LOST_AFTER_S and not self._stopping:
                message = f"the Ray cluster's GCS at {gcs[0]}:{gcs[1]} stopped answering"
                self._events.send("lost", message=message)
                # Not ray.shutdown(): with the GCS gone it can wait for minutes. The actors died with it.
                os._exit(EXIT_UNAVAILABLE)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pyudf.ray_driver", description="configuration and commands on stdin"
    )
    parser.add_argument("--events-fd", type=int, default=EVENTS_FD, help="where events go (default 3)")
    args = parser.parse_args(argv)  # exits with status 2 on bad arguments
    try:
        events = Events(os.fdopen(args.events_fd, "w", encoding="utf-8"))
    except OSError:
        print(f"pyudf ray driver: file descriptor {args.events_fd} must be the events pipe", file=sys.stderr)
        return EXIT_USAGE
    line = sys.stdin.readline()
    if not line:
        return EXIT_OK  # the pool went away before it said anything
    config = cast("dict[str, Any]", json.loads(line))
    if not config.get("address"):
        # A cluster of the pool's own listens on loopback only. Ray swaps 127.0.0.1 for this machine's
        # address unless multi-node clusters are off (read when Ray is imported); none joins this one.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        importlib.import_module("ray")
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"pyudf-env-error: ray: {message}", file=sys.stderr, flush=True)
        return EXIT_ENV
    driver = Driver(config, events)
    try:
        driver.connect()
    except Unavailable as exc:
        events.send("unavailable", message=str(exc))
        return EXIT_UNAVAILABLE
    driver.serve(sys.stdin)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
