"""Fuzzing real migration streams: the only exception that may escape
``vmstate_edu.load_stream(bytes)``, ``qemu_loadvm_state`` and
``vmstate_load_state`` is ``VMStateError`` (with an integer offset and a
string path), every case ends within a second, and no value read from a
stream makes the reader allocate more than the stream could justify.

A short, deterministic budget for CI (the whole fuzz folder runs in well
under a minute on 2 cores); ``benchmarks/fuzz.py`` runs the same mutators
for minutes and prints the figures.
"""

from __future__ import annotations

import random
import struct
import tracemalloc
from types import SimpleNamespace as NS

import fuzzlib as fz
import pytest

import vmstate_edu as v
from vmstate_edu.machine import TeachingMachine


@pytest.fixture(scope="module")
def seeds() -> list[fz.SeedInfo]:
    return fz.load_seeds()


@pytest.fixture(scope="module")
def teaching() -> fz.SeedInfo:
    return fz.seed_info("teaching-10.0", fz.teaching_stream("10.0"))


@pytest.fixture(scope="module")
def arm() -> fz.SeedInfo:
    return fz.seed_info("10.0/aarch64-virt-paused", fz.committed("aarch64-virt-paused", "10.0"))


def _check(outcomes: list[tuple[str, fz.Outcome]]) -> None:
    bad = [(what, o) for what, o in outcomes if o.failure is not None]
    assert not bad, f"{len(bad)} of {len(outcomes)} cases failed; first: {bad[0][0]}\n" \
                    f"{bad[0][1].failure}"


def _teaching_load(data: bytes) -> None:
    TeachingMachine.load(data)  # qemu_loadvm_state with the hand-written descriptions


# -- truncation ------------------------------------------------------------

@pytest.mark.parametrize("version", ["10.0", "7.2"])
def test_truncation_at_every_offset_of_the_teaching_stream(version: str) -> None:
    data = fz.teaching_stream(version)
    eof = fz.seed_info("t", data).vmdesc_offset - 1  # the JSON after EOF is optional
    out = []
    for cut in range(len(data)):
        o = fz.run_case(data[:cut])
        assert o.kind != "ok", f"a stream cut at {cut} of {len(data)} loaded"
        out.append((f"load_stream cut {cut}", o))
        o = fz.run_case(data[:cut], load=_teaching_load)
        assert o.kind != "ok" or cut == eof + 1, f"a stream cut at {cut} of {len(data)} loaded"
        out.append((f"qemu_loadvm_state cut {cut}", o))
    _check(out)


