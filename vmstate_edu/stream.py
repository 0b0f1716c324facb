"""Any real QEMU migration stream: read it, write it back, trace it.

``load_stream(path)`` reads the header, the configuration section, every
section (device sections through the stream's own JSON description, RAM and
``spapr/htab`` through their own handlers), commands, EOF and the JSON. The
registry it builds is an ordinary :class:`~vmstate_edu.savevm.SaveVMState`,
so ``to_bytes()`` is simply ``qemu_savevm_state`` over it, and tracing a
load or a save gives QEMU's own event lines.
"""

from __future__ import annotations

import json
import lzma
import os
import struct
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from . import stattrib
from . import tracing as _trace
from .errors import LimitExceeded, SectionError, VMStateError
from .limits import LIMITS
from .qemufile import QEMUFile
from .ram import PAGE_KINDS, RAMState, ram_load, ram_write_piece
from .savevm import (
    QEMU_VM_CONFIGURATION,
    QEMU_VM_EOF,
    QEMU_VM_SECTION_END,
    QEMU_VM_SECTION_FULL,
    QEMU_VM_SECTION_PART,
    QEMU_VM_SECTION_START,
    SaveStateEntry,
    SaveVMHandlers,
    SaveVMState,
    qemu_loadvm_state,
    qemu_savevm_state,
)
from .vmdesc import validate_vmdesc, vmsd_from_json

SECTION_KINDS = {QEMU_VM_SECTION_START: "START", QEMU_VM_SECTION_PART: "PART",
                 QEMU_VM_SECTION_END: "END", QEMU_VM_SECTION_FULL: "FULL"}


@dataclass
class SectionInfo:
    """One section piece as found in the stream."""

    type: str           # START / PART / END / FULL
    section_id: int
    idstr: str
    instance_id: int
    version_id: int
    offset: int         # of the section type byte
    end: int            # after the footer
    handler: str        # vmstate / ram / htab / old-style

    @property
    def size(self) -> int:
        return self.end - self.offset


