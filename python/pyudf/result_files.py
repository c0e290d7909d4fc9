"""RESULT bodies written into files of the pool's shared-memory directory (protocol.md section 3.7)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa

from .arrow_ipc import write_stream


@dataclass(frozen=True)
class ResultFiles:
    """The pool's shared-memory directory (given as --shm-dir) and the size from which results use it."""

    directory: str
    min_bytes: int

    def write(self, name: str, schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes | None:
        """Write a RESULT stream into a new file; its path, or None if the file cannot be written."""
        path = os.path.join(self.directory, name)
        try:
            # The writer hands each buffer straight to write(2): one copy, into the file's pages.
            with pa.OSFile(path, "wb") as sink:
                write_stream(sink, schema, batches)
        except OSError:  # /dev/shm full or gone: the socket still works
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return None
        return path.encode("utf-8")
