"""Worker process entry point (protocol.md section 4): arguments, environment check, parent death.

Only the standard library is imported at the top: a missing pyarrow, pyzmq or numpy must end in exit
status 3 with a `pyudf-env-error:` line, not in an ImportError traceback.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib
import os
import re
import signal
import stat
import sys
import threading

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ENV = 3
REQUIRED_MODULES = ("pyarrow", "zmq", "numpy")
_PR_SET_PDEATHSIG = 1
_MAX_TOKEN_BYTES = 256


def _worker_id(text: str) -> str:
    if not re.fullmatch(r"w[0-9]+", text):
        raise argparse.ArgumentTypeError(f"worker id must look like w<N>, got {text!r}")
    return text


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pyudf.worker", description="pyudf worker process")
    parser.add_argument("--endpoint", required=True, help="the pool's ZeroMQ ROUTER endpoint")
    parser.add_argument("--id", required=True, type=_worker_id, help="routing id, w<N>")
    parser.add_argument("--shm-dir", help="the pool's directory for large results (section 3.7)")
    parser.add_argument("--shm-min-bytes", type=int, default=1 << 20, help="results this large use files")
    parser.add_argument(
        "--token-stdin", action="store_true", help="read the pool's secret from stdin (section 4)"
    )
    return parser.parse_args(argv)  # exits with status 2 on bad arguments


def check_environment() -> str | None:
    """Return the `pyudf-env-error:` line for the first required module that cannot be imported."""
    for name in REQUIRED_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken install (ABI mismatch, ...) is as fatal as a missing one
            # One line: the pool reads the last stderr line.
            message = " ".join(str(exc).split()) or type(exc).__name__
            return f"pyudf-env-error: {name}: {message}"
    return None


def _ask_kernel_for_pdeathsig() -> None:
    # Best effort: works while user code holds the GIL, which no Python-level check can.
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch_stdin() -> None:
    """Exit at once when stdin reaches end of file: the pool that held its write end is gone."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    # Only a pipe, socket (libuv's stdio pipes are socketpairs) or terminal means something; reading
    # /dev/null or a file would hit end of file at once and end a worker whose parent is alive.
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)):
        return

    def watch() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            return
        os._exit(EXIT_OK)

    threading.Thread(target=watch, name="pyudf-stdin-watch", daemon=True).start()


def read_token() -> str | None:
    """The pool's secret: the first line of stdin, read before anything else reads it (section 4)."""
    line = b""
    while not line.endswith(b"\n") and len(line) <= _MAX_TOKEN_BYTES:
        chunk = os.read(0, 1)
        if not chunk:
            return None
        line += chunk
    token = line.strip().decode("ascii", errors="replace")
    return token or None


def _warm_up() -> None:
    """Pay pyarrow's lazy imports now, before READY, rather than in the first batch.

    pyarrow checks numpy input for pandas objects by importing pandas when it is installed: 0.42 s here,
    which landed in the first batch of every new worker (a slow first call, and a long window in which
    a worker dying takes that batch with it).
    """
    import numpy as np
    import pyarrow as pa

    pa.RecordBatch.from_pydict({"x": np.zeros(1)})


def main(argv: list[str]) -> int:
    parent = os.getppid()
    args = parse_args(argv)
    env_error = check_environment()
    if env_error is not None:
        sys.stdout.flush()
        print(env_error, file=sys.stderr, flush=True)
        return EXIT_ENV

    _ask_kernel_for_pdeathsig()
    if os.getppid() != parent:
        return EXIT_OK  # the parent died before the kernel was told to signal us
    token = read_token() if args.token_stdin else None
    if args.token_stdin and token is None:
        return EXIT_OK  # stdin ended before the secret: the pool is gone
    _watch_stdin()
    # The pool owns this process: a terminal's Ctrl-C reaches the whole process group and must not
    # kill workers while the pool drains them. The pool stops workers with SHUTDOWN or a kill.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    _warm_up()

    import zmq

    from .message_loop import MessageLoop
    from .result_files import ResultFiles, spare_name

    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.ROUTING_ID, args.id.encode("ascii"))
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.connect(args.endpoint)
    except zmq.ZMQError as exc:
        print(f"pyudf worker: cannot connect to {args.endpoint!r}: {exc}", file=sys.stderr, flush=True)
        socket.close(linger=0)
        context.term()
        return EXIT_USAGE
    try:
        files = None
        if args.shm_dir:
            directory = os.path.abspath(args.shm_dir)
            spare = os.path.join(directory, spare_name(args.id))
            files = ResultFiles(directory, args.shm_min_bytes, spare)
        MessageLoop(socket, files, token=token).run()
    finally:
        socket.close(linger=0)
        context.term()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
