"""Edit and resume: change registers in real streams; real QEMU loads them."""

from __future__ import annotations

import re

import pytest
from streams import DATA, stream_bytes

import vmstate_edu as v
from vmstate_edu.cli import main
from vmstate_edu.edit import get_value, parse_set, set_value
from vmstate_edu.qemu.verify import load_in_qemu, parse_registers, qemu_available, read_manifest

# (case, gpr name, gpr value, pc name, pc value): values that real QEMU can hold
EDITS = {
    "riscv64-virt-running": ("a0", 0x1234, "pc", 0x80000000),
    "x86_64-pc-running": ("rax", 0xFEEDF00D, "rip", 0xFFF0),
    "aarch64-virt-running": ("x0", 0x1122334455667788, "pc", 0x40000000),
    "ppc64-pseries-running": ("r3", 0xCAFEBABE, "nip", 0x100),
}


def _arch(case: str) -> str:
    return case.split("-")[0]


@pytest.mark.parametrize("case", sorted(EDITS))
@pytest.mark.parametrize("ver", ["7.2", "10.0"])
def test_edit_changes_exactly_the_register_bytes(case, ver):
    key = f"qemu-{ver}/{case}"
    data = stream_bytes(key)
    s = v.load_stream(data)
    gpr, gval, pc, pval = EDITS[case]
    old = get_value(s, "cpu", 0, gpr)
    set_value(s, "cpu", 0, gpr, gval)
    set_value(s, "cpu", 0, pc, pval)
    out = s.to_bytes()
    assert len(out) == len(data)
    changed = [i for i, (a, b) in enumerate(zip(out, data)) if a != b]
    assert 0 < len(changed) <= 16  # two 64-bit registers at most
    back = v.load_stream(out)
    assert get_value(back, "cpu", 0, gpr) == gval
    assert get_value(back, "cpu", 0, pc) == pval
    set_value(back, "cpu", 0, gpr, old)
    set_value(back, "cpu", 0, pc, get_value(s := v.load_stream(data), "cpu", 0, pc))
    assert back.to_bytes() == data  # putting the values back restores the stream


def test_unedited_round_trip_is_identical():
    for case in EDITS:
        data = stream_bytes(f"qemu-7.2/{case}")
        assert v.load_stream(data).to_bytes() == data


def test_values_are_checked():
    s = v.load_stream(stream_bytes("qemu-7.2/riscv64-virt-running"))
    with pytest.raises(v.VMStateError, match="does not fit"):
        set_value(s, "cpu", 0, "a0", 1 << 64)
    with pytest.raises(v.VMStateError, match="does not fit"):
        set_value(s, "cpu", 0, "a0", -1)
    with pytest.raises(v.VMStateError, match="no field or register"):
        set_value(s, "cpu", 0, "rax", 1)
    with pytest.raises(v.VMStateError, match="not a number"):
        set_value(s, "cpu", 0, "a0", "zero")
    with pytest.raises(v.VMStateError, match="uint8"):
        set_value(s, "serial", 0, "serial.scr", 0x100)
    set_value(s, "serial", 0, "serial.scr", "0x5a")
    assert get_value(s, "serial", 0, "serial.scr") == 0x5A


def test_parse_set_handles_colons_in_section_names():
    assert parse_set("0000:00:01.3/piix4_pm:0:ar.pm1.evt.sts=0x1") == (
        "0000:00:01.3/piix4_pm", 0, "ar.pm1.evt.sts", "0x1")
    assert parse_set("cpu:0:a0=0x1234") == ("cpu", 0, "a0", "0x1234")
    with pytest.raises(v.VMStateError):
        parse_set("cpu=1")


def test_invalid_edit_is_refused_by_our_loader():
    data = stream_bytes("qemu-7.2/riscv64-virt-running")
    s = v.load_stream(data)
    set_value(s, "PCIBUS", 0, "nirq", 5)
    dest = v.load_stream(data)  # the destination machine, in its own state
    with pytest.raises(v.ValidationError) as ei:
        dest.reload(s.to_bytes())
    assert ei.value.path == "PCIBUS/nirq"