def read_source(path: str | os.PathLike | bytes) -> bytes | memoryview:
    """The stream's bytes: a plain file is memory-mapped, ``.xz`` decompressed."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        return path
    p = os.fspath(path)
    with open(p, "rb") as fh:
        magic = fh.read(6)
    if magic == b"\xfd7zXZ\x00":
        try:
            return lzma.decompress(open(p, "rb").read())
        except lzma.LZMAError as e:
            raise VMStateError(f"{p}: not a valid xz file ({e})") from None
    f = QEMUFile.open(p, "rb")
    return f._rbuf if f._rbuf is not None else b""


def find_vmdesc(data: bytes | memoryview) -> tuple[int, dict] | None:
    """Locate the trailing JSON: EOF (0x00), 0x06, be32 length, JSON, end of
    stream. Returns (offset of the 0x06 byte, parsed JSON) or None. Looks in
    a growing window at the end (64 KiB, 1 MiB, … up to the JSON limit), so
    a large stream is not copied to find a small description."""
    n = len(data)
    limit = min(n, LIMITS.max_json + 6)
    window = min(limit, 1 << 16)
    while True:
        lo = n - window
        buf = bytes(data[lo:])
        pos = len(buf)
        while True:
            pos = buf.rfind(b"\x06", 1, pos)
            if pos < 1:
                break
            if pos + 5 <= len(buf):
                (ln,) = struct.unpack_from(">I", buf, pos + 1)
                if pos + 5 + ln == len(buf) and buf[pos - 1] == QEMU_VM_EOF:
                    try:
                        return lo + pos, json.loads(buf[pos + 5:].decode("latin-1"))
                    except (ValueError, RecursionError):  # nested too deep for json
                        pass
        if window >= limit:
            return None
        window = min(limit, window * 16)


# ---------------------------------------------------------------------------
# Handlers for the non-VMState sections
# ---------------------------------------------------------------------------

class ReplayHandlers(SaveVMHandlers):
    """An iterative handler rebuilt from a stream: loading indexes its
    pieces; saving writes them again, one phase at a time."""

    def __init__(self, load_piece: Any, write_piece: Any, iterate_ret: Any,
                 complete_ret: int = 0):
        self._load_piece = load_piece
        self._write_piece = write_piece
        self._iterate_ret = iterate_ret
        self._complete_ret = complete_ret

    def load_state(self, f: QEMUFile, st: Any, version_id: int) -> int:
        return self._load_piece(f, st, version_id)

    def save_setup(self, f: QEMUFile, st: Any) -> int:
        st.cursor = 0
        self._next(f, st)
        return 0

    def save_live_iterate(self, f: QEMUFile, st: Any) -> int:
        part = st.cursor
        if st.cursor < st.n_pieces - 1:
            self._next(f, st)
        return self._iterate_ret(st, part)

    def save_live_complete_precopy(self, f: QEMUFile, st: Any) -> int:
        while st.cursor < st.n_pieces:
            self._next(f, st)
        return self._complete_ret

    def _next(self, f: QEMUFile, st: Any) -> None:
        if st.cursor >= st.n_pieces:
            raise VMStateError("no recorded piece left to write")
        self._write_piece(f, st, st.cursor)
        st.cursor += 1


def _ram_write_piece(f: QEMUFile, st: RAMState, k: int) -> None:
    ram_write_piece(f, st, st.pieces[k])


def _ram_iterate_ret(st: RAMState, k: int) -> int:
    """What ``ram_save_iterate`` returned for piece ``k``: 1 when it ran out
    of dirty pages, 0 when the rate limit stopped it. The stream shows it in
    where the next piece starts: QEMU's page search goes on from where it
    stopped, so a piece cut short by the limit is followed by pages further
    on (``zero-page-detection=none``, a slow link, compressed pages), while a finished pass is
    followed by nothing or by a new pass from the start (a guest that keeps
    dirtying pages while it migrates)."""
    cur = _page_positions(st, k)
    after = _page_positions(st, k + 1) if k + 1 < st.n_pieces else []
    if not cur or not after:
        return 1
    (nb, na), (cb, ca) = after[0], cur[-1]
    if nb != cb:
        return 1 if nb < cb else 0
    # compression threads send a few pages late: a step back under 64 pages
    # still goes on from where the last piece stopped
    return 1 if na + 64 * st.page_size <= ca else 0


def _page_positions(st: RAMState, k: int) -> list[tuple[int, int]]:
    """(block, address) of the page records of piece ``k``, in stream order."""
    a, b = st.pieces[k]
    am = st.addr_mask
    return [(blk, w & am) for w, blk in zip(st.rec_word[a:b], st.rec_block[a:b])
            if blk >= 0 and w & PAGE_KINDS]


def _htab_iterate_ret(st: HTABState, k: int) -> int:
    # htab_save_iterate: the first pass returns 0, later passes 1 when clean;
    # no hash table (header -1) returns 1
    hdr = st.pieces[k][0] if k < st.n_pieces else 0
    return 1 if hdr == 0xFFFFFFFF or k > 1 else 0


class HTABState:
    """``spapr/htab``: the hashed page table of a pseries machine
    (``hw/ppc/spapr.c``). Each piece: be32 header (htab_shift in the first
    piece, -1 for none, 0 then chunks: be32 index, be16 n_valid, be16
    n_invalid, 16-byte entries; a zero chunk ends the piece)."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, list[tuple[int, int, int, int]]]] = []
        self.htab_shift = 0
        self.source: QEMUFile | None = None
        self.cursor = 0

    @property
    def n_pieces(self) -> int:
        return len(self.pieces)


