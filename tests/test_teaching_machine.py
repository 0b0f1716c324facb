"""The teaching machine: round trips, the byte-coverage invariant of the
trace, robustness against cut and damaged streams, and the shape of its
QEMU trace log compared with a real QEMU save log."""

from __future__ import annotations

import lzma
import re

import pytest
from conftest import DATA, leaves_tile

import vmstate_edu as v
from vmstate_edu.machine import TeachingMachine, demo_machine

VERSIONS = ["7.2", "10.0"]


@pytest.fixture(scope="module", params=VERSIONS)
def saved(request):
    ver = request.param
    return ver, demo_machine(ver).save()


def test_round_trip_identical(saved):
    ver, data = saved
    m = TeachingMachine.load(data, qemu_version=ver)
    assert m.save() == data
    src = demo_machine(ver)
    assert m.cpu.env.regs == src.cpu.env.regs and m.cpu.env.pc == src.cpu.env.pc
    assert m.cpu.env.flags == src.cpu.env.flags
    assert m.serial == src.serial and m.timer == src.timer
    assert bytes(m.ram.blocks[0].data) == bytes(src.ram.blocks[0].data)


def test_stream_header(saved):
    ver, data = saved
    assert data[:8] == b"QEVM\x00\x00\x00\x03"
    assert data[8] == 0x07  # the configuration section
    # 10.0 sends MIG_CMD_SWITCHOVER_START (command 0x08, cmd 0x000b, len 0); 7.2 does not
    assert (b"\x08\x00\x0b\x00\x00" in data) == (ver == "10.0")


def test_versions_differ_only_where_qemu_does():
    a, b = demo_machine("7.2").save(), demo_machine("10.0").save()
    assert a != b
    assert TeachingMachine.load(a, qemu_version="7.2").save() == a


def test_fpu_subsection_round_trip():
    m = demo_machine()
    m.cpu.fpu_enabled = True
    m.cpu.env.fregs = [1, 2, 3, 4]
    m.cpu.env.fcsr = 0x1F
    m.cpu.parent_obj.exception_index = 7
    data = m.save()
    for name in (b"cpu/fpu", b"cpu_common/exception_index"):
        assert b"\x05" + bytes([len(name)]) + name + b"\x00\x00\x00\x01" in data
    back = TeachingMachine.load(data)
    assert back.cpu.env.fregs == [1, 2, 3, 4] and back.cpu.env.fcsr == 0x1F
    assert back.cpu.parent_obj.exception_index == 7
    back.cpu.fpu_enabled = True
    assert back.save() == data


# ---------------------------------------------------------------------------
# Byte coverage: the leaves tile the stream
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ver", VERSIONS)
def test_leaves_tile_the_saved_stream(ver):
    m = demo_machine(ver)
    m.cpu.fpu_enabled = True
    with v.trace() as t:
        data = m.save()
    assert data == m.save()  # tracing changes nothing
    leaves_tile(t.events, data)
    kinds = {e.kind for e in t.events}
    assert {"qemu", "field", "frame", "call"} <= kinds


@pytest.mark.parametrize("ver", VERSIONS)
def test_leaves_tile_the_loaded_stream(ver):
    m = demo_machine(ver)
    m.cpu.fpu_enabled = True
    data = m.save()
    with v.trace() as t:
        TeachingMachine.load(data, qemu_version=ver)
    leaves_tile(t.events, data)
    # every field leaf of the load has the value the save had at that offset
    with v.trace() as ts:
        m.save()
    put = {(e.offset, e.size): e.value for e in ts.events if e.kind == "field"}
    got = {(e.offset, e.size): e.value for e in t.events if e.kind == "field"}
    assert put.keys() == got.keys()
    for key, value in put.items():
        if isinstance(value, (int, bool)):
            assert got[key] == value, key


def test_leaf_records_carry_section_and_field():
    with v.trace() as t:
        demo_machine().save()
    pcs = [e for e in t.events if e.kind == "field" and e.field == "env.pc"]
    assert len(pcs) == 1
    pc = pcs[0]
    assert pc.section == "cpu" and pc.vmsd == "cpu" and pc.size == 8
    assert pc.value == 0x80000000 and pc.raw == (0x80000000).to_bytes(8, "big")
    regs = [e for e in t.events if e.kind == "field" and e.field == "env.regs"]
    assert [e.index for e in regs] == list(range(8))


