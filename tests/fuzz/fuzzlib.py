"""Shared machinery of the fuzz tests and ``benchmarks/fuzz.py``.

Seeds are real QEMU streams (``data/qemu-*/*/stream.mig.xz``) and the
teaching machine's stream. Mutators are plain functions ``(data, rng, info)
-> bytes``; ``info`` (:class:`SeedInfo`) knows where the seed's framing
values are (from a traced load), so a mutator can inflate a length or count
field to its maximum instead of flipping random bits. :func:`run_case` loads
one mutated stream and classifies the result: only
:class:`~vmstate_edu.errors.VMStateError` may escape, every case must end
within a second, and a ``VMStateError`` carries an integer offset (or none)
and a string path.
"""

from __future__ import annotations

import json
import lzma
import random
import signal
import struct
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import vmstate_edu as v
from vmstate_edu.errors import VMStateError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CASE_SECONDS = 1.0          # every case must end within this (issue 6; slowest seen ~0.1 s)
HANG_SECONDS = 10.0         # backstop: a case still running then is a hang


class Hang(BaseException):
    """Raised by the alarm backstop (BaseException: no ``except Exception`` eats it)."""


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

@dataclass
class SeedInfo:
    """A seed stream and where its framing values and sections are."""

    name: str
    data: bytes
    frames: list[tuple[str, int, int]] = field(default_factory=list)  # (what, offset, size)
    sections: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, end, type)
    vmdesc_offset: int | None = None

    def frames_named(self, *words: str) -> list[tuple[str, int, int]]:
        return [fr for fr in self.frames if any(w in fr[0] for w in words)]


def teaching_stream(version: str = "10.0") -> bytes:
    """The teaching machine's stream (about 10 KB): the small seed."""
    from vmstate_edu.machine import demo_machine

    return demo_machine(version).save()


def committed(case: str, version: str = "10.0") -> bytes:
    """A committed real stream, decompressed."""
    return lzma.decompress((DATA / f"qemu-{version}" / case / "stream.mig.xz").read_bytes())


def seed_info(name: str, data: bytes) -> SeedInfo:
    """Load ``data`` once, traced, to learn where its frames and sections are."""
    s = v.load_stream(data)
    t = s.trace_load()
    frames = [(r[6] or "", r[9], r[10]) for r in t.rows
              if r[2] == "frame" and isinstance(r[9], int) and r[10] > 0]
    secs = [(x.offset, x.end, x.type) for x in s.sections]
    return SeedInfo(name, data, frames, secs, s.vmdesc_offset)


DEFAULT_SEEDS = [("teaching-10.0", None), ("teaching-7.2", None),
                 ("aarch64-virt-paused", "10.0"), ("x86_64-pc-paused", "7.2"),
                 ("riscv64-virt-paused", "7.2"), ("x86_64-pc-paused", "10.0"),
                 # s390x's storage attributes and NULL pointer runs; 7.2's zlib pages
                 ("edge/s390x-ccw", "10.0"), ("edge/x86-compress-running", "7.2")]


def load_seeds(names: list[tuple[str, str | None]] = DEFAULT_SEEDS) -> list[SeedInfo]:
    out = []
    for case, version in names:
        if case.startswith("teaching-"):
            data = teaching_stream(case.split("-", 1)[1])
            out.append(seed_info(case, data))
        else:
            out.append(seed_info(f"{version}/{case}", committed(case, version)))
    return out


# ---------------------------------------------------------------------------
# Mutators
# ---------------------------------------------------------------------------

Mutator = Callable[[bytes, random.Random, SeedInfo], bytes]