def _htab_load_piece(f: QEMUFile, st: HTABState, version_id: int) -> int:
    tr = _trace.ACTIVE
    leaves = tr is not None and tr.leaves
    if version_id != 1:
        raise VMStateError(f"htab_load() bad version {version_id}", offset=f.tell())
    st.source = st.source or f
    o = f.tell()
    hdr = f.get_be32()
    if leaves:
        tr.leaf("frame", "frame_get", "htab header", None, "uint32", o, 4, hdr, f.slice(o, o + 4))
    chunks: list[tuple[int, int, int, int]] = []
    if hdr == 0:
        slots = (1 << st.htab_shift) // 16 if st.htab_shift else 1 << 40
        while True:
            o = f.tell()
            index, n_valid, n_invalid = f.get_be32(), f.get_be16(), f.get_be16()
            if leaves:
                tr.leaf("frame", "frame_get", "htab chunk", None, "uint32,uint16,uint16", o, 8,
                        (index, n_valid, n_invalid), f.slice(o, o + 8))
            if index == 0 and n_valid == 0 and n_invalid == 0:
                break
            if index + n_valid + n_invalid > slots:
                raise SectionError(f"htab_load() bad index {index} ({n_valid}+{n_invalid} "
                                   f"entries) for htab_shift={st.htab_shift}", offset=o,
                                   path="spapr/htab")
            do = f.tell()
            f.skip(16 * n_valid)
            if leaves and n_valid:
                tr.leaf("field", "field_get", "htab entries", index, "buffer", do, 16 * n_valid,
                        f"{n_valid} HPTEs", f.slice(do, do + 16 * n_valid))
            chunks.append((index, n_valid, n_invalid, do))
            if len(chunks) > LIMITS.max_elements:
                raise LimitExceeded("too many htab chunks", offset=o, path="spapr/htab")
    elif hdr != 0xFFFFFFFF:
        st.htab_shift = hdr
    st.pieces.append((hdr, chunks))
    return 0


def _htab_write_piece(f: QEMUFile, st: HTABState, k: int) -> None:
    tr = _trace.ACTIVE
    hdr, chunks = st.pieces[k]
    o = f.tell()
    f.put_be32(hdr)
    if tr is not None and tr.leaves:
        tr.leaf("frame", "frame_put", "htab header", None, "uint32", o, 4, hdr, f.slice(o, o + 4))
    if hdr != 0:
        return
    for index, n_valid, n_invalid, do in chunks + [(0, 0, 0, 0)]:
        o = f.tell()
        f.put_be32(index)
        f.put_be16(n_valid)
        f.put_be16(n_invalid)
        if tr is not None and tr.leaves:
            tr.leaf("frame", "frame_put", "htab chunk", None, "uint32,uint16,uint16", o, 8,
                    (index, n_valid, n_invalid), f.slice(o, o + 8))
        if n_valid:
            o = f.tell()
            f.put_buffer(st.source.view(do, do + 16 * n_valid))
            if tr is not None and tr.leaves:
                tr.leaf("field", "field_put", "htab entries", index, "buffer", o, 16 * n_valid,
                        f"{n_valid} HPTEs", f.slice(o, o + 16 * n_valid))


class OldStyleHandlers(SaveVMHandlers):
    """A device saved without VMState (``se->vmsd == NULL``): the JSON gives
    only its size, so its bytes are kept as one opaque blob."""

    def __init__(self, size: int):
        self.size = size

    def load_state(self, f: QEMUFile, st: Any, version_id: int) -> int:
        o = f.tell()
        st.data = f.get_buffer(self.size)
        tr = _trace.ACTIVE
        if tr is not None and tr.leaves:
            tr.leaf("field", "field_get", "data", None, "buffer", o, self.size, st.data, st.data)
        return 0

    def save_state(self, f: QEMUFile, st: Any) -> None:
        o = f.tell()
        f.put_buffer(st.data)
        tr = _trace.ACTIVE
        if tr is not None and tr.leaves:
            tr.leaf("field", "field_put", "data", None, "buffer", o, self.size, st.data, st.data)


# ---------------------------------------------------------------------------
# The registry a stream builds for itself
# ---------------------------------------------------------------------------

