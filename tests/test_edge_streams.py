"""Real streams from corners of QEMU (``data/qemu-*/edge/``, captured by
``data/capture_edge.py``): a name and instance written twice, the
``x-ignore-shared`` capability, s390x's storage attributes, machines that
send no configuration section or no JSON description."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

import vmstate_edu as v
from vmstate_edu.analyze import analyze_state
from vmstate_edu.extract import extract
from vmstate_edu.ram import flag_names, page_bytes, split_record, xbzrle_decode
from vmstate_edu.stream import find_vmdesc
from vmstate_edu.twin import twin_diff

DATA = Path(__file__).resolve().parent.parent / "data"


def _raw(case: str) -> bytes:
    return lzma.decompress((DATA / case / "stream.mig.xz").read_bytes())


def test_isapc_two_sections_with_one_name_and_instance_both_survive() -> None:
    """QEMU 7.2's isapc registers two ``isa-ide`` devices as instance 0: two
    FULL sections (ids 22, 23) with the same name and instance. Each gets its
    own entry and JSON description, so the re-save keeps both."""
    data = _raw("qemu-7.2/edge/x86-isapc")
    s = v.load_stream(data)
    ide = [x for x in s.sections if x.idstr == "isa-ide"]
    assert [(x.instance_id, x.section_id) for x in ide] == [(0, 22), (0, 23)]
    entries = [se for se in s.registry.handlers if se.idstr == "isa-ide"]
    assert len(entries) == 2 and entries[0] is not entries[1]
    assert s.to_bytes() == data
    s.reload(data)  # loading again into the same objects finds the same two entries
    assert [se for se in s.registry.handlers if se.idstr == "isa-ide"] == entries
    assert s.to_bytes() == data
    assert _twin("qemu-7.2/edge/x86-isapc", s) == {"save": [], "load": []}


def _log(case: str, side: str) -> str:
    return lzma.decompress((DATA / case / f"{side}.log.xz").read_bytes()).decode()


def _twin(case: str, s: v.Stream) -> dict[str, list]:
    ids = {sec.idstr for sec in s.sections} | {"configuration"}
    return {side: twin_diff(getattr(s, f"trace_{side}")(leaves=False).qemu_log(s.qemu_version),
                            _log(case, side), ids, side)
            for side in ("save", "load")}


@pytest.mark.parametrize("case", ["qemu-7.2/edge/cap-x86-ignore-shared",
                                  "qemu-10.0/edge/cap-x86-ignore-shared",
                                  "qemu-10.0/edge/cap-a64-ignore-shared-running"])
def test_x_ignore_shared_block_addresses(case: str) -> None:
    """With the x-ignore-shared capability each RAM block of the MEM_SIZE list
    carries its guest-physical address (``parse_ramblock``); the shared
    block's pages are not sent at all."""
    data = _raw(case)
    s = v.load_stream(data)
    assert "x-ignore-shared" in s.registry.loaded_config["capabilities"]
    blocks = s.ram.mem_size[0][1]
    gpa = {name: int.from_bytes(extra, "big") for name, _, extra in blocks}
    assert all(len(extra) == 8 for _, _, extra in blocks)
    assert "mem0" in gpa and gpa.get("pc.bios", 0xFFFC0000) == 0xFFFC0000
    if "aarch64" in json.dumps(s.vmdesc) or "a64" in case:
        assert gpa["mem0"] == 0x40000000  # virt's RAM starts at 1 GiB
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}
    # the traced load shows the address as its own framing record
    t = s.trace_load()
    assert sum(1 for r in t.rows if r[6] == "ram block address") == len(blocks)


def test_s390x_storage_attributes_and_pointer_array_with_nulls() -> None:
    """QEMU 10.0, s390-ccw-virtio: the iterative ``s390-storage_attributes``
    section (records up to EOS, like RAM) and ``s390_css``'s array of 256
    pointers of which 255 are NULL, which the JSON writes as runs (254
    nullptr, 1 struct, 1 nullptr). Re-saved byte for byte; the values are
    those QEMU's own analyze-migration.py prints."""
    case = "qemu-10.0/edge/s390x-ccw"
    data = _raw(case)
    s = v.load_stream(data)
    kinds = {(x.type, x.handler) for x in s.sections if x.idstr == "s390-storage_attributes"}
    assert ("START", "stattrib") in kinds and ("END", "stattrib") in kinds
    css = next(se for se in s.registry.handlers if se.idstr == "s390_css").opaque.css
    assert len(css) == 256 and [i for i, x in enumerate(css) if x is not None] == [254]
    assert s.to_bytes() == data
    want = json.loads((DATA / case / "expected" / "analyze-state.json").read_text())
    assert json.loads(json.dumps(analyze_state(s))) == want


