"""RESULT bodies written into files of the pool's shared-memory directory (protocol.md section 3.7)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

import pyarrow as pa

from .arrow_ipc import write_stream

_OPEN_FLAGS = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def spare_name(worker_id: str) -> str:
    """The name under which the pool hands a read result file back to worker `worker_id` for reuse."""
    return f"spare-{worker_id}"


@dataclass(frozen=True)
class ResultFiles:
    """The pool's shared-memory directory (given as --shm-dir), the size from which results use it, and
    the path of this worker's spare file (section 3.7), if it has one."""

    directory: str
    min_bytes: int
    spare: str | None = None

    def write(self, name: str, schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes | None:
        """Write a RESULT stream into the file `name`; its path, or None if the file cannot be written."""
        path = os.path.join(self.directory, name)
        try:
            fd = self._open(path)
            with os.fdopen(fd, "wb", buffering=0) as file:
                # Each buffer goes straight to write(2): one copy, into the file's pages.
                write_stream(pa.PythonFile(file, mode="w"), schema, batches)
                os.ftruncate(fd, file.tell())  # a reused file may have been longer
        except OSError:  # /dev/shm full or gone: the socket still works
            try:
                os.unlink(path)
            except OSError:
                pass
            return None
        return path.encode("utf-8")

    def _open(self, path: str) -> int:
        """The spare file renamed to `path` when the pool left one, else a new file.

        Overwriting a spare's pages took a 5 MB result from 1.5 to 0.8 ms (in a loop): a new tmpfs file
        has its pages allocated and zeroed by the kernel, and freeing them on unlink cost the pool another
        0.3 ms.
        """
        if self.spare is not None:
            try:
                os.rename(self.spare, path)
            except OSError:  # none left (yet): the pool has not read the last one
                pass
            else:
                try:
                    return _open_regular(path)
                except OSError:  # not a regular file: never ours to write into
                    os.unlink(path)
        return os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o600)


def _open_regular(path: str) -> int:
    # O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader forever.
    fd = os.open(path, _OPEN_FLAGS | os.O_NONBLOCK)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.set_blocking(fd, True)
        return fd
    os.close(fd)
    raise OSError(f"{path} is not a regular file")
