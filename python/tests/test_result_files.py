"""ResultFiles (protocol.md section 3.7): new files, the pool's spare overwritten in place, hostile spares."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from pyudf.result_files import ResultFiles, spare_name


def batch_of(rows: int) -> pa.RecordBatch:
    return pa.record_batch({"x": pa.array(range(rows), pa.int64())})


def read(path: bytes | None) -> pa.Table:
    assert path is not None
    return pa.ipc.open_stream(Path(path.decode()).read_bytes()).read_all()


@pytest.fixture
def files(tmp_path: Path) -> ResultFiles:
    return ResultFiles(str(tmp_path), 0, str(tmp_path / spare_name("w1")))


def test_without_a_spare_a_new_private_file_is_written(files: ResultFiles, tmp_path: Path) -> None:
    path = files.write("r1", batch_of(10).schema, [batch_of(10)])
    assert path == str(tmp_path / "r1").encode()
    assert read(path).column("x").to_pylist() == list(range(10))
    assert (tmp_path / "r1").stat().st_mode & 0o777 == 0o600


def test_the_spare_is_overwritten_in_place_and_cut_to_the_new_result(
    files: ResultFiles, tmp_path: Path
) -> None:
    long = files.write("r1", batch_of(50_000).schema, [batch_of(50_000)])
    assert long is not None
    os.rename(long, tmp_path / "spare-w1")  # what the pool does once it has read it
    inode = (tmp_path / "spare-w1").stat().st_ino
    short = files.write("r2", batch_of(3).schema, [batch_of(3)])
    assert short == str(tmp_path / "r2").encode()
    assert not (tmp_path / "spare-w1").exists()
    assert (tmp_path / "r2").stat().st_ino == inode
    # Exactly the new stream: no tail of the longer one after its end-of-stream marker.
    assert read(short).column("x").to_pylist() == [0, 1, 2]
    assert (tmp_path / "r2").stat().st_size < 1000


def test_a_spare_that_is_a_symlink_is_not_followed(files: ResultFiles, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (tmp_path / "spare-w1").symlink_to(victim)
    path = files.write("r3", batch_of(5).schema, [batch_of(5)])
    assert path is not None and read(path).num_rows == 5
    assert not (tmp_path / "r3").is_symlink()
    assert victim.read_bytes() == b"keep me"


def test_a_spare_that_is_a_fifo_does_not_block_the_worker(files: ResultFiles, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "spare-w1")
    written: list[bytes | None] = []
    writer = threading.Thread(
        target=lambda: written.append(files.write("r4", batch_of(5).schema, [batch_of(5)]))
    )
    writer.start()
    writer.join(10)
    assert not writer.is_alive(), "opening the FIFO blocked"
    assert written[0] is not None and read(written[0]).num_rows == 5


def test_a_spare_that_is_a_directory_sends_the_result_on_the_socket(
    files: ResultFiles, tmp_path: Path
) -> None:
    (tmp_path / "spare-w1").mkdir()
    assert files.write("r5", batch_of(5).schema, [batch_of(5)]) is None
    # The next result, with no spare left, gets a file again.
    path = files.write("r6", batch_of(5).schema, [batch_of(5)])
    assert path is not None and read(path).num_rows == 5