def test_s390x_qemu72_pointer_array_is_refused_with_the_reason() -> None:
    """QEMU 7.2 describes the same array by its element 0, a NULL pointer:
    the JSON has no layout for element 254's struct. The error says so,
    with the offset and path of that element."""
    with pytest.raises(v.VMStateError) as e:
        v.load_stream(_raw("qemu-7.2/edge/s390x-ccw"))
    assert "NULL element 0" in str(e.value)
    assert e.value.path.startswith("s390_css/css[254]") and e.value.offset > 0


EDGE_WITH_EXPECTED = sorted(str(p.parent.parent.relative_to(DATA))
                            for p in DATA.glob("qemu-*/edge/*/expected/analyze-desc.json"))


@pytest.mark.parametrize("case", EDGE_WITH_EXPECTED)
def test_edge_analyze_matches_qemu_script(case: str) -> None:
    """Where QEMU's analyze-migration.py reads an edge stream, ours prints
    the same (``-d desc`` always; ``-d state`` where the script did not crash)."""
    data = _raw(case)
    exp = DATA / case / "expected"
    desc = find_vmdesc(data)[1]  # (7.2's s390x stream is refused past its JSON: see above)
    assert json.loads(json.dumps(desc)) == json.loads((exp / "analyze-desc.json").read_text())
    if (exp / "analyze-state.json").exists():
        s = v.load_stream(data)
        want = json.loads((exp / "analyze-state.json").read_text())
        assert json.loads(json.dumps(analyze_state(s))) == want


def test_edge_cases_are_there() -> None:
    assert {"qemu-7.2/edge/x86-isapc", "qemu-10.0/edge/s390x-ccw",
            "qemu-10.0/edge/cap-x86-ignore-shared"} <= set(EDGE_WITH_EXPECTED)


def test_no_configuration_no_footers_no_json_qemu72_pc_i440fx_20() -> None:
    """QEMU 7.2's pc-i440fx-2.0 sends no configuration section, no section
    footers and no JSON: the RAM sections still read (the reader learns both
    from the stream), and the first device section stops with an error that
    says what is missing, where."""
    with pytest.raises(v.VMStateError) as e:
        v.load_stream(_raw("qemu-7.2/edge/x86-novmdesc"))
    assert "no JSON description" in str(e.value) and "vmdesc=" in str(e.value)
    assert e.value.path == "timer" and e.value.offset > 300_000  # past 64 MiB of RAM records


def test_suppress_vmdesc_reads_with_the_json_of_the_same_machine() -> None:
    """QEMU 10.0 ``pc,suppress-vmdesc=on``: no JSON at the end. With the JSON
    of another stream of the same machine and QEMU, every section reads and
    the re-save is byte-identical (and, like the original, has no JSON)."""
    data = _raw("qemu-10.0/edge/x86-novmdesc")
    with pytest.raises(v.VMStateError, match="no JSON description"):
        v.load_stream(data)
    desc = find_vmdesc(_raw("qemu-10.0/x86_64-pc-paused"))[1]
    s = v.load_stream(data, vmdesc=desc)
    assert s.vmdesc_offset is None and len(s.sections) > 20
    assert s.to_bytes() == data
    assert _twin("qemu-10.0/edge/x86-novmdesc", s)["load"] == []


def test_one_kib_pages_raspi3b() -> None:
    """raspi3b (QEMU 10.0): Arm's variable page size is 1 KiB here, so a RAM
    record's flags are its low 10 bits and bits 10-11 are address: every
    page of the 1 GiB lands at its own address (extract is checked against
    analyze-migration.py -x in test_extract_vs_qemu.py)."""
    case = "qemu-10.0/edge/a64-raspi3b"
    data = _raw(case)
    s = v.load_stream(data)
    assert s.ram.page_size == 1024
    addrs = [a for _, a, _, _ in s.ram.page_index()]
    assert len(addrs) == len(set(addrs)) == (1 << 30) // 1024
    assert all(a % 1024 == 0 for a in addrs) and any(a % 4096 for a in addrs)
    word = next(w for w in s.ram.rec_word if w & 0xC00 and w & 0x2)
    assert split_record(word, 1024) == (word & ~0x3FF, 0x22)
    assert flag_names(split_record(word, 1024)[1]) == "ZERO|CONTINUE"
    assert "0x" in flag_names(split_record(word, 4096)[1])  # a 4 KiB reading shows a stray bit
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}