class StreamRegistry(SaveVMState):
    """A registry that creates each entry when the stream first names it:
    a description read from the stream's JSON (or a hand-written one from
    ``descriptions``), RAM, or ``spapr/htab``."""

    def __init__(self, vmdesc: dict | None, page_size: int, descriptions: Any = None, **kw):
        super().__init__(**kw)
        self.vmdesc_json = vmdesc or {}
        self.page_size = page_size
        self.descriptions = descriptions
        self.sections: list[SectionInfo] = []
        # a name and instance may occur more than once (QEMU 7.2's isapc has two
        # "isa-ide" 0): the n-th FULL section of a key takes its n-th JSON entry
        self._json_devices: dict[tuple[str, int], list[dict]] = {}
        for dev in self.vmdesc_json.get("devices", []):
            key = (dev.get("name"), int(dev.get("instance_id", 0)))
            self._json_devices.setdefault(key, []).append(dev)
        self._full_loaded: set[int] = set()  # id() of entries a FULL section has filled
        self.ram = RAMState(page_size=page_size, materialize=False)
        self.htab = HTABState()
        self.stattrib = stattrib.StAttribState()

    def find_se(self, idstr: str, instance_id: int) -> SaveStateEntry | None:
        """The entry for the next section of ``idstr``/``instance_id``: an
        existing one no FULL section has filled yet, else a new one."""
        same = [se for se in self.handlers if se.idstr == idstr and
                instance_id in (se.instance_id, se.alias_id)]
        for se in same:
            if id(se) not in self._full_loaded:
                return se
        se = self._make_entry(idstr, instance_id, len(same))
        if se is not None:
            self.handlers.append(se)
        return se

    def _ram_load_piece(self, f: QEMUFile, st: RAMState, version_id: int) -> int:
        # the configuration section (read before any RAM) tells the record format
        st.ignore_shared = "x-ignore-shared" in (self.loaded_config or {}).get(
            "capabilities", [])
        return ram_load(f, st, version_id)

    def _make_entry(self, idstr: str, instance_id: int, nth: int = 0
                    ) -> SaveStateEntry | None:
        any_version = 0xFFFFFFFF
        if idstr == "ram":
            self.ram.n_pieces = 0
            return SaveStateEntry(idstr, instance_id, 0, any_version, opaque=self.ram,
                                  ops=ReplayHandlers(self._ram_load_piece, _ram_write_piece,
                                                     _ram_iterate_ret),
                                  is_ram=True)
        if idstr == stattrib.IDSTR:
            return SaveStateEntry(idstr, instance_id, 0, any_version, opaque=self.stattrib,
                                  ops=ReplayHandlers(stattrib.stattrib_load_piece,
                                                     stattrib.stattrib_write_piece,
                                                     stattrib.stattrib_iterate_ret,
                                                     complete_ret=1))
        if idstr == "spapr/htab":
            return SaveStateEntry(idstr, instance_id, 0, any_version, opaque=self.htab,
                                  ops=ReplayHandlers(_htab_load_piece, _htab_write_piece,
                                                     _htab_iterate_ret))
        devs = self._json_devices.get((idstr, instance_id), [])
        dev = devs[min(nth, len(devs) - 1)] if devs else None
        if not self._json_devices and self.descriptions is None:
            raise SectionError(f"section '{idstr}' {instance_id}: this stream has no JSON "
                               "description at its end (a machine with suppress-vmdesc=on, an "
                               "old machine type, or a truncated stream), so its devices cannot "
                               "be decoded; pass vmdesc= or --vmdesc FILE (the JSON of a "
                               "stream of the same machine and QEMU) or descriptions=",
                               path=idstr)
        if self.descriptions is not None:
            found = self.descriptions(idstr, instance_id, dev, self)
            if found is not None:
                vmsd, opaque = found if isinstance(found, tuple) else (found, SimpleNamespace())
                return SaveStateEntry(idstr, instance_id, 0, vmsd.version_id, vmsd=vmsd,
                                      opaque=opaque)
        if dev is None:
            return None
        if "vmsd_name" not in dev:  # old-style device: a blob of "size" bytes
            return SaveStateEntry(idstr, instance_id, 0, any_version, opaque=SimpleNamespace(),
                                  ops=OldStyleHandlers(int(dev.get("size", 0))))
        vmsd = vmsd_from_json(dev)
        return SaveStateEntry(idstr, instance_id, 0, any_version, vmsd=vmsd,
                              opaque=SimpleNamespace())

    def section_loaded(self, section_type: int, se: SaveStateEntry, start: int,
                       end: int) -> None:
        if section_type == QEMU_VM_SECTION_FULL:
            self._full_loaded.add(id(se))
        kind = {"ram": "ram", "spapr/htab": "htab", stattrib.IDSTR: "stattrib"}.get(
            se.idstr, "vmstate" if se.vmsd is not None else "old-style")
        self.sections.append(SectionInfo(SECTION_KINDS.get(section_type, "?"),
                                         se.load_section_id, se.idstr, se.instance_id,
                                         se.load_version_id, start, end, kind))
        if len(self.sections) > LIMITS.max_sections:
            raise LimitExceeded("too many sections", offset=start)

    def freeze(self) -> None:
        """After a load: every entry keeps the id and version it had in the
        stream, and the options the stream showed are set for a re-save."""
        for se in self.handlers:
            se.section_id = se.load_section_id
            se.version_id = se.load_version_id
            if se.vmsd is not None and se.vmsd.version_id != se.load_version_id and \
                    se.vmsd.version_id == 0xFFFFFFFF:
                se.vmsd.version_id = se.load_version_id
        self.handlers = handler_order(self.sections, self.handlers)
        self.iterations = max([sum(1 for s in self.sections if s.type == "PART" and
                                   s.idstr == se.idstr) for se in self.handlers
                               if se.ops is not None and se.vmsd is None] or [0])
        self.ram.n_pieces = len(self.ram.pieces)
        self.ram.cursor = 0
        cfg = self.loaded_config or {}
        self.machine_name = cfg.get("machine", "")
        state = getattr(self, "loaded_config_state", None)
        sent_tpb = bool(state is not None and getattr(state, "_tpb_sent", False))
        self.target_page_bits = cfg.get("target_page_bits", 12)
        self.target_page_bits_min = self.target_page_bits - 1 if sent_tpb else \
            self.target_page_bits
        self.capabilities = list(cfg.get("capabilities", []))
        if state is not None and getattr(state, "_uuid_sent", False):
            self.uuid = bytes(state.uuid.data)
            self.validate_uuid = True
        cmds = [c for c, _ in getattr(self, "loaded_commands", [])]
        self.send_switchover_start = 11 in cmds


