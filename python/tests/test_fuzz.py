"""Fuzzing the worker's decoders with seeded, mutated input: only ProtocolError, no hang, bounded memory."""

from __future__ import annotations

import json
import random
from typing import Callable

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from split_frames import pool_frames

from pyudf import arrow_ipc as ipc
from pyudf import protocol as p
from pyudf.loader import UdfSpec

# Seeded (derandomize): the same inputs on every run. Inputs come 10 to an example, 10,000 per decoder,
# so that hypothesis's own cost per example does not dominate.
FUZZ_BODIES = settings(
    max_examples=1_000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BODIES_PER_EXAMPLE = 10


def _stream(batch: pa.RecordBatch) -> bytes:
    return bytes(ipc.write_ipc_stream(batch.schema, [batch]))


SEEDS = [
    _stream(pa.record_batch({"x": pa.array([1.5, None, 3.0]), "n": pa.array([1, 2, 3], pa.int32())})),
    _stream(pa.record_batch({"s": pa.array(["a", None, "ccc"]), "b": pa.array([b"x", None, b"z"])})),
    _stream(pa.record_batch({"l": pa.array([[1, 2], [], None, [3]], pa.list_(pa.int64()))})),
    _stream(pa.record_batch({"d": pa.array(["a", "b", "a"]).dictionary_encode()})),
    _stream(pa.record_batch({"t": pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float32(), 2))})),
]

def mutated(rng: random.Random) -> bytes:
    """A valid stream with 1-8 bytes overwritten, maybe cut short, maybe with bytes appended."""
    body = bytearray(rng.choice(SEEDS))
    for _ in range(rng.randint(1, 8)):
        body[rng.randrange(len(body))] = rng.randrange(256)
    if rng.random() < 0.3:
        body = body[: rng.randrange(len(body) + 1)]
    return bytes(body) + rng.randbytes(rng.randrange(17))


def _read_checked(body: bytes, schemas: ipc.SchemaCache | None) -> None:
    before = pa.total_allocated_bytes()
    try:
        _, batches = ipc.read_ipc_stream(body, schemas)
    except p.ProtocolError:
        return
    finally:
        # Reading views the body: what a corrupt length claims is never allocated.
        assert pa.total_allocated_bytes() - before <= 16 * len(body) + (1 << 16)
    for batch in batches:  # what was accepted is safe to use
        batch.validate(full=True)
        batch.to_pylist()


@FUZZ_BODIES
@given(st.randoms(use_true_random=False))
def test_arrow_bodies_are_read_or_refused_with_protocol_error(rng: random.Random) -> None:
    for _ in range(BODIES_PER_EXAMPLE):
        _read_checked(mutated(rng), None)


CACHE = ipc.SchemaCache()
for _seed in SEEDS:
    ipc.read_ipc_stream(_seed, CACHE)


@FUZZ_BODIES
@given(st.randoms(use_true_random=False))
def test_arrow_bodies_after_a_cached_schema_are_read_or_refused(rng: random.Random) -> None:
    for _ in range(BODIES_PER_EXAMPLE):
        _read_checked(mutated(rng), CACHE)


def random_header(rng: random.Random) -> bytes:
    """Random bytes, or a header of the right magic and version with a random kind and tail."""
    if rng.random() < 0.5:
        return rng.randbytes(rng.randrange(33))
    return b"PUDF" + bytes([p.VERSION, rng.randrange(256)]) + rng.randbytes(rng.randrange(13))


@FUZZ_BODIES
@given(st.randoms(use_true_random=False))
def test_headers_decode_or_raise_protocol_error(rng: random.Random) -> None:
    for _ in range(BODIES_PER_EXAMPLE):
        frame = random_header(rng)
        try:
            header = p.decode_header(frame)
        except p.ProtocolError:
            continue
        assert len(frame) == p.HEADER_SIZE and header.kind in p.KIND_NAMES


def random_json(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randrange(8 if depth < 3 else 6)
    if choice < 6:
        scalars: tuple[Callable[[], object], ...] = (
            lambda: None, lambda: rng.random() < 0.5, lambda: rng.randint(-(1 << 40), 1 << 40),
            lambda: rng.uniform(-1e9, 1e9),
            lambda: "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(6))),
            lambda: "/abs/m.py",
        )
        return scalars[choice]()
    if choice == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(SPEC_KEYS + ("x",)): random_json(rng, depth + 1) for _ in range(rng.randrange(7))}


SPEC_KEYS = ("name", "module", "code", "init", "apply", "conf")


def random_register_body(rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        return rng.randbytes(rng.randrange(65))
    if kind == 1:
        return json.dumps(random_json(rng)).encode()
    # A UdfSpec-shaped object with random values, some keys missing.
    spec = {key: random_json(rng, 2) for key in SPEC_KEYS if rng.random() < 0.9}
    return json.dumps(spec).encode()


@FUZZ_BODIES
@given(st.randoms(use_true_random=False))
def test_register_bodies_decode_or_raise_protocol_error(rng: random.Random) -> None:
    for _ in range(BODIES_PER_EXAMPLE):
        try:
            UdfSpec.from_json(p.decode_json_object(random_register_body(rng), "REGISTER"))
        except p.ProtocolError:
            continue


SPLIT_SEEDS = [pool_frames([pa.ipc.open_stream(seed).read_next_batch()]) for seed in SEEDS]


@FUZZ_BODIES
@given(st.randoms(use_true_random=False))
def test_split_bodies_after_a_cached_schema_are_read_or_refused(rng: random.Random) -> None:
    """Bodies cut as the pool cuts them (read where they lie, section 3.4), with bytes of a frame changed."""
    for _ in range(BODIES_PER_EXAMPLE):
        frames = [bytearray(frame) for frame in rng.choice(SPLIT_SEEDS)]
        for _ in range(rng.randint(1, 8)):
            frame = rng.choice([f for f in frames if f])
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        size = sum(len(frame) for frame in frames)
        before = pa.total_allocated_bytes()
        try:
            _, batches = ipc.read_call_body([bytes(frame) for frame in frames], CACHE)
        except p.ProtocolError:
            continue
        finally:
            assert pa.total_allocated_bytes() - before <= 16 * size + (1 << 16)
        for batch in batches:
            batch.validate(full=True)
            batch.to_pylist()