@pytest.mark.parametrize("case", ["qemu-10.0/edge/a64-virt-gic3",
                                  "qemu-10.0/edge/x86-nozerodetect-running"])
def test_handler_order_and_iterate_results_follow_qemu(case: str) -> None:
    """Two things only the trace shows. A GICv3 has a higher migration
    priority than the timer and RAM, so QEMU's handler list starts with it
    and the non-iterable downtime line of RAM comes after the timer's section,
    not before the GIC's. With zero-page-detection=none the RAM iterations
    end at the rate limit: every ``savevm_section_end ram`` says ``-> 0``."""
    data = _raw(case)
    s = v.load_stream(data)
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}
    ends = [ln for ln in s.trace_save().qemu_log("10.0").splitlines()
            if ln.startswith("savevm_section_end ram")]
    if "nozerodetect" in case:
        assert len(ends) >= 3 and all(ln.endswith("-> 0") for ln in ends)


def test_compressed_pages_qemu72() -> None:
    """QEMU 7.2's compress capability: a page is ``COMPRESS_PAGE`` + be32
    length + zlib data. Indexed, re-saved byte for byte, each inflates to one
    page; a damaged one fails with its offset instead of giving wrong RAM."""
    case = "qemu-7.2/edge/x86-compress-running"
    data = _raw(case)
    s = v.load_stream(data)
    comp = [(w, d) for w, b, d in zip(s.ram.rec_word, s.ram.rec_block, s.ram.rec_data)
            if b >= 0 and w & 0x100]
    assert len(comp) > 20
    pages = [page_bytes(s.ram, w, d) for w, d in comp]
    assert all(len(p) == 4096 for p in pages) and any(any(p) for p in pages)
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}
    kinds = {k for _, _, k, _ in s.ram.page_index()}
    assert "compressed" in kinds
    # extract writes the inflated page where it belongs
    import tempfile
    with tempfile.TemporaryDirectory() as out:
        files = extract(s, out)
        w0, d0 = comp[-1]
        block = s.ram.blocks[[b for w, b, d in zip(s.ram.rec_word, s.ram.rec_block,
                                                   s.ram.rec_data) if (w, d) == (w0, d0)][0]]
        addr = w0 & s.ram.addr_mask
        with open(Path(out) / files[block.idstr], "rb") as fh:
            fh.seek(addr)
            assert fh.read(4096) == s.ram.read_page(block.idstr, addr)
    w, d = comp[0]
    bad = bytearray(data)
    bad[d + 4 + 2] ^= 0xFF  # inside the zlib data of the first compressed page
    s2 = v.load_stream(bytes(bad))
    with pytest.raises(v.VMStateError) as e:
        page_bytes(s2.ram, w, d)
    assert e.value.offset == d


def test_cli_vmdesc_option(tmp_path: Path, capsys) -> None:
    """``--vmdesc FILE`` on the command line: a stream of the same machine,
    or its ``analyze -d desc`` JSON, lets ``analyze`` read a stream without
    JSON; without it the error names the option."""
    from vmstate_edu.cli import main

    nov = tmp_path / "nov.mig"
    nov.write_bytes(_raw("qemu-10.0/edge/x86-novmdesc"))
    ref = tmp_path / "ref.mig"
    ref.write_bytes(_raw("qemu-10.0/x86_64-pc-paused"))
    assert main(["analyze", str(nov)]) == 2
    assert "--vmdesc" in capsys.readouterr().err
    assert main(["analyze", "-d", "desc", str(ref)]) == 0
    (tmp_path / "desc.json").write_text(capsys.readouterr().out)
    outs = []
    for src in (ref, tmp_path / "desc.json"):
        assert main(["analyze", str(nov), "--vmdesc", str(src)]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] and "timer (0)" in outs[0] and len(outs[0]) > 20
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["analyze", str(nov), "--vmdesc", str(tmp_path / "bad.json")]) == 2
    assert "not a JSON description" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["qemu-10.0/x86_64-pc-running", "qemu-7.2/ppc64-pseries-paused",
                                  "qemu-10.0/edge/s390x-ccw"])