# ---------------------------------------------------------------------------
# Cut and damaged streams
# ---------------------------------------------------------------------------

def _eof_offset(data: bytes, ver: str) -> int:
    """Where QEMU_VM_EOF is: the save's "EOF" frame record."""
    m = TeachingMachine.load(data, qemu_version=ver)
    with v.trace() as t:
        again = m.save()
    assert again == data
    (eof,) = [e.offset for e in t.events if e.kind == "frame" and e.field == "EOF"]
    assert data[eof] == 0x00
    return eof


def test_every_cut_raises_vmstate_error(saved):
    """Cut the stream after every byte: each load raises VMStateError with
    an integer offset inside the cut stream. The only cut that may load is
    right after QEMU_VM_EOF (QEMU itself does not require the JSON)."""
    ver, data = saved
    eof = _eof_offset(data, ver)
    loaded = []
    for n in range(len(data)):
        try:
            TeachingMachine.load(data[:n], qemu_version=ver)
        except v.VMStateError as e:
            assert isinstance(e.offset, int), (n, e)
            assert 0 <= e.offset <= n, (n, e)
        else:
            loaded.append(n)
    assert loaded == [eof + 1]


@pytest.mark.parametrize("ver", VERSIONS)
def test_flipped_bytes_never_escape_as_other_exceptions(ver):
    data = demo_machine(ver).save()
    eof = _eof_offset(data, ver)
    positions = sorted({0, 4, 7, 8, 9, 12, 20, 30, 40, 60, 100, 200, eof - 40, eof - 20,
                        eof - 10, eof - 5, eof - 1, eof, eof + 1, eof + 3, len(data) - 1}
                       | set(range(eof - 300, eof, 7)))
    outcomes = {"error": 0, "ok": 0}
    tries = [(pos, mask) for pos in positions for mask in (0x01, 0x80)]
    tries += [(pos, 0xFF) for pos in range(len(data))]  # every byte once
    for pos, mask in tries:
        bad = bytearray(data)
        bad[pos] ^= mask
        try:
            TeachingMachine.load(bytes(bad), qemu_version=ver)
        except v.VMStateError as e:
            assert e.offset is None or isinstance(e.offset, int)
            outcomes["error"] += 1
        else:
            outcomes["ok"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0


def test_section_framing_errors():
    data = bytearray(demo_machine().save())
    bad = bytearray(data)
    bad[0] = ord("X")
    with pytest.raises(v.SectionError) as info:
        TeachingMachine.load(bytes(bad))
    assert info.value.offset == 0
    bad = bytearray(data)
    bad[7] = 2  # the obsolete version 2 format
    with pytest.raises(v.SectionError):
        TeachingMachine.load(bytes(bad))
    with pytest.raises(v.SectionError):
        _load_with_machine_name(bytes(data), "other")


def _load_with_machine_name(data: bytes, name: str):
    m = TeachingMachine()
    reg = m.registry()
    reg.machine_name = name
    v.qemu_loadvm_state(v.QEMUFile(data), reg)


# ---------------------------------------------------------------------------
# The QEMU trace log has the shape of a real QEMU save log
# ---------------------------------------------------------------------------

def _real_log(ver: str) -> list[str]:
    path = DATA / f"qemu-{ver}" / "riscv64-virt-paused" / "save.log.xz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    from vmstate_edu.tracing import parse_qemu_log

    return parse_qemu_log(lzma.open(path, "rt").read())


def _our_log(ver: str) -> list[str]:
    m = demo_machine(ver)
    m.cpu.fpu_enabled = True
    with v.trace() as t:
        m.save()
    return t.qemu_log(ver).splitlines()


def _check_shape(lines: list[str], ver: str) -> None:
    """Properties every QEMU save log has; checked on the real log and ours."""
    names = [ln.split(" ", 1)[0] for ln in lines]
    assert names[0] == "savevm_state_header"
    assert lines[1] == "vmstate_save_state_top configuration"
    assert names[-1] == "savevm_state_cleanup"
    first = {n: names.index(n) for n in set(names)}
    assert first["savevm_state_header"] < first["savevm_state_setup"] \
        < first["savevm_state_iterate"] < first["vmstate_save"]
    # the configuration is saved between the header and setup
    assert first["vmstate_save_state_top"] < first["savevm_state_setup"]
    if ver == "10.0":
        assert "savevm_state_complete_precopy" not in first
        assert first["savevm_state_iterate"] < first["savevm_send_switchover_start"] \
            < first["vmstate_save"]
        sw = first["savevm_send_switchover_start"]
        assert lines[sw + 1] == "savevm_command_send com=0xb len=0"
    else:
        assert "savevm_send_switchover_start" not in first
        assert first["savevm_state_iterate"] < first["savevm_state_complete_precopy"] \
            < first["vmstate_save"]
    # every device section: start X, section_id N / vmstate_save X, Y /
    # vmstate_save_state_top Y ... savevm_section_end X, section_id N -> 0
    n_sections = 0
    for i, name in enumerate(names):
        if name != "vmstate_save":
            continue
        n_sections += 1
        m = re.fullmatch(r"vmstate_save (.+), (.+)", lines[i])
        idstr, vmsd = m.groups()
        start = re.fullmatch(r"savevm_section_start (.+), section_id (\d+)", lines[i - 1])
        assert start and start.group(1) == idstr, lines[i - 1]
        assert lines[i + 1] == f"vmstate_save_state_top {vmsd}"
        end = next(j for j in range(i, len(lines)) if names[j] == "savevm_section_end")
        assert lines[end] == f"savevm_section_end {idstr}, section_id {start.group(2)} -> 0"
        assert "savevm_section_start" not in names[i:end]
        if ver == "10.0":
            assert lines[end + 1].startswith(
                f"vmstate_downtime_save type=non-iterable idstr={idstr} instance_id=")
    assert n_sections >= 4
    # the RAM pieces: start/end with the same section id, iterate returns 0 or 1
    for ln in lines:
        if ln.startswith("savevm_section_end ram"):
            assert re.fullmatch(r"savevm_section_end ram, section_id \d+ -> [01]", ln)


@pytest.mark.parametrize("ver", VERSIONS)
def test_real_log_has_the_shape(ver):
    _check_shape(_real_log(ver), ver)


@pytest.mark.parametrize("ver", VERSIONS)
def test_our_log_has_the_shape(ver):
    _check_shape(_our_log(ver), ver)


@pytest.mark.parametrize("ver", VERSIONS)
def test_our_events_are_events_of_a_real_save(ver):
    real = {ln.split(" ", 1)[0] for ln in _real_log(ver)}
    ours = {ln.split(" ", 1)[0] for ln in _our_log(ver)}
    assert ours - real == set()


@pytest.mark.parametrize("ver", VERSIONS)
def test_same_device_same_lines(ver):
    """cpu_common and the serial port are described as in QEMU: their lines
    between section start and end match the real log's, line for line,
    apart from the section id."""
    real, ours = _real_log(ver), _our_log(ver)

    def block(lines, idstr):
        i = next(k for k, ln in enumerate(lines) if ln == f"vmstate_save {idstr}, {idstr}")
        j = next(k for k in range(i, len(lines)) if lines[k].startswith("savevm_section_end"))
        return lines[i:j]

    assert block(ours, "cpu_common") == block(real, "cpu_common")
    real_serial = [ln for ln in block(real, "serial")
                   if not ln.startswith(("vmstate_save serial", "vmstate_save_state_top serial",
                                         "vmstate_n_elems serial", "vmstate_save_state_loop "
                                         "serial/serial", "vmstate_subsection_save_top serial"))
                   or ln.startswith("vmstate_save_state_loop serial/")
                   and not ln.startswith("vmstate_save_state_loop serial/serial[")]
    ours_serial = [ln for ln in block(ours, "serial")
                   if not ln.startswith(("vmstate_save serial", "vmstate_save_state_top serial",
                                         "vmstate_subsection_save_top serial"))]
    # the real serial is a serial-mm wrapper holding the same "serial" struct
    assert [ln for ln in ours_serial if "/" in ln] == \
        [ln for ln in real_serial if "/" in ln and "serial/serial[" not in ln]


def test_downtime_save_for_every_handler_10_0():
    """QEMU 10.0 traces vmstate_downtime_save type=non-iterable for every
    handler, also those that write no FULL section (ram, dirty-bitmap)."""
    lines = _our_log("10.0")
    assert any(ln.startswith("vmstate_downtime_save type=non-iterable idstr=ram ")
               for ln in lines)
    real = _real_log("10.0")
    assert any(ln.startswith("vmstate_downtime_save type=non-iterable idstr=ram ")
               for ln in real)
