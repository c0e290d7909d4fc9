"""Building the ERROR body (`ErrorPayload`, protocol.md section 3.5) from an exception."""

from __future__ import annotations

import os
import traceback
from types import TracebackType

from .protocol import ErrorFrame, ErrorPayload, Phase

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def qualified_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", None) else f"{module}.{cls.__qualname__}"


def _is_internal(filename: str) -> bool:
    # The worker's own files and importlib's frozen machinery say nothing about the user's bug.
    if filename.startswith("<frozen "):
        return True
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def user_frames(exc: BaseException) -> list[ErrorFrame]:
    """The traceback's frames, outermost first, without worker-internal ones."""
    frames: list[ErrorFrame] = [
        {"file": fs.filename, "line": fs.lineno, "function": fs.name}
        for fs in traceback.extract_tb(exc.__traceback__)
        if not _is_internal(fs.filename)
    ]
    # A SyntaxError is raised by the compiler, not in a frame of the user's file: point at the
    # offending line anyway so that the last frame is always where the problem is.
    if isinstance(exc, SyntaxError) and exc.filename and not _is_internal(exc.filename):
        frames.append({"file": exc.filename, "line": exc.lineno, "function": "<module>"})
    return frames


def _user_tb(exc: BaseException) -> TracebackType | None:
    """The traceback from the first frame outside the worker: the user's code, where the story starts."""
    tb = exc.__traceback__
    while tb is not None and _is_internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    # None when every frame is the worker's or importlib's (a SyntaxError in the user's file): the
    # exception's own lines then point at the user's code.
    return tb


def exception_message(exc: BaseException) -> str:
    """`str(exc)`, or a stand-in when the exception's own `__str__` raises."""
    try:
        return str(exc)
    except Exception:  # a user's __str__ may itself raise; the answer must still be sent
        return f"<unprintable {type(exc).__name__}>"


def python_error(exc: BaseException, phase: Phase) -> ErrorPayload:
    """ErrorPayload of kind "python" for an exception raised in phase load, init or apply."""
    return {
        "kind": "python",
        "phase": phase,
        "type": qualified_name(type(exc)),
        "message": exception_message(exc),
        # The three-argument form keeps Python 3.9 support.
        "traceback": "".join(traceback.format_exception(type(exc), exc, _user_tb(exc))),
        "frames": user_frames(exc),
    }


def protocol_error(message: str) -> ErrorPayload:
    """ErrorPayload of kind "protocol": there is no user code, hence no traceback or frames."""
    return {
        "kind": "protocol",
        "phase": None,
        "type": "ProtocolError",
        "message": message,
        "traceback": "",
        "frames": [],
    }
