"""Special cases of real streams and of the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from streams import stream_bytes

import vmstate_edu as v
from vmstate_edu.cli import main
from vmstate_edu.extract import extract, safe_name
from vmstate_edu.machine import demo_machine
from vmstate_edu.ram import RAMBlock


def test_configuration_subsection_target_page_bits():
    # aarch64 virt sends configuration/target-page-bits (12); the 7.2 script dies on it
    for ver in ("7.2", "10.0"):
        s = v.load_stream(stream_bytes(f"qemu-{ver}/aarch64-virt-paused"))
        assert s.config["target_page_bits"] == 12
        assert s.registry.loaded_config_state._tpb_sent is True
        assert s.machine.startswith("virt")
    s = v.load_stream(stream_bytes("qemu-10.0/riscv64-virt-paused"))
    assert not getattr(s.registry.loaded_config_state, "_tpb_sent", False)


def test_instance_ids_are_unsigned():
    s = v.load_stream(stream_bytes("qemu-7.2/ppc64-pseries-paused"))
    ids = sorted(sec.instance_id for sec in s.sections if sec.idstr == "spapr_iommu")
    assert ids == [0x80000000, 0x80000001]
    from vmstate_edu.analyze import analyze_state
    keys = [k for k in analyze_state(s) if k.startswith("spapr_iommu")]
    assert len(keys) == 2
    assert s.device("spapr_iommu", 0x80000001) is not None


def test_section_ids_have_gaps_and_commands_are_seen():
    s = v.load_stream(stream_bytes("qemu-10.0/ppc64-pseries-paused"))
    ids = sorted({sec.section_id for sec in s.sections})
    assert max(ids) > len(ids)  # hundreds of spapr_drc sections were skipped
    cmds = [c for c, _ in s.registry.loaded_commands]
    assert cmds == [11]  # SWITCHOVER_START, 10.0 only
    s72 = v.load_stream(stream_bytes("qemu-7.2/ppc64-pseries-paused"))
    assert getattr(s72.registry, "loaded_commands", []) == []


def test_ram_pages_are_indexed_not_copied():
    s = v.load_stream(stream_bytes("qemu-10.0/riscv64-virt-running"))
    pages = s.ram.page_index()
    kinds = {k for _, _, k, _ in pages}
    assert kinds == {"zero", "page"}
    data = stream_bytes("qemu-10.0/riscv64-virt-running")
    block, addr, kind, off = next(p for p in pages if p[2] == "page")
    assert s.ram.read_page(block, addr) == data[off:off + 4096]
    assert all(b.data is None for b in s.ram.blocks)  # nothing materialised


def test_truncated_stream_names_offset_and_section():
    data = stream_bytes("qemu-10.0/riscv64-virt-running")
    whole = v.load_stream(data)
    cpu = next(sec for sec in whole.sections if sec.idstr == "cpu")
    cut = cpu.offset + 200
    with pytest.raises(v.SectionError, match="no JSON description"):
        v.load_stream(data[:cut])  # the JSON at the end is gone with the cut
    with pytest.raises(v.StreamTruncated) as ei:
        v.load_stream(data[:cut], vmdesc=whole.vmdesc)
    e = ei.value
    assert e.offset is not None and cpu.offset < e.offset <= cut
    assert e.path.startswith("cpu/env."), e.path


def test_corrupted_footer_is_a_section_error():
    data = bytearray(stream_bytes("qemu-10.0/riscv64-virt-running"))
    s = v.load_stream(bytes(data))
    timer = next(sec for sec in s.sections if sec.idstr == "timer")
    data[timer.end - 5] = 0x7D  # the footer marker
    with pytest.raises(v.SectionError) as ei:
        v.load_stream(bytes(data))
    assert ei.value.offset == timer.end - 5
    assert "footer" in str(ei.value) and "timer" in str(ei.value)


def test_ram_block_name_cannot_escape(tmp_path):
    m = demo_machine()
    m.ram.blocks.append(RAMBlock("../../evil", 8192, bytearray(b"\x41" * 8192)))
    data = m.save()
    s = v.load_stream(data)
    out = tmp_path / "out"
    files = extract(s, str(out))
    assert files["../../evil"] == safe_name("../../evil") + ".bin"
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()
    written = out / files["../../evil"]
    assert written.read_bytes() == b"\x41" * 8192
    for name in os.listdir(out):
        assert not name.startswith(".tmp-")  # nothing half-written left behind


def test_cli_analyze_and_trace(capsys):
    path = os.path.join(os.path.dirname(__file__), "..", "data", "qemu-10.0",
                        "riscv64-virt-paused", "stream.mig.xz")
    assert main(["analyze", path, "-d", "desc"]) == 0
    desc = json.loads(capsys.readouterr().out)
    assert desc["page_size"] == 4096
    assert main(["trace", path, "--save"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "savevm_state_header " and "vmstate_save cpu, cpu" in out


def test_cli_diff_lists_changed_registers(capsys):
    base = os.path.join(os.path.dirname(__file__), "..", "data", "qemu-10.0")
    a = os.path.join(base, "riscv64-virt-paused", "stream.mig.xz")
    b = os.path.join(base, "riscv64-virt-running", "stream.mig.xz")
    assert main(["diff", a, b]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("cpu:0\tenv.pc\t") for line in lines)
    assert main(["diff", a, a]) == 0


def test_cli_error_is_one_line(tmp_path):
    bad = tmp_path / "bad.mig"
    bad.write_bytes(b"QEVM\x00\x00\x00\x03\x07\x00")
    r = subprocess.run([sys.executable, "-m", "vmstate_edu.cli", "analyze", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "offset" in r.stderr


@pytest.mark.parametrize("case", ["qemu-10.0/x86_64-pc-running", "qemu-7.2/aarch64-virt-running",
                                  "qemu-10.0/riscv64-virt-v-running"])
def test_analyze_from_values_equals_analyze_from_a_traced_load(case):
    """analyze walks the stored values; a stream read through the hand-written
    CPU descriptions is walked from a traced load instead: both must agree."""
    from vmstate_edu.analyze import analyze_state
    data = stream_bytes(case)
    a = analyze_state(v.load_stream(data))
    b = analyze_state(v.load_stream(data, descriptions="arch"))
    assert json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def test_analyze_memory_dump_lists_pages():
    from vmstate_edu.analyze import analyze_state
    s = v.load_stream(stream_bytes("qemu-10.0/riscv64-virt-running"))
    ram = next(k for k in analyze_state(s, dump_memory=True) if k.startswith("ram ("))
    mem = analyze_state(s, dump_memory=True)[ram]
    assert mem["section sizes"]
    zero = [k for k, val in mem.items() if val == "Filled with 0x00"]
    data = [val for k, val in mem.items() if k != "section sizes" and val != "Filled with 0x00"]
    assert zero and data and all(len(d.split()) == 4096 for d in data)


@pytest.mark.parametrize("flag,name", [(0x40, "Failed to load XBZRLE page"),
                                       (0x100, "Invalid compressed data length")])
def test_compressed_ram_pages_get_a_clear_error(flag, name):
    """A page record turned into XBZRLE or COMPRESS_PAGE takes the bytes
    after it for that encoding's header, which does not hold: QEMU's own
    message, with the offset of the header."""
    data = bytearray(demo_machine().save())
    s = v.load_stream(bytes(data))
    # the first page record of the first PART piece: set the unsupported flag
    part = next(sec for sec in s.sections if sec.idstr == "ram" and sec.type == "PART")
    rec = part.offset + 5  # after the section type and id
    data[rec + 7] = (data[rec + 7] & 0x00) | (flag & 0xFF)
    data[rec + 6] |= flag >> 8
    with pytest.raises(v.SectionError, match=name) as ei:
        v.load_stream(bytes(data))
    assert ei.value.path == "ram"
    assert rec < ei.value.offset < rec + 300


def test_multifd_flush_records_are_read_and_written_back():
    from vmstate_edu.ram import RAM_SAVE_FLAG_MULTIFD_FLUSH
    data = bytearray(demo_machine().save())
    s = v.load_stream(bytes(data))
    part = next(sec for sec in s.sections if sec.idstr == "ram" and sec.type == "PART")
    rec = part.offset + 5
    flush = RAM_SAVE_FLAG_MULTIFD_FLUSH.to_bytes(8, "big")
    data[rec:rec] = flush  # QEMU 8+ may put one before the pages
    import json as _json
    off, desc = __import__("vmstate_edu.stream", fromlist=["find_vmdesc"]).find_vmdesc(bytes(data))
    s2 = v.load_stream(bytes(data))
    assert s2.to_bytes() == bytes(data)
    assert RAM_SAVE_FLAG_MULTIFD_FLUSH in {w & 0xFFF for w in s2.ram.rec_word}
    assert _json.dumps(desc)