def handler_order(sections: list[SectionInfo], handlers: list[SaveStateEntry]
                  ) -> list[SaveStateEntry]:
    """QEMU's handler list, as far as a stream shows it: FULL sections in the
    order they were written; each iterative handler (RAM, htab) placed by its
    section id among those of the default priority (ids follow registration
    order). Only the trace shows the difference: in QEMU 10.0 every handler
    logs a non-iterable downtime line in list order."""
    key = {(se.idstr, se.instance_id, se.load_section_id): se for se in handlers}
    full: list[SaveStateEntry] = []
    live: list[SaveStateEntry] = []
    for s in sections:
        se = key.get((s.idstr, s.instance_id, s.section_id))
        if se is None or se in full or se in live:
            continue
        (full if s.type == "FULL" else live).append(se)
    # QEMU keeps its list sorted by priority, then registration (= id) order.
    # Higher-priority devices (a GICv3, PCI buses, IOMMUs) come first, out of
    # id order; the default priority, RAM's too, is the longest run of
    # ascending ids. A live handler goes into that run by its id.
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(full) + 1):
        if i == len(full) or full[i].section_id < full[i - 1].section_id:
            runs.append((start, i))
            start = i
    lo, hi = max(runs, key=lambda r: r[1] - r[0]) if runs else (0, 0)
    out = list(full)
    for se in sorted(live, key=lambda e: e.section_id):
        pos = next((i for i in range(lo, hi) if out[i].section_id > se.section_id), hi)
        out.insert(pos, se)
        hi += 1
    rest = [se for se in handlers if se not in out]
    return out + rest


# ---------------------------------------------------------------------------
# Stream
# ---------------------------------------------------------------------------