def test_qemu_log_is_the_same_without_leaf_records(case: str) -> None:
    """``trace_load(leaves=False)`` (used by the twin checks, fast on big RAM)
    records the same QEMU events as a full trace; only the leaves go."""
    s = v.load_stream(_raw(case))
    for side in ("load", "save"):
        full = getattr(s, f"trace_{side}")()
        lean = getattr(s, f"trace_{side}")(leaves=False)
        assert lean.qemu_log() == full.qemu_log()
        assert not any(r[2] in ("field", "frame") for r in lean.rows)
        assert len(lean.rows) < len(full.rows)


@pytest.mark.parametrize("case", [f"qemu-{v}/edge/{c}" for v in ("7.2", "10.0") for c in (
    "x86-ide-booted-running", "x86-q35-ahci-booted-running", "x86-ipmi-kcs")] +
    ["qemu-7.2/edge/arm-ast2500"])
def test_struct_arrays_vstructs_and_renamed_fields(case: str) -> None:
    """Once SeaBIOS has identified a drive, that drive's element of the IDE
    (or AHCI) arrays carries ``identify_data`` and the other elements do not:
    one array, elements of different layouts. ``VMSTATE_VSTRUCT`` writes its
    description inline (ipmi's ``kcs``, whose C name is used twice, as is
    7.2 aspeed.rtc's ``offset``). Re-saved byte for byte (JSON included),
    traced line for line like QEMU."""
    data = _raw(case)
    s = v.load_stream(data)
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}
    if "booted" in case:
        txt = json.dumps(s.vmdesc)
        assert txt.count('"identify_data"') == 1


def test_xbzrle_pages_decode_to_what_the_guest_wrote(tmp_path: Path) -> None:
    """QEMU 10.0, migrated while running with the xbzrle capability: the
    guest's boot sector (``data/capture_edge.py``) keeps incrementing the
    words at offsets 0 and 2048 of every page from 0x10000 to 0x7ffff, so
    those pages go again and again as XBZRLE deltas. Applying every delta in
    stream order must leave exactly that pattern: the two counters of a page
    equal or one apart, equal across pages within one, everything else zero.
    The re-save is byte for byte and the traces line for line."""
    case = "qemu-10.0/edge/x86-xbzrle-live"
    data = _raw(case)
    s = v.load_stream(data)
    kinds = {}
    for _, _, k, _ in s.ram.page_index():
        kinds[k] = kinds.get(k, 0) + 1
    assert kinds.get("xbzrle", 0) > 1000
    assert s.to_bytes() == data
    assert _twin(case, s) == {"save": [], "load": []}
    files = extract(s, str(tmp_path))
    ram = (tmp_path / files["pc.ram"]).read_bytes()
    counters = []
    for a in range(0x10000, 0x80000, 0x1000):
        page = ram[a:a + 4096]
        w0, w1 = int.from_bytes(page[0:2], "little"), int.from_bytes(page[2048:2050], "little")
        assert not any(page[2:2048]) and not any(page[2050:]), hex(a)
        assert w0 - w1 in (0, 1), hex(a)
        counters.append(w0)
    assert min(counters) > 100 and max(counters) - min(counters) <= 1
    assert s.ram.read_page("pc.ram", 0x10000) == ram[0x10000:0x11000]
    # a damaged delta is refused with the record's offset
    w, d = next((w, d) for w, b, d in zip(s.ram.rec_word, s.ram.rec_block, s.ram.rec_data)
                if b >= 0 and w & 0x40)
    with pytest.raises(v.VMStateError, match="XBZRLE"):
        xbzrle_decode(b"\x00\x00", bytes(4096), d)
    with pytest.raises(v.VMStateError, match="XBZRLE"):
        xbzrle_decode(b"\x00\x05ab", bytes(4096), d)  # says 5 new bytes, carries 2


def test_case_stream_and_page_kinds() -> None:
    """The notebook's helpers: a capture found at the top level or under edge/,
    and the page records counted by kind (every kind of the four appears)."""
    from vmstate_edu.viz.qemulog import case_stream

    assert case_stream("10.0", "x86_64-pc-paused").parent.name == "x86_64-pc-paused"
    assert case_stream("7.2", "x86-compress-running").parent.parent.name == "edge"
    with pytest.raises(FileNotFoundError):
        case_stream("7.2", "no-such-case")
    seen = {}
    for ver, name in [("10.0", "x86-xbzrle-live"), ("7.2", "x86-compress-running")]:
        kinds = v.load_stream(case_stream(ver, name)).ram.page_kinds()
        assert sum(kinds.values()) > 16000
        seen.update(kinds)
    assert set(seen) == {"zero", "page", "compressed", "xbzrle"}
