"""Profiling hook for pyudf workers, active only when PYUDF_BENCH_PROFILE_OUT is set (bench/profile/).

Python imports this at start-up when bench/profile/site is on PYTHONPATH. It replaces the worker's
CALL handler with a copy of pyudf.serve.Worker._call that times each phase with perf_counter, and runs
every message's handling (not the wait in recv) under cProfile unless PYUDF_BENCH_PROFILE_CPROFILE=0
(cProfile slows the Python-level calls it sees; the phase times are cleaner without it). At SHUTDOWN it
writes <out>.phases.json and <out>.pstats.txt. python/pyudf itself is not changed.

PYUDF_BENCH_VARIANT tries alternatives in the copy, to measure before changing pyudf: `prealloc`
writes the RESULT stream into one buffer of the exact size instead of a growing BufferOutputStream;
`send-copy` sends it with copy=True; `prealloc,send-copy` does both.
"""

from __future__ import annotations

import os

OUT = os.environ.get("PYUDF_BENCH_PROFILE_OUT")


def _install(out: str) -> None:
    import cProfile
    import io
    import json
    import pstats
    import time

    from pyudf import convert, errors, serve
    from pyudf import protocol as p

    use_cprofile = os.environ.get("PYUDF_BENCH_PROFILE_CPROFILE", "1") != "0"
    variant = set(filter(None, os.environ.get("PYUDF_BENCH_VARIANT", "").split(",")))
    phases: dict[str, float] = {}
    counts = {"calls": 0, "rows": 0}
    profiler = cProfile.Profile()
    clock = time.perf_counter

    def add(name: str, start: float) -> float:
        now = clock()
        phases[name] = phases.get(name, 0.0) + (now - start)
        return now

    def timed_call(self, header, bodies) -> None:  # a copy of Worker._call with timers between phases
        t = clock()
        entry = self._udfs.get(header.udf_id)
        if entry is None:
            raise p.ProtocolError(f"CALL for udf_id {header.udf_id}, which is not registered")
        stream = p.join_frames(bodies)
        t = add("join_frames", t)
        schema, batches = p.read_ipc_stream(stream)
        t = add("read_ipc_stream", t)
        batch = convert.one_batch(schema, batches)
        t = add("one_batch", t)
        try:
            result = entry.apply(entry.state, batch)
            t = add("apply (user code)", t)
            out_schema, out_batches = convert.normalise(result)
            t = add("normalise", t)
            if "prealloc" in variant:
                payload = write_preallocated(out_schema, out_batches)
            else:
                payload = p.write_ipc_stream(out_schema, out_batches)
            t = add("write_ipc_stream", t)
        except Exception as exc:
            self._send_error(header.request_id, header.udf_id, errors.python_error(exc, "apply"))
            return
        header_frame = p.encode_header(p.RESULT, header.request_id, header.udf_id)
        t = add("encode_header", t)
        if "send-copy" in variant:
            self._socket.send_multipart([header_frame, payload], copy=True)
        else:
            self._send(header_frame, payload)
        add("send_multipart", t)
        counts["calls"] += 1
        counts["rows"] += batch.num_rows

    def write_preallocated(schema, batches):
        import pyarrow as pa

        size = 8192 + sum(pa.ipc.get_record_batch_size(b) for b in batches)  # + schema and framing
        buffer = pa.allocate_buffer(size)
        sink = pa.FixedSizeBufferWriter(buffer)
        with pa.ipc.new_stream(sink, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        return buffer.slice(0, sink.tell())

    original_dispatch = serve.Worker._dispatch
    original_serve = serve.Worker.serve

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

    def report() -> None:
        summary = {"pid": os.getpid(), "cprofile": use_cprofile, **counts, "seconds": phases}
        with open(f"{out}.phases.json", "w") as f:
            json.dump(summary, f, indent=1)
        if use_cprofile:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
            with open(f"{out}.pstats.txt", "w") as f:
                f.write(text.getvalue())

    def serve_and_report(self) -> None:
        try:
            original_serve(self)
        finally:
            report()

    serve.Worker._call = timed_call
    serve.Worker._dispatch = dispatch
    serve.Worker.serve = serve_and_report


if OUT:
    _install(OUT)