class Stream:
    """A loaded migration stream."""

    def __init__(self, data: bytes | memoryview, path: str | None = None,
                 descriptions: Any = None, vmdesc: dict | None = None):
        self.path = path
        self.data = data
        self.descriptions = descriptions
        found = find_vmdesc(data)
        self.vmdesc_offset, self.vmdesc = found if found else (None, None)
        if self.vmdesc is None and vmdesc is not None:
            self.vmdesc = vmdesc  # e.g. a truncated stream, read with a whole one's JSON
        if self.vmdesc is not None:  # every reader below trusts its shape
            validate_vmdesc(self.vmdesc, None if self.vmdesc_offset is None
                            else self.vmdesc_offset + 5)
        self.qemu_version = "10.0" if self.vmdesc and "configuration" in self.vmdesc else "7.2"
        self.registry = self._load()

    def _new_registry(self) -> StreamRegistry:
        page_size = int((self.vmdesc or {}).get("page_size", 4096))
        # a machine with send-configuration=off (old machine types, e.g. 7.2's
        # pc-i440fx-2.0) goes straight from the header to its first section
        sends_config = len(self.data) <= 8 or self.data[8] == QEMU_VM_CONFIGURATION
        return StreamRegistry(self.vmdesc, page_size, self.descriptions,
                              qemu_version=self.qemu_version, check_machine_name=False,
                              send_vmdesc=self.vmdesc_offset is not None,
                              send_configuration=sends_config, send_section_footer=None)

    def _load(self) -> StreamRegistry:
        reg = self._new_registry()
        f = QEMUFile(self.data)
        qemu_loadvm_state(f, reg)
        if f.remaining():
            raise SectionError(f"{f.remaining()} bytes after the end of the stream",
                               offset=f.tell())
        reg.freeze()
        return reg

    # -- what was read -----------------------------------------------------------
    @property
    def sections(self) -> list[SectionInfo]:
        return self.registry.sections

    @property
    def config(self) -> dict:
        return dict(self.registry.loaded_config or {})

    @property
    def machine(self) -> str:
        return self.config.get("machine", "")

    @property
    def ram(self) -> RAMState:
        return self.registry.ram

    def entries(self) -> list[SaveStateEntry]:
        return [se for se in self.registry.handlers]

    def device(self, idstr: str, instance_id: int = 0) -> Any:
        """The loaded state of one section (its opaque object)."""
        for se in self.registry.handlers:
            if se.idstr == idstr and se.instance_id == instance_id:
                return se.opaque
        raise KeyError(f"no section {idstr!r} instance {instance_id}")

    def __repr__(self) -> str:
        return (f"<Stream {self.path or ''} QEMU {self.qemu_version} machine={self.machine!r} "
                f"{len(self.data)} bytes, {len(self.sections)} section pieces>")

    # -- writing back -----------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The stream written again by the engine (``qemu_savevm_state``)."""
        f = QEMUFile()
        self.registry.ram.cursor = 0
        self.registry.htab.cursor = 0
        self.registry.stattrib.cursor = 0
        qemu_savevm_state(f, self.registry)
        return f.getvalue()

    def save(self, path: str | os.PathLike) -> None:
        with QEMUFile.open(path, "wb") as f:
            f.put_buffer(self.to_bytes())

    def reload(self, data: bytes | memoryview) -> None:
        """Load another stream into this one's objects, as a destination QEMU
        whose machine is in this state would: ``_equal`` fields and
        ``post_load`` checks compare with the values already here."""
        for se in self.registry.handlers:
            se.load_section_id = 0
        self.registry.ram = RAMState(page_size=self.registry.page_size, materialize=False)
        self.registry.htab = HTABState()
        self.registry.stattrib = stattrib.StAttribState()
        for se in self.registry.handlers:
            if se.idstr == "ram":
                se.opaque = self.registry.ram
            elif se.idstr == "spapr/htab":
                se.opaque = self.registry.htab
            elif se.idstr == stattrib.IDSTR:
                se.opaque = self.registry.stattrib
        self.registry.sections = []
        self.registry._full_loaded.clear()
        qemu_loadvm_state(QEMUFile(data), self.registry)
        self.registry.freeze()
        self.data = data

    # -- tracing -----------------------------------------------------------------
    def trace_load(self, leaves: bool = True) -> _trace.Tracer:
        """Load the stream again inside a trace (a fresh registry).
        ``leaves=False`` records QEMU's events only (faster on big RAM)."""
        with _trace.trace(self.qemu_version, leaves=leaves) as t:
            reg = self._new_registry()
            qemu_loadvm_state(QEMUFile(self.data), reg)
        return t

    def trace_save(self, leaves: bool = True) -> _trace.Tracer:
        """Save the stream again inside a trace."""
        with _trace.trace(self.qemu_version, leaves=leaves) as t:
            self.to_bytes()
        return t

    # -- tables -----------------------------------------------------------------
    def to_dataframe(self):
        """One row per field element of the VMState sections (and the
        configuration): section, instance, section_id, vmsd, subsection (the
        subsection the field was sent in, or None), path, index, type,
        offset, size, value, raw. RAM pages are in ``ram.page_index()``."""
        import pandas as pd

        t = self.trace_load()
        starts = [s.offset for s in self.sections]
        import bisect

        out = []
        stack: list[tuple[str, bool]] = []  # (vmsd, entered as a subsection)
        next_is_sub = False
        for r in t.rows:
            kind = r[2]
            if kind == "frame":
                if r[6] == "subsection name":
                    next_is_sub = True
                continue
            if kind == "call":
                if r[1] in ("vmstate_load_state",):
                    if r[8] == "B":
                        stack.append((r[6], next_is_sub))
                        next_is_sub = False
                    elif stack:
                        stack.pop()
                continue
            if kind != "field":
                continue
            sub = next((name for name, is_sub in reversed(stack) if is_sub), None)
            k = bisect.bisect_right(starts, r[9]) - 1
            sec = self.sections[k] if k >= 0 else None
            if sec is None or r[9] >= sec.end:  # the configuration section
                out.append((r[4] or "configuration", 0, None, r[5], sub, r[6], r[7], r[8], r[9],
                            r[10], r[11], r[12]))
                continue
            if sec.handler in ("ram", "htab"):
                continue  # pages are indexed by ram.page_index(), not listed here
            out.append((sec.idstr, sec.instance_id, sec.section_id, r[5], sub, r[6], r[7], r[8],
                        r[9], r[10], r[11], r[12]))
        df = pd.DataFrame(out, columns=["section", "instance", "section_id", "vmsd",
                                        "subsection", "path", "index", "type", "offset", "size",
                                        "value", "raw"])
        df["index"] = df["index"].astype("Int64")
        df["section_id"] = df["section_id"].astype("Int64")
        df["instance"] = df["instance"].astype("int64")
        return df


