"""Wire format of protocol.md, section by section: header frame, message kinds, JSON bodies.

The Arrow bodies (section 3.4) are in arrow_ipc.py, result files (section 3.7) in result_files.py.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Union, cast

# Bytes-like things a frame can arrive as (a zmq.Frame's .buffer is a memoryview).
BytesLike = Union[bytes, bytearray, memoryview]

# ---- 2. Header frame -------------------------------------------------------------------------------

MAGIC = b"PUDF"
VERSION = 2
HEADER_SIZE = 16
# Header flag (RESULT only): the one body frame is the path of a file in the shared-memory directory
# (section 3.7).
FLAG_BODY_IN_FILE = 0x0001
_HEADER = struct.Struct("<4sBBHII")  # magic, version, kind, flags, request_id, udf_id
assert _HEADER.size == HEADER_SIZE

# Largest RESULT body, as one frame or one file (section 3.4): Node reads neither past 2 GiB - 1 bytes.
MAX_RESULT_BYTES = 2**31 - 1


class ResultTooLargeError(Exception):
    """A batch's result does not fit in one RESULT body; the UDF's batches must be smaller."""


# ---- 3. Message kinds ------------------------------------------------------------------------------

READY = 1
REGISTER = 2
REGISTERED = 3
UNREGISTER = 4
UNREGISTERED = 5
CALL = 6
RESULT = 7
ERROR = 8
SHUTDOWN = 9
PING = 10  # pool to worker, no body, no answer: the pool checks that the worker is still connected

KIND_NAMES: dict[int, str] = {
    READY: "READY",
    REGISTER: "REGISTER",
    REGISTERED: "REGISTERED",
    UNREGISTER: "UNREGISTER",
    UNREGISTERED: "UNREGISTERED",
    CALL: "CALL",
    RESULT: "RESULT",
    ERROR: "ERROR",
    SHUTDOWN: "SHUTDOWN",
    PING: "PING",
}


class ProtocolError(Exception):
    """A malformed or wrong-version message (section 5).

    Carries the ids of the offending header when it was long enough to hold them, so the ERROR
    answer can echo them and the pool can fail the right request.
    """

    def __init__(self, message: str, request_id: int = 0, udf_id: int = 0) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.udf_id = udf_id


@dataclass(frozen=True)
class Header:
    kind: int
    request_id: int = 0
    udf_id: int = 0
    flags: int = 0


def kind_name(kind: int) -> str:
    return KIND_NAMES.get(kind, f"kind {kind}")


def encode_header(kind: int, request_id: int = 0, udf_id: int = 0, flags: int = 0) -> bytes:
    return _HEADER.pack(MAGIC, VERSION, kind, flags, request_id, udf_id)


def decode_header(buf: BytesLike) -> Header:
    """Parse a header frame; raise ProtocolError saying what is wrong with it."""
    size = len(buf)
    request_id = udf_id = 0
    if size >= HEADER_SIZE:
        # Read the ids before validating anything so that every error below can echo them.
        request_id, udf_id = struct.unpack_from("<II", buf, 8)
    if size != HEADER_SIZE:
        raise ProtocolError(f"malformed header: expected {HEADER_SIZE} bytes, got {size}", request_id, udf_id)
    magic, version, kind, flags, request_id, udf_id = _HEADER.unpack(buf)
    if magic != MAGIC:
        raise ProtocolError(
            f"malformed header: magic is {magic!r}, expected {MAGIC!r} (is the peer a pyudf pool?)",
            request_id,
            udf_id,
        )
    # Version before kind: a newer peer may use kinds this side has never heard of.
    if version != VERSION:
        raise ProtocolError(
            f"protocol version mismatch: received version {version}, this side speaks version {VERSION}"
            " (the pyudf Python package and the TypeScript pool come from different releases)",
            request_id,
            udf_id,
        )
    if kind not in KIND_NAMES:
        raise ProtocolError(f"malformed header: unknown message kind {kind}", request_id, udf_id)
    return Header(kind=kind, request_id=request_id, udf_id=udf_id, flags=flags)


# ---- 3.1 - 3.5 JSON bodies -------------------------------------------------------------------------


class _WorkerVersions(TypedDict):
    pid: int
    python: str
    pyarrow: str
    pyzmq: str
    numpy: str


class WorkerInfo(_WorkerVersions, total=False):
    """The READY body (section 3.1). The pool ignores keys it does not know."""

    # The pool's secret, given on stdin (section 4); present when the worker was started with --token-stdin.
    token: str


class _UdfSpecSchemas(TypedDict, total=False):
    # The declared output schema: base64 of an Arrow IPC stream holding only that schema, or null.
    output: str | None
    # True: apply gets dictionary-encoded columns as they came (default false: decoded to their values).
    keep_dictionaries: bool


class UdfSpecMessage(_UdfSpecSchemas):
    """The REGISTER body (section 3.2): exactly one of `module` (an absolute path) and `code` is a string.

    What arrives is checked against this shape by loader.UdfSpec.from_json, not trusted.
    """

    name: str
    module: str | None
    code: str | None
    init: str | None
    apply: str
    conf: Any  # any JSON value, passed to init as decoded


# The phases of a UDF's life in which its own code can fail (section 3.5).
Phase = Literal["load", "init", "apply"]
ErrorKind = Literal["python", "protocol"]


class ErrorFrame(TypedDict):
    """One entry of ErrorPayload.frames (section 3.5)."""

    file: str
    # Python leaves the line unknown in rare cases (a SyntaxError raised without a location).
    line: int | None
    function: str


class ErrorPayload(TypedDict):
    """The ERROR body (section 3.5). For kind "protocol", phase is None, traceback "" and frames []."""

    kind: ErrorKind
    phase: Phase | None
    type: str
    message: str
    traceback: str
    frames: list[ErrorFrame]


def encode_json(obj: object) -> bytes:
    # ASCII-escaped output is still valid UTF-8 and cannot fail on lone surrogates in messages.
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def decode_json_object(buf: BytesLike, what: str) -> dict[str, object]:
    """Decode a JSON body that must be an object; anything else is a ProtocolError.

    The keys and values are not checked here: the caller validates the shape it expects.
    """
    try:
        obj = json.loads(bytes(buf).decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both derive from ValueError
        raise ProtocolError(f"{what} body is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} body must be a JSON object, got {type(obj).__name__}")
    return cast("dict[str, object]", obj)  # a JSON object's keys are strings