def test_truncation_at_every_offset_of_every_real_device_section(arm: fz.SeedInfo) -> None:
    """Each VMState section of a real stream, cut at every offset (at 600
    evenly spaced offsets of the few larger ones: CI's budget), through
    ``vmstate_load_state`` with the section's description: a StreamTruncated
    (or a clean end, where the cut falls just before optional subsections)."""
    s = v.load_stream(arm.data)
    entries = {(se.idstr, se.instance_id): se for se in s.registry.handlers}
    out = []
    for sec in s.sections:
        se = entries[(sec.idstr, sec.instance_id)]
        if sec.type != "FULL" or se.vmsd is None:
            continue
        body = sec.offset + 1 + 4 + 1 + len(sec.idstr.encode("latin-1")) + 4 + 4
        end = sec.end - 5  # before the footer
        step = max(1, (end - body) // 600)  # every offset of the small sections
        for cut in range(body, end, step):
            def load(chunk: bytes, body: int = body, se=se, version=sec.version_id) -> None:
                v.vmstate_load_state(v.QEMUFile(chunk, base=body), se.vmsd, NS(), version)
            o = fz.run_case(arm.data[body:cut], load=load)
            out.append((f"{sec.idstr} cut at {cut}", o))
            # "ok" where the cut falls before the (optional) subsections
            assert o.failure is not None or o.kind in ("StreamTruncated", "ok"), \
                (sec.idstr, cut, o.kind)
    assert len(out) > 1000
    _check(out)


def test_truncation_of_real_streams_at_sampled_offsets(seeds: list[fz.SeedInfo]) -> None:
    rng = random.Random(7)
    out = []
    for info in seeds[2:]:
        n = len(info.data)
        cuts = {0, 1, 4, 8, 9, n - 1, n - 5, n - 6}
        for a, b, _ in info.sections[-6:]:  # the device sections near the end
            cuts |= {a, a + 1, b - 5, b - 1, b}
        cuts |= {rng.randrange(n) for _ in range(6)}
        for cut in sorted(c for c in cuts if 0 <= c < n):
            out.append((f"{info.name} cut at {cut}", fz.run_case(info.data[:cut])))
    _check(out)


# -- mutations ---------------------------------------------------------------

@pytest.mark.parametrize("mutator", sorted(fz.MUTATORS))
def test_mutations(seeds: list[fz.SeedInfo], mutator: str) -> None:
    c = fz.campaign(seeds, [mutator], cases=48, start_seed=1000)
    assert c.cases == 48
    assert not c.failures, "\n".join(f"{s} {m} case {k}:\n{t}" for s, m, k, t in c.failures[:2])


def test_mutations_through_the_hand_written_descriptions(seeds: list[fz.SeedInfo]) -> None:
    """``descriptions="arch"``: the CPU sections go through the hand-written
    descriptions of vmstate_edu.arch (VARRAYs, subsections, _equal checks)."""
    real = [s for s in seeds if not s.name.startswith("teaching")]
    out = []
    for k in range(60):
        info = real[k % len(real)]
        mut = ["bit_flips", "inflate_frame", "byte_delete", "swap_ids"][k % 4]
        data = fz.mutate(info, mut, 5000 + k)
        out.append((f"{info.name} {mut} {5000 + k}",
                    fz.run_case(data, load=lambda d: v.load_stream(d, descriptions="arch"))))
    _check(out)


def _extremes(data: bytes, off: int, size: int) -> list[bytes]:
    old = int.from_bytes(data[off:off + size], "big")
    vals = [b"\xff" * size, b"\x7f" + b"\xff" * (size - 1), b"\x80" + bytes(size - 1),
            bytes(size), ((old + 1) % (1 << 8 * size)).to_bytes(size, "big")]
    return [data[:off] + val + data[off + size:] for val in vals]


def test_every_frame_of_the_teaching_stream_inflated(teaching: fz.SeedInfo) -> None:
    """Each framing value (section ids and types, idstr/subsection name
    lengths, be32 version ids, RAM record words and MEM_SIZE lengths, the
    JSON length, footers) set to its maximum, signed maximum and minimum,
    zero and one more; through load_stream and qemu_loadvm_state."""
    out = []
    for what, off, size in teaching.frames:
        for k, data in enumerate(_extremes(teaching.data, off, size)):
            out.append((f"{what}@{off} value {k}", fz.run_case(data)))
            out.append((f"{what}@{off} value {k} (teaching)",
                        fz.run_case(data, load=_teaching_load)))
    assert len(out) > 500
    _check(out)


def test_real_frames_inflated(arm: fz.SeedInfo) -> None:
    frames = [fr for fr in arm.frames if "ram record" not in fr[0]]
    rams = [fr for fr in arm.frames if "ram record" in fr[0]]
    picked = frames[::max(1, len(frames) // 24)] + rams[:2] + rams[-2:]
    out = []
    for what, off, size in picked:
        for k, data in enumerate(_extremes(arm.data, off, size)):
            out.append((f"{what}@{off} value {k}", fz.run_case(data)))
    _check(out)


# -- the JSON description ------------------------------------------------------

def _nest(depth: int) -> str:
    text = '{"vmsd_name": "leaf", "version": 1, "fields": []}'
    for _ in range(depth):
        text = ('{"vmsd_name": "n", "version": 1, "fields": [{"name": "s", "type": "struct", '
                '"size": 1, "struct": ' + text + "}]}")
    return '{"name": "deep", "instance_id": 0, ' + text[1:]


def _replace_json(info: fz.SeedInfo, text: str) -> bytes:
    o = info.vmdesc_offset
    raw = text.encode("latin-1")
    return info.data[:o + 1] + struct.pack(">I", len(raw)) + raw


@pytest.mark.parametrize("depth", [65, 900, 10000])
def test_deeply_nested_json(teaching: fz.SeedInfo, depth: int) -> None:
    desc = fz._json_of(teaching.data, teaching)
    desc["devices"][1] = "@@"
    text = __import__("json").dumps(desc).replace('"@@"', _nest(depth))
    o = fz.run_case(_replace_json(teaching, text))
    assert o.failure is None, o.failure
    with pytest.raises(v.VMStateError) as ei:
        v.load_stream(_replace_json(teaching, text))
    if depth == 65:  # parses: refused by the depth bound, naming where
        assert isinstance(ei.value, v.LimitExceeded)
        assert "deeper" in str(ei.value) and "devices[1]" in str(ei.value)


def test_json_length_inflated(teaching: fz.SeedInfo) -> None:
    o = teaching.vmdesc_offset
    for n in (0xFFFFFFFF, 0x7FFFFFFF, len(teaching.data), 0):
        data = teaching.data[:o + 1] + struct.pack(">I", n) + teaching.data[o + 5:]
        out = fz.run_case(data)
        assert out.failure is None and out.kind != "ok", (n, out)


@pytest.mark.parametrize("key, value", [
    ("page_size", "4096"), ("page_size", 0), ("page_size", 3), ("page_size", 1 << 40),
    ("devices", {}), ("devices", [1]), ("devices", None),
])
def test_json_top_level_of_the_wrong_shape(teaching: fz.SeedInfo, key: str, value) -> None:
    desc = fz._json_of(teaching.data, teaching)
    desc[key] = value
    data = _replace_json(teaching, __import__("json").dumps(desc))
    with pytest.raises(v.VMStateError) as ei:
        v.load_stream(data)
    assert ei.value.offset == teaching.vmdesc_offset + 5 and key in str(ei.value)


# -- allocation bounds -----------------------------------------------------------

def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    except v.VMStateError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_no_stream_value_makes_a_small_stream_allocate_much(teaching: fz.SeedInfo) -> None:
    """Every inflated frame of the 10 KB teaching stream, and the configuration
    section's ``len`` (a VBUFFER_ALLOC size) and capability count (a VARRAY
    count) at their maxima: the load's peak stays under 8 MiB."""
    cases = []
    for _, off, size in teaching.frames:
        cases += _extremes(teaching.data, off, size)
    # configuration: QEVM, version, 0x07, be32 len, name ... (offset 9)
    for n in (0x7FFFFFFF, v.LIMITS.max_alloc, v.LIMITS.max_alloc - 1, 1 << 24):
        cases.append(teaching.data[:9] + struct.pack(">I", n) + teaching.data[13:])
    # a capabilities subsection with a huge count (the teaching machine sends none)
    name = b"configuration/capabilities"
    cfg_end = 13 + int.from_bytes(teaching.data[9:13], "big")
    for n in (0xFFFFFFFF, v.LIMITS.max_elements, v.LIMITS.max_elements - 1):
        sub = bytes([5, len(name)]) + name + struct.pack(">II", 1, n) + b"\x03abc"
        cases.append(teaching.data[:cfg_end] + sub + teaching.data[cfg_end:])
    worst = 0
    for data in cases:
        worst = max(worst, _peak(lambda d=data: v.load_stream(d)))
    assert worst < 8 << 20, f"peak {worst} bytes"


def test_get_buffer_never_allocates_more_than_the_stream_has() -> None:
    f = v.QEMUFile(b"\x00" * 100)
    for n in (1 << 40, 1 << 31, 101, -1):
        peak = _peak(lambda n=n: f.get_buffer(n))
        assert peak < 64 << 10
        with pytest.raises(v.StreamTruncated) as ei:
            f.get_buffer(n)
        assert ei.value.offset == 0
    g = v.QEMUFile(b"\xff" + b"a" * 10)  # a counted string of 255 bytes, 10 there
    with pytest.raises(v.StreamTruncated) as ei:
        g.get_counted_string()
    assert ei.value.offset == 1
    assert f.get_buffer(100) == bytes(100)


def test_vbuffer_alloc_checks_the_stream_before_allocating() -> None:
    """VMSTATE_VBUFFER_ALLOC_UINT32: the size comes from the stream; under
    max_alloc but beyond the stream's end it fails before the allocation."""
    vmsd = v.VMStateDescription("d", 1, 1, fields=[
        v.VMSTATE_UINT32("len"), v.VMSTATE_VBUFFER_ALLOC_UINT32("buf", 0, None, "len")])
    data = struct.pack(">I", v.LIMITS.max_alloc) + b"abc"
    peak = _peak(lambda: v.vmstate_load_state(v.QEMUFile(data), vmsd, NS(), 1))
    assert peak < 1 << 20
    with pytest.raises(v.StreamTruncated) as ei:
        v.vmstate_load_state(v.QEMUFile(data), vmsd, NS(), 1)
    assert ei.value.path == "buf" and ei.value.offset == 4