def bit_flips(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = _pos(rng, info)
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def byte_insert(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    i = _pos(rng, info)
    return data[:i] + rng.randbytes(rng.randint(1, 16)) + data[i:]


def byte_delete(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    i = _pos(rng, info)
    return data[:i] + data[i + rng.randint(1, 16):]


def truncate(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    return data[:rng.randrange(len(data))]


_EXTREMES = (0xFF, 0x7F, 0x80, 0x00, 0x01)


def inflate_frame(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """Set one framing value (a length, count, id, version, RAM record word,
    the JSON length) to an extreme: all ones, the signed maximum or minimum,
    zero, or one more than it was."""
    frames = info.frames_named("length", "version", "count", "id", "ram record",
                               "marker", "footer", "type", "command") or info.frames
    what, off, size = rng.choice(frames)
    return _set_value(data, off, size, rng)


def inflate_length(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """Only the length fields: idstr/subsection name lengths, RAM block
    lengths (MEM_SIZE), the JSON length."""
    frames = info.frames_named("length") or info.frames
    what, off, size = rng.choice(frames)
    return _set_value(data, off, size, rng)


def _set_value(data: bytes, off: int, size: int, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(6)
    if kind == 5:
        old = int.from_bytes(b[off:off + size], "big")
        b[off:off + size] = ((old + 1) % (1 << (8 * size))).to_bytes(size, "big")
    elif kind == 4 and size == 8:  # a RAM word: keep the flags, break the address
        old = int.from_bytes(b[off:off + 8], "big")
        b[off:off + 8] = ((old & 0xFFF) | (rng.getrandbits(52) << 12)).to_bytes(8, "big")
    else:
        top = _EXTREMES[kind % len(_EXTREMES)]
        fill = 0xFF if top in (0xFF, 0x7F) else 0x00
        b[off:off + size] = bytes([top]) + bytes([fill]) * (size - 1)
    return bytes(b)


def swap_ids(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """Swap two section ids / footer ids, or two whole sections."""
    ids = info.frames_named("section id")
    if rng.random() < 0.5 and len(ids) >= 2:
        (_, a, _), (_, c, _) = rng.sample(ids, 2)
        b = bytearray(data)
        b[a:a + 4], b[c:c + 4] = data[c:c + 4], data[a:a + 4]
        return bytes(b)
    secs = info.sections
    if len(secs) < 2:
        return bit_flips(data, rng, info)
    i = rng.randrange(len(secs) - 1)
    (a0, a1, _), (b0, b1, _) = secs[i], secs[i + 1]
    if a1 != b0:
        return data
    return data[:a0] + data[b0:b1] + data[a0:a1] + data[b1:]


def _with_json(data: bytes, info: SeedInfo, text: bytes) -> bytes:
    o = info.vmdesc_offset
    if o is None:
        return data
    return data[:o + 1] + struct.pack(">I", len(text)) + text


def _json_of(data: bytes, info: SeedInfo) -> dict | None:
    o = info.vmdesc_offset
    if o is None:
        return None
    return json.loads(data[o + 5:].decode("latin-1"))


def json_text(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """Flip characters of the JSON text, keeping its length field right."""
    o = info.vmdesc_offset
    if o is None:
        return bit_flips(data, rng, info)
    text = bytearray(data[o + 5:])
    for _ in range(rng.randint(1, 4)):
        text[rng.randrange(len(text))] = rng.choice(b'{}[]":,0123456789-ax \x00\xff')
    return _with_json(data, info, bytes(text))


_BAD_VALUES = [None, -1, 0, 1 << 31, (1 << 64) - 1, 1 << 70, "x", "", [], {}, 1.5, True,
               [1, 2], {"a": 1}, "\x00", 10 ** 400]


def json_values(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """Replace values of the JSON (sizes, array_len, names, page_size, whole
    lists) by values of the wrong type or out of range."""
    desc = _json_of(data, info)
    if desc is None:
        return bit_flips(data, rng, info)
    slots = list(_slots(desc))
    for _ in range(rng.randint(1, 3)):
        parent, key = rng.choice(slots)
        parent[key] = rng.choice(_BAD_VALUES)
    return _with_json(data, info, json.dumps(desc).encode("latin-1", "replace"))


def json_nested(data: bytes, rng: random.Random, info: SeedInfo) -> bytes:
    """A device description nested very deep (``struct`` in ``struct`` ...)."""
    desc = _json_of(data, info)
    if desc is None:
        return data
    depth = rng.choice([70, 500, 1000, 10000])
    inner: dict = {"vmsd_name": "leaf", "version": 1, "fields": []}
    text = json.dumps(inner)
    for _ in range(depth):  # built as text: json.dumps itself would recurse
        text = ('{"vmsd_name": "n", "version": 1, "fields": [{"name": "s", "type": "struct", '
                '"size": 1, "struct": ' + text + "}]}")
    text = '{"name": "deep", "instance_id": 0, ' + text[1:]
    devs = desc.get("devices", [])
    if not devs:
        return data
    k = rng.randrange(len(devs))
    marker = "@@NESTED@@"
    devs[k] = marker
    full = json.dumps(desc).replace(json.dumps(marker), text)
    return _with_json(data, info, full.encode("latin-1"))


def _slots(obj, depth: int = 0) -> Iterator[tuple]:
    if depth > 30:
        return
    if isinstance(obj, dict):
        for k, val in obj.items():
            yield obj, k
            yield from _slots(val, depth + 1)
    elif isinstance(obj, list):
        for i, val in enumerate(obj):
            yield obj, i
            yield from _slots(val, depth + 1)


def _pos(rng: random.Random, info: SeedInfo) -> int:
    """A byte position, biased towards the interesting (non-page) bytes."""
    n = len(info.data)
    if info.frames and rng.random() < 0.7:
        _, off, size = rng.choice(info.frames)
        return min(n - 1, off + rng.randrange(max(size, 1)))
    return rng.randrange(n)


MUTATORS: dict[str, Mutator] = {
    "bit_flips": bit_flips, "byte_insert": byte_insert, "byte_delete": byte_delete,
    "truncate": truncate, "inflate_frame": inflate_frame, "inflate_length": inflate_length,
    "swap_ids": swap_ids, "json_text": json_text, "json_values": json_values,
    "json_nested": json_nested,
}


# ---------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one case did: ``kind`` is ``ok``, an exception class name, or
    ``ESCAPED:<name>`` / ``SLOW`` / ``HANG`` / ``BAD-ERROR`` for a failure."""

    kind: str
    seconds: float
    failure: str | None = None  # a description (with traceback) when it failed


def _on_alarm(signum, frame):
    raise Hang(f"case still running after {HANG_SECONDS} s")


def run_case(data: bytes, load: Callable[[bytes], object] | None = None,
             budget: float = CASE_SECONDS, require_offset: bool = True) -> Outcome:
    """Load ``data`` (``vmstate_edu.load_stream`` unless ``load`` is given)
    and check the rules. Never raises for a rule violation: see ``failure``.
    ``require_offset``: every error of a load from bytes knows its position."""
    load = load or v.load_stream
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    t0 = time.perf_counter()
    failure = None
    try:
        load(data)
        kind = "ok"
    except VMStateError as e:
        kind = type(e).__name__
        bad_offset = e.offset is None if require_offset else not (
            e.offset is None or isinstance(e.offset, int))
        if bad_offset or not isinstance(e.path, str) or isinstance(e.offset, bool):
            failure = f"BAD-ERROR offset={e.offset!r} path={e.path!r}: {e}"
            kind = "BAD-ERROR"
        else:
            str(e)  # formatting the message must work too
    except Hang:
        kind, failure = "HANG", f"hang:\n{traceback.format_exc()}"
    except Exception as e:  # the bug class we hunt
        kind = f"ESCAPED:{type(e).__name__}"
        failure = f"{type(e).__name__} escaped:\n{traceback.format_exc()}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    dt = time.perf_counter() - t0
    if failure is None and dt > budget:
        kind, failure = "SLOW", f"case took {dt:.2f} s (budget {budget} s)"
    return Outcome(kind, dt, failure)


@dataclass
class Campaign:
    """Figures of a run of many cases."""

    cases: int = 0
    seconds: float = 0.0
    kinds: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str, int, str]] = field(default_factory=list)  # seed, mut, seed#, text
    slowest: float = 0.0

    def add(self, seed: str, mutator: str, case_seed: int, out: Outcome) -> None:
        self.cases += 1
        self.seconds += out.seconds
        self.kinds[out.kind] += 1
        self.slowest = max(self.slowest, out.seconds)
        if out.failure is not None:
            self.failures.append((seed, mutator, case_seed, out.failure))


def mutate(info: SeedInfo, mutator: str, case_seed: int) -> bytes:
    """The case ``case_seed`` of ``mutator`` on ``info`` (reproducible)."""
    rng = random.Random(case_seed)
    return MUTATORS[mutator](info.data, rng, info)


def campaign(seeds: list[SeedInfo], mutators: list[str], *, cases: int | None = None,
             seconds: float | None = None, start_seed: int = 0,
             progress: Callable[[Campaign], None] | None = None) -> Campaign:
    """Run mutated cases round-robin over seeds and mutators until ``cases``
    cases or ``seconds`` seconds (whichever comes first)."""
    c = Campaign()
    t_end = time.perf_counter() + seconds if seconds is not None else None
    k = start_seed
    while True:
        if cases is not None and c.cases >= cases:
            break
        if t_end is not None and time.perf_counter() >= t_end:
            break
        info = seeds[k % len(seeds)]
        mut = mutators[(k // len(seeds)) % len(mutators)]
        data = mutate(info, mut, k)
        c.add(info.name, mut, k, run_case(data))
        k += 1
        if progress is not None and c.cases % 500 == 0:
            progress(c)
    return c