def test_cli_edit_writes_atomically(tmp_path, capsys):
    src = DATA / "qemu-7.2" / "riscv64-virt-running" / "stream.mig.xz"
    out = tmp_path / "edited.mig"
    assert main(["edit", str(src), "--set", "cpu:0:a0=0x1234", "-o", str(out)]) == 0
    assert "cpu:0:a0\t0x0 -> 0x1234" in capsys.readouterr().out
    assert get_value(v.load_stream(str(out)), "cpu", 0, "a0") == 0x1234
    assert [p.name for p in tmp_path.iterdir()] == ["edited.mig"]
    assert main(["edit", str(src), "--set", "cpu:0:a0=0x1" + "0" * 20, "-o",
                 str(tmp_path / "bad.mig")]) == 2
    assert not (tmp_path / "bad.mig").exists()


# --- real QEMU -----------------------------------------------------------------

def _need_qemu(case_dir):
    manifest = read_manifest(case_dir)
    why = qemu_available(manifest)
    if why:
        pytest.skip(f"real QEMU not usable here: {why}")
    return manifest


@pytest.mark.parametrize("descriptions", [None, "arch"])
@pytest.mark.parametrize("ver", ["7.2", "10.0"])
@pytest.mark.parametrize("case", sorted(EDITS))
def test_real_qemu_runs_on_with_edited_registers(case, ver, descriptions):
    """Through the stream's JSON, and through the hand-written CPU models
    (whose pre_save hooks rebuild the wire form, e.g. ARM's cpsr)."""
    case_dir = DATA / f"qemu-{ver}" / case
    manifest = _need_qemu(case_dir)
    s = v.load_stream(stream_bytes(f"qemu-{ver}/{case}"), descriptions=descriptions)
    gpr, gval, pc, pval = EDITS[case]
    set_value(s, "cpu", 0, gpr, gval)
    set_value(s, "cpu", 0, pc, pval)
    r = load_in_qemu(s.to_bytes(), manifest, ["info registers"], run_ms=20)
    assert r.ok, r.error
    regs = parse_registers(r.outputs["info registers"], _arch(case))
    assert regs[gpr] == gval, r.outputs["info registers"][:400]
    assert regs[pc] == pval
    after = parse_registers(r.after_run["info registers"], _arch(case))
    assert pc in after  # the machine ran on from the new state


def test_real_qemu_reads_an_edited_device_register():
    case_dir = DATA / "qemu-7.2" / "riscv64-virt-running"
    manifest = _need_qemu(case_dir)
    s = v.load_stream(stream_bytes("qemu-7.2/riscv64-virt-running"))
    set_value(s, "serial", 0, "serial.scr", 0xA5)  # the 16550's scratch register
    r = load_in_qemu(s.to_bytes(), manifest, ["xp /1bx 0x10000007"])
    assert r.ok, r.error
    assert re.search(r"\b0*10000007: 0xa5", r.outputs["xp /1bx 0x10000007"])


def test_real_qemu_refuses_an_invalid_edit_naming_the_same_field():
    case_dir = DATA / "qemu-7.2" / "riscv64-virt-running"
    manifest = _need_qemu(case_dir)
    data = stream_bytes("qemu-7.2/riscv64-virt-running")
    s = v.load_stream(data)
    set_value(s, "PCIBUS", 0, "nirq", 5)
    bad = s.to_bytes()
    r = load_in_qemu(bad, manifest)
    assert not r.ok
    assert "Failed to load PCIBUS:nirq" in r.error
    with pytest.raises(v.ValidationError) as ei:
        v.load_stream(data).reload(bad)
    assert ei.value.path.replace("/", ":") == "PCIBUS:nirq"


def test_resume_falls_back_to_the_recorded_result():
    from vmstate_edu.resume import edit_and_resume
    rec = edit_and_resume("7.2", "riscv64-virt-running", use_qemu=False)
    assert rec["source"].startswith("recorded on")
    assert rec["loaded"] is True
    assert rec["qemu_after_load"] == rec["edited"] == {"a0": 0x1234, "pc": 0x80000000}
    assert rec["pc_after_running"] != rec["edited"]["pc"]  # the machine ran on
