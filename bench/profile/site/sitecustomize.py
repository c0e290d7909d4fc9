"""Profiling hook for pyudf workers, active only when PYUDF_BENCH_PROFILE_OUT is set (bench/profile/).

Python imports this at start-up when bench/profile/site is on PYTHONPATH. It wraps the steps of the
worker's CALL handling (joining frames, reading and writing Arrow, writing a result file, the socket send)
in perf_counter timers, and runs every message's handling (not the wait in recv) under cProfile unless
PYUDF_BENCH_PROFILE_CPROFILE=0 (cProfile slows the Python-level calls it sees; the phase times are
cleaner without it). What is left of "whole _dispatch" is the user's apply and the worker's own code.
At SHUTDOWN it writes <out>.phases.json and <out>.pstats.txt. python/pyudf itself is not changed.
"""

from __future__ import annotations

import os

OUT = os.environ.get("PYUDF_BENCH_PROFILE_OUT")


def _install(out: str) -> None:
    import cProfile
    import functools
    import io
    import json
    import pstats
    import time

    from pyudf import arrow_ipc as ipc
    from pyudf import message_loop, result_files
    from pyudf import protocol as p

    use_cprofile = os.environ.get("PYUDF_BENCH_PROFILE_CPROFILE", "1") != "0"
    phases: dict[str, float] = {}
    counts = {"calls": 0}
    profiler = cProfile.Profile()
    clock = time.perf_counter

    def add(name: str, start: float) -> float:
        now = clock()
        phases[name] = phases.get(name, 0.0) + (now - start)
        return now

    def timed(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = clock()
            try:
                return original(*args, **kwargs)
            finally:
                add(label, start)

        setattr(owner, name, wrapper)

    # message_loop.py calls these through the module and class attributes, so wrapping them here is enough.
    timed(ipc, "read_call_body", "read_call_body (all of it)")
    timed(ipc, "join_frames", "join_frames")
    timed(ipc, "read_ipc_stream", "read_ipc_stream")
    timed(ipc, "write_ipc_stream", "write_ipc_stream")
    timed(result_files.ResultFiles, "write", "write RESULT file")
    timed(message_loop.MessageLoop, "_send", "send_multipart")
    original_dispatch = message_loop.MessageLoop._dispatch
    original_run = message_loop.MessageLoop.run

    def dispatch(self, header, bodies) -> None:
        start = clock()
        if use_cprofile:
            profiler.enable()
        try:
            original_dispatch(self, header, bodies)
        finally:
            if use_cprofile:
                profiler.disable()
            add("whole _dispatch", start)
            counts["calls"] += header.kind == p.CALL

    def report() -> None:
        summary = {"pid": os.getpid(), "cprofile": use_cprofile, **counts, "seconds": phases}
        with open(f"{out}.phases.json", "w") as f:
            json.dump(summary, f, indent=1)
        if use_cprofile:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
            with open(f"{out}.pstats.txt", "w") as f:
                f.write(text.getvalue())

    def run_and_report(self) -> None:
        try:
            original_run(self)
        finally:
            report()

    message_loop.MessageLoop._dispatch = dispatch
    message_loop.MessageLoop.run = run_and_report


if OUT:
    _install(OUT)