def read_vmdesc(path: str | os.PathLike) -> dict:
    """A JSON description to read a stream that has none: a ``.json`` file
    (``desc.json`` of ``extract``, ``analyze -d desc``) or another stream of
    the same machine and QEMU, whose trailing JSON is taken."""
    data = read_source(path)
    head = bytes(data[:64]).lstrip()
    if head.startswith(b"{"):
        try:
            desc = json.loads(bytes(data))
        except ValueError as e:
            raise VMStateError(f"{os.fspath(path)}: not a JSON description ({e})") from None
        return validate_vmdesc(desc, None)
    found = find_vmdesc(data)
    if found is None:
        raise VMStateError(f"{os.fspath(path)}: neither a JSON description nor a stream "
                           "that ends with one")
    return found[1]


def load_stream(path: str | os.PathLike | bytes, descriptions: Any = None,
                vmdesc: dict | None = None) -> Stream:
    """Read any QEMU migration stream (a path, ``.xz`` or plain, or bytes).

    ``descriptions``: None (every device through the stream's JSON), ``"arch"``
    (CPU sections through the hand-written descriptions of
    :mod:`vmstate_edu.arch`), or a function ``(idstr, instance_id, json_entry,
    registry) -> vmsd | (vmsd, opaque) | None``. ``vmdesc``: a JSON description to
    use when the stream has none (a truncated stream)."""
    if descriptions == "arch":
        from .arch import arch_descriptions as descriptions
    data = read_source(path)
    return Stream(data, path=None if isinstance(path, (bytes, bytearray, memoryview))
                  else os.fspath(path), descriptions=descriptions, vmdesc=vmdesc)
