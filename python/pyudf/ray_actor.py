"""The Ray side of a pyudf pool: an actor that is one worker, and the actor that hands out staged files.

`PyudfActor.run` connects a DEALER to the pool's ROUTER over tcp with CURVE and serves it with pyudf's
own message loop until SHUTDOWN (protocol.md section 9); only REGISTER differs, in that the UDF's code
and artifacts are fetched from the object store into this node's cache first (ray_files.py).
ray_driver.py creates both classes with `ray.remote(...)`; this module imports Ray only when it runs.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, TypedDict

import zmq

from . import errors, ray_files
from . import protocol as p
from .message_loop import MessageLoop


class Placement(TypedDict):
    """Where an actor runs, for the pool's stats (and a test's kill)."""

    pid: int
    node_id: str
    node_ip: str
    actor_id: str


class ActorConfig(TypedDict):
    """What `PyudfActor.run` needs to join the pool: its endpoint, routing id and secrets."""

    endpoint: str
    worker_id: str
    token: str
    # Z85 CURVE keys: the pool's public key, and this pool's client key pair.
    server_key: str
    public_key: str
    secret_key: str


def _ray() -> Any:
    # Imported by name: Ray's partial type hints would otherwise leak Unknowns into strict checking.
    return importlib.import_module("ray")


class RayMessageLoop(MessageLoop):
    """The worker's message loop, whose REGISTER first makes the UDF's files local (ray_files.py)."""

    def __init__(self, socket: zmq.Socket[Any], token: str, fetch: ray_files.Fetcher) -> None:
        super().__init__(socket, None, token=token)
        self._fetch = fetch
        self._cache = ray_files.cache_root()
        self._package_dir = os.path.dirname(os.path.abspath(__file__))

    def _register(self, header: p.Header, body: zmq.Frame) -> None:
        spec = p.decode_json_object(body.buffer, "REGISTER")
        files = spec.pop("ray_files", None)
        try:
            spec = ray_files.localise_spec(spec, files, self._local_path, self._package_dir)
        except Exception as exc:
            # The UDF's files cannot be had on this node: a load failure, which register() reports.
            self._send_error(header.request_id, header.udf_id, errors.python_error(exc, "load"))
            return
        super()._register(header, zmq.Frame(p.encode_json(spec)))

    def _local_path(self, descriptor: ray_files.Descriptor) -> str:
        return ray_files.materialise(self._cache, descriptor, lambda: self._fetch(descriptor))


class PyudfFiles:
    """Holds the object-store references of staged bundles, by content hash, for actors to fetch.

    The driver owns the objects (it put them); this actor only lends the references, since an object
    can be fetched only through a reference that came by way of Ray.
    """

    def __init__(self) -> None:
        self._refs: dict[str, list[Any]] = {}

    def add(self, digest: str, refs: list[Any]) -> None:
        self._refs[digest] = refs

    def remove(self, digest: str) -> None:
        self._refs.pop(digest, None)

    def get(self, digest: str) -> list[Any] | None:
        return self._refs.get(digest)


class PyudfActor:
    """One pyudf worker. `where` first (the driver reports it), then `run` until the pool says SHUTDOWN."""

    def where(self) -> Placement:
        ray = _ray()
        context = ray.get_runtime_context()
        return {
            "pid": os.getpid(),
            "node_id": str(context.get_node_id()),
            "node_ip": str(ray.util.get_node_ip_address()),
            "actor_id": str(context.get_actor_id()),
        }

    def run(self, config: ActorConfig, files: Any) -> str:
        """Serve the pool until SHUTDOWN; returns "shutdown". `files` is the PyudfFiles actor's handle."""
        ray = _ray()

        def fetch(descriptor: ray_files.Descriptor) -> memoryview:
            refs = ray.get(files.get.remote(descriptor["hash"]))
            if not refs:
                raise ray_files.BundleError(f"bundle {descriptor['hash']} is not staged by the pool's driver")
            data = ray.get(refs[0])
            return memoryview(data).cast("B")

        context = zmq.Context()
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.ROUTING_ID, config["worker_id"].encode("ascii"))
        socket.setsockopt(zmq.LINGER, 0)
        socket.curve_serverkey = config["server_key"].encode("ascii")
        socket.curve_publickey = config["public_key"].encode("ascii")
        socket.curve_secretkey = config["secret_key"].encode("ascii")
        try:
            socket.connect(config["endpoint"])
            RayMessageLoop(socket, config["token"], fetch).run()
        finally:
            socket.close(linger=0)
            context.term()
        return "shutdown"
