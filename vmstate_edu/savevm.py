"""The stream: sections, phases, the registry. Mirrors ``migration/savevm.c``.

A stream is: magic ``QEVM``, version 3, the configuration section, then
sections (START/PART/END pieces of iterative handlers such as RAM, FULL
sections of VMState devices), each followed by a footer, then EOF and the
JSON description. :class:`SaveVMState` stands for QEMU's global
``savevm_state``: the ordered list of :class:`SaveStateEntry` handlers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import SimpleNamespace
from typing import Any

from . import tracing as _trace
from .errors import LimitExceeded, SectionError, VersionError, VMStateError
from .fields import (
    VMSTATE_UINT8_ARRAY_V,
    VMSTATE_UINT32,
    VMSTATE_UINT32_V,
    VMSTATE_VARRAY_UINT32_ALLOC,
    VMSTATE_VBUFFER_ALLOC_UINT32,
    VMStateDescription,
)
from .info import VMStateInfo
from .limits import LIMITS
from .qemufile import QEMUFile
from .vmdesc import JSONWriter
from .vmstate import vmstate_load_state, vmstate_save_state, vmstate_section_needed

QEMU_VM_FILE_MAGIC = 0x5145564D
QEMU_VM_FILE_VERSION_COMPAT = 0x00000002
QEMU_VM_FILE_VERSION = 0x00000003
QEMU_VM_EOF = 0x00
QEMU_VM_SECTION_START = 0x01
QEMU_VM_SECTION_PART = 0x02
QEMU_VM_SECTION_END = 0x03
QEMU_VM_SECTION_FULL = 0x04
QEMU_VM_SUBSECTION = 0x05
QEMU_VM_VMDESCRIPTION = 0x06
QEMU_VM_CONFIGURATION = 0x07
QEMU_VM_COMMAND = 0x08
QEMU_VM_SECTION_FOOTER = 0x7E

VMSTATE_INSTANCE_ID_ANY = -1

# enum qemu_vm_cmd, with the payload length each command must have (-1: any)
MIG_CMDS = {
    0: ("INVALID", -1), 1: ("OPEN_RETURN_PATH", 0), 2: ("PING", 4), 3: ("POSTCOPY_ADVISE", -1),
    4: ("POSTCOPY_LISTEN", 0), 5: ("POSTCOPY_RUN", 0), 6: ("POSTCOPY_RAM_DISCARD", -1),
    7: ("PACKAGED", 4), 8: ("ENABLE_COLO", -1), 9: ("POSTCOPY_RESUME", 0),
    10: ("RECV_BITMAP", -1), 11: ("SWITCHOVER_START", 0),
}
MIG_CMD_SWITCHOVER_START = 11

SECTION_TYPE_NAMES = {
    QEMU_VM_EOF: "EOF", QEMU_VM_SECTION_START: "SECTION_START",
    QEMU_VM_SECTION_PART: "SECTION_PART", QEMU_VM_SECTION_END: "SECTION_END",
    QEMU_VM_SECTION_FULL: "SECTION_FULL", QEMU_VM_SUBSECTION: "SUBSECTION",
    QEMU_VM_VMDESCRIPTION: "VMDESCRIPTION", QEMU_VM_CONFIGURATION: "CONFIGURATION",
    QEMU_VM_COMMAND: "COMMAND", QEMU_VM_SECTION_FOOTER: "SECTION_FOOTER",
}


class SaveVMHandlers:
    """``SaveVMHandlers``: the callbacks of a non-VMState (\"live\") handler.
    A subclass defines the ones it has; the others stay None, as in C."""

    save_setup: Callable[[QEMUFile, Any], int] | None = None
    save_live_iterate: Callable[[QEMUFile, Any], int] | None = None
    save_live_complete_precopy: Callable[[QEMUFile, Any], int] | None = None
    save_state: Callable[[QEMUFile, Any], None] | None = None
    load_state: Callable[[QEMUFile, Any, int], int] | None = None
    is_active: Callable[[Any], bool] | None = None
    is_active_iterate: Callable[[Any], bool] | None = None


@dataclass(eq=False)
class SaveStateEntry:
    """``SaveStateEntry``: one registered handler (a device, a CPU, RAM)."""

    idstr: str
    instance_id: int
    section_id: int
    version_id: int
    vmsd: VMStateDescription | None = None
    opaque: Any = None
    ops: SaveVMHandlers | None = None
    alias_id: int = -1
    is_ram: bool = False
    load_version_id: int = 0
    load_section_id: int = 0


@dataclass(eq=False)
class SaveVMState:
    """The registry (QEMU's ``savevm_state`` plus the migration options the
    stream format depends on). ``qemu_version`` picks what differs between
    releases: 10.0 describes the configuration in the JSON and sends the
    SWITCHOVER_START command; 7.2 does neither."""

    machine_name: str = "teaching"
    qemu_version: str = "10.0"
    page_size: int = 4096
    target_page_bits: int = 12
    target_page_bits_min: int = 12
    capabilities: list[str] = dc_field(default_factory=list)
    uuid: bytes | None = None
    validate_uuid: bool = False
    send_configuration: bool = True
    send_section_footer: bool | None = True  # None: find out from the stream
    send_switchover_start: bool | None = None
    send_vmdesc: bool = True
    check_machine_name: bool = True
    # None: iterate until every handler says it is done (QEMU's savevm path);
    # a number: that many passes (migration decides by pending size instead)
    iterations: int | None = None
    handlers: list[SaveStateEntry] = dc_field(default_factory=list)
    global_section_id: int = 0
    # what a load found (filled by qemu_loadvm_state)
    loaded_vmdesc: bytes | None = None
    loaded_config: Any = None

    @property
    def major(self) -> int:
        return int(str(self.qemu_version).split(".")[0])

    def switchover_start(self) -> bool:
        if self.send_switchover_start is not None:
            return self.send_switchover_start
        return self.major >= 10

    def section_loaded(self, section_type: int, se: SaveStateEntry, start: int,
                       end: int) -> None:
        """Called after each section piece is read (a hook for stream readers)."""

    def find_se(self, idstr: str, instance_id: int) -> SaveStateEntry | None:
        for se in self.handlers:
            if se.idstr == idstr and (se.instance_id == instance_id or
                                      se.alias_id == instance_id):
                return se
        return None


# ---------------------------------------------------------------------------
# Registration (vmstate_register_with_alias_id, register_savevm_live)
# ---------------------------------------------------------------------------

def calculate_new_instance_id(registry: SaveVMState, idstr: str) -> int:
    ids = [se.instance_id for se in registry.handlers if se.idstr == idstr]
    return max(ids) + 1 if ids else 0


def _insert(registry: SaveVMState, se: SaveStateEntry, priority: int) -> None:
    """``savevm_state_handler_insert``: higher priority first, else in order."""
    for i, other in enumerate(registry.handlers):
        other_pri = other.vmsd.priority if other.vmsd is not None else 0
        if other_pri < priority:
            registry.handlers.insert(i, se)
            return
    registry.handlers.append(se)


def vmstate_register(registry: SaveVMState, instance_id: int, vmsd: VMStateDescription,
                     opaque: Any, *, idstr: str | None = None, alias_id: int = -1,
                     section_id: int | None = None) -> SaveStateEntry:
    """Register a VMState device. ``idstr`` defaults to the description's
    name (QEMU prefixes a device path, e.g. ``0000:00:01.0/piix4_pm``)."""
    idstr = idstr or vmsd.name
    if instance_id == VMSTATE_INSTANCE_ID_ANY:
        instance_id = calculate_new_instance_id(registry, idstr)
    if section_id is None:
        section_id = registry.global_section_id
        registry.global_section_id += 1
    else:
        registry.global_section_id = max(registry.global_section_id, section_id + 1)
    se = SaveStateEntry(idstr, instance_id & 0xFFFFFFFF, section_id, vmsd.version_id, vmsd=vmsd,
                        opaque=opaque, alias_id=alias_id)
    _insert(registry, se, vmsd.priority)
    return se


def register_savevm_live(registry: SaveVMState, idstr: str, instance_id: int, version_id: int,
                         ops: SaveVMHandlers, opaque: Any, *,
                         section_id: int | None = None) -> SaveStateEntry:
    """Register a live handler (``ram``, ``spapr/htab``, old-style devices)."""
    if instance_id == VMSTATE_INSTANCE_ID_ANY:
        instance_id = calculate_new_instance_id(registry, idstr)
    if section_id is None:
        section_id = registry.global_section_id
        registry.global_section_id += 1
    else:
        registry.global_section_id = max(registry.global_section_id, section_id + 1)
    se = SaveStateEntry(idstr, instance_id & 0xFFFFFFFF, section_id, version_id, ops=ops,
                        opaque=opaque, is_ram=idstr == "ram")
    registry.handlers.append(se)
    return se


# ---------------------------------------------------------------------------
# The configuration section (vmstate_configuration)
# ---------------------------------------------------------------------------

def _get_capability(f: QEMUFile, cur: Any, size: int, field: Any) -> str:
    return f.get_counted_string()


def _put_capability(f: QEMUFile, value: Any, size: int, field: Any, vmdesc: Any = None) -> None:
    raw = str(value).encode()
    f.put_byte(len(raw))
    f.put_buffer(raw)


vmstate_info_capability = VMStateInfo("capability", _get_capability, _put_capability)


class SaveState:
    """QEMU's ``SaveState``: what the configuration section carries."""

    def __init__(self, reg: SaveVMState):
        self.reg = reg
        self.len = 0
        self.name: bytes | None = None
        self.target_page_bits = reg.target_page_bits
        self.caps_count = 0
        self.capabilities: list[str] = []
        self.uuid = SimpleNamespace(data=bytearray(reg.uuid or bytes(16)))


def _configuration_pre_save(state: SaveState) -> int:
    reg = state.reg
    state.name = reg.machine_name.encode("latin-1")
    state.len = len(state.name)
    state.target_page_bits = reg.target_page_bits
    state.caps_count = len(reg.capabilities)
    state.capabilities = list(reg.capabilities)
    state.uuid.data = bytearray(reg.uuid or bytes(16))
    return 0


def _configuration_pre_load(state: SaveState) -> int:
    # No target-page-bits subsection means the minimum page size.
    state.target_page_bits = state.reg.target_page_bits_min
    return 0


def _configuration_post_load(state: SaveState, version_id: int) -> int:
    reg = state.reg
    name = bytes(state.name or b"")[:state.len].decode("latin-1")
    reg.loaded_config = {"machine": name, "target_page_bits": state.target_page_bits,
                         "capabilities": list(state.capabilities or [])}
    if reg.check_machine_name and name != reg.machine_name:
        raise SectionError(f"Machine type received is '{name}' and local is "
                           f"'{reg.machine_name}'")
    return 0


def _mark(attr: str):
    def pre_load(state: SaveState) -> int:
        setattr(state, attr, True)  # this subsection was in the stream
        return 0
    return pre_load


vmstate_target_page_bits = VMStateDescription(
    "configuration/target-page-bits", version_id=1, minimum_version_id=1,
    pre_load=_mark("_tpb_sent"),
    needed=lambda s: s.reg.target_page_bits > s.reg.target_page_bits_min,
    fields=[VMSTATE_UINT32("target_page_bits")])
vmstate_capabilites = VMStateDescription(
    "configuration/capabilities", version_id=1, minimum_version_id=1,
    needed=lambda s: len(s.reg.capabilities) > 0,
    fields=[VMSTATE_UINT32_V("caps_count", 1),
            VMSTATE_VARRAY_UINT32_ALLOC("capabilities", "caps_count", 1,
                                        vmstate_info_capability)])
vmstate_uuid = VMStateDescription(
    "configuration/uuid", version_id=1, minimum_version_id=1, pre_load=_mark("_uuid_sent"),
    needed=lambda s: s.reg.uuid is not None and s.reg.validate_uuid,
    fields=[VMSTATE_UINT8_ARRAY_V("uuid.data", 16, 1)])
vmstate_configuration = VMStateDescription(
    "configuration", version_id=1,
    pre_save=_configuration_pre_save, pre_load=_configuration_pre_load,
    post_load=_configuration_post_load,
    fields=[VMSTATE_UINT32("len"), VMSTATE_VBUFFER_ALLOC_UINT32("name", 0, None, "len")],
    subsections=[vmstate_target_page_bits, vmstate_capabilites, vmstate_uuid])


# ---------------------------------------------------------------------------
# Framing helpers (with trace leaves)
# ---------------------------------------------------------------------------

def _frame(tr: Any, ev: str, f: QEMUFile, start: int, what: str, info: str, value: Any) -> None:
    if tr is not None and tr.leaves:
        end = f.tell()
        tr.leaf("frame", ev, what, None, info, start, end - start, value, f.slice(start, end))


def _put_u8(f: QEMUFile, tr: Any, what: str, v: int) -> None:
    o = f.tell()
    f.put_byte(v)
    _frame(tr, "frame_put", f, o, what, "uint8", v)


def _put_u32(f: QEMUFile, tr: Any, what: str, v: int) -> None:
    o = f.tell()
    f.put_be32(v)
    _frame(tr, "frame_put", f, o, what, "uint32", v)


def _put_str(f: QEMUFile, tr: Any, what: str, s: str) -> None:
    raw = s.encode("latin-1")
    if len(raw) > 255:
        raise VMStateError(f"{what} {s!r} is longer than 255 bytes")
    _put_u8(f, tr, what + " length", len(raw))
    o = f.tell()
    f.put_buffer(raw)
    _frame(tr, "frame_put", f, o, what, "string", s)


def _get_u8(f: QEMUFile, tr: Any, what: str) -> int:
    o = f.tell()
    v = f.get_byte()
    _frame(tr, "frame_get", f, o, what, "uint8", v)
    return v


def _get_u32(f: QEMUFile, tr: Any, what: str) -> int:
    o = f.tell()
    v = f.get_be32()
    _frame(tr, "frame_get", f, o, what, "uint32", v)
    return v


def _get_str(f: QEMUFile, tr: Any, what: str) -> str:
    n = _get_u8(f, tr, what + " length")
    o = f.tell()
    s = f.get_buffer(n).decode("latin-1")
    _frame(tr, "frame_get", f, o, what, "string", s)
    return s


def save_section_header(f: QEMUFile, se: SaveStateEntry, section_type: int) -> None:
    tr = _trace.ACTIVE
    _put_u8(f, tr, "section type", section_type)
    _put_u32(f, tr, "section id", se.section_id)
    if section_type in (QEMU_VM_SECTION_FULL, QEMU_VM_SECTION_START):
        _put_str(f, tr, "idstr", se.idstr)
        _put_u32(f, tr, "instance id", se.instance_id)
        _put_u32(f, tr, "version id", se.version_id)


def save_section_footer(f: QEMUFile, se: SaveStateEntry, reg: SaveVMState) -> None:
    if reg.send_section_footer:
        tr = _trace.ACTIVE
        _put_u8(f, tr, "section footer", QEMU_VM_SECTION_FOOTER)
        _put_u32(f, tr, "footer section id", se.section_id)


def _call(tr: Any, phase: str, func: str, f: QEMUFile, detail: str | None = None) -> None:
    if tr is not None:
        if phase == "E":
            tr.depth -= 1
        tr.call(phase, func, f.tell(), detail)
        if phase == "B":
            tr.depth += 1


# ---------------------------------------------------------------------------
# Save
# ---------------------------------------------------------------------------

def vmstate_save_old_style(f: QEMUFile, se: SaveStateEntry, vmdesc: JSONWriter | None) -> None:
    old = f.tell()
    se.ops.save_state(f, se.opaque)
    size = f.tell() - old
    if vmdesc is not None:
        vmdesc.int64("size", size)
        vmdesc.start_array("fields")
        vmdesc.start_object(None)
        vmdesc.str("name", "data")
        vmdesc.int64("size", size)
        vmdesc.str("type", "buffer")
        vmdesc.end_object()
        vmdesc.end_array()


def vmstate_save(f: QEMUFile, se: SaveStateEntry, vmdesc: JSONWriter | None,
                 reg: SaveVMState | None = None) -> int:
    """Write one FULL section: header, the device's fields, footer."""
    reg = reg or SaveVMState()
    tr = _trace.ACTIVE
    if (se.ops is None or se.ops.save_state is None) and se.vmsd is None:
        return 0
    if se.vmsd is not None and not vmstate_section_needed(se.vmsd, se.opaque):
        if tr:
            tr.qemu("savevm_section_skip", se.idstr, se.section_id)
        return 0
    if tr:
        tr.section = se.idstr
        tr.qemu("savevm_section_start", se.idstr, se.section_id, offset=f.tell())
        _call(tr, "B", "vmstate_save", f, se.idstr)
    try:
        save_section_header(f, se, QEMU_VM_SECTION_FULL)
        if vmdesc is not None:
            vmdesc.start_object(None)
            vmdesc.str("name", se.idstr)
            vmdesc.int64("instance_id", se.instance_id)
        if tr:
            tr.qemu("vmstate_save", se.idstr, se.vmsd.name if se.vmsd else "(old)")
        if se.vmsd is None:
            vmstate_save_old_style(f, se, vmdesc)
        else:
            vmstate_save_state(f, se.vmsd, se.opaque, vmdesc)
        if tr:
            tr.qemu("savevm_section_end", se.idstr, se.section_id, 0)
        save_section_footer(f, se, reg)
        if vmdesc is not None:
            vmdesc.end_object()
    except VMStateError as e:
        e.add_context(se.idstr, "section")
        raise
    finally:
        if tr:
            _call(tr, "E", "vmstate_save", f, se.idstr)
            tr.section = None
    return 0


def qemu_savevm_state_header(f: QEMUFile, reg: SaveVMState, vmdesc: JSONWriter | None) -> None:
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("savevm_state_header", offset=f.tell())
    _put_u32(f, tr, "file magic", QEMU_VM_FILE_MAGIC)
    _put_u32(f, tr, "file version", QEMU_VM_FILE_VERSION)
    if reg.send_configuration:
        _put_u8(f, tr, "configuration marker", QEMU_VM_CONFIGURATION)
        if tr:
            tr.section = "configuration"
        desc = vmdesc if (vmdesc is not None and reg.major >= 10) else None
        if desc is not None:
            desc.start_object(None)
            desc.start_object("configuration")
        vmstate_save_state(f, vmstate_configuration, SaveState(reg), desc)
        if desc is not None:
            desc.end_object()
        if tr:
            tr.section = None


def _is_active(se: SaveStateEntry) -> bool:
    return se.ops.is_active is None or bool(se.ops.is_active(se.opaque))


def qemu_savevm_state_setup(f: QEMUFile, reg: SaveVMState, vmdesc: JSONWriter | None) -> None:
    tr = _trace.ACTIVE
    if vmdesc is not None and reg.major >= 10:
        vmdesc.int64("page_size", reg.page_size)
        vmdesc.start_array("devices")
    if tr:
        tr.qemu("savevm_state_setup", offset=f.tell())
    for se in reg.handlers:
        if reg.major >= 10 and se.vmsd is not None and se.vmsd.early_setup:
            vmstate_save(f, se, vmdesc, reg)
            continue
        if se.ops is None or se.ops.save_setup is None or not _is_active(se):
            continue
        if tr:
            tr.section = se.idstr
        save_section_header(f, se, QEMU_VM_SECTION_START)
        ret = se.ops.save_setup(f, se.opaque)
        save_section_footer(f, se, reg)
        if tr:
            tr.section = None
        if ret and ret < 0:
            raise VMStateError(f"save_setup of {se.idstr} failed ({ret})", path=se.idstr)


def qemu_savevm_state_iterate(f: QEMUFile, reg: SaveVMState) -> int:
    """One pass over the iterative handlers; 1 when all have finished."""
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("savevm_state_iterate", offset=f.tell())
    all_finished = True
    for se in reg.handlers:
        if se.ops is None or se.ops.save_live_iterate is None or not _is_active(se):
            continue
        if se.ops.is_active_iterate is not None and not se.ops.is_active_iterate(se.opaque):
            continue
        if tr:
            tr.section = se.idstr
            tr.qemu("savevm_section_start", se.idstr, se.section_id)
        save_section_header(f, se, QEMU_VM_SECTION_PART)
        ret = se.ops.save_live_iterate(f, se.opaque)
        if tr:
            tr.qemu("savevm_section_end", se.idstr, se.section_id, ret)
        save_section_footer(f, se, reg)
        if tr:
            tr.section = None
        if ret < 0:
            raise VMStateError(f"iterate of {se.idstr} failed ({ret})", path=se.idstr)
        if ret == 0:
            all_finished = False
    return 1 if all_finished else 0


def qemu_savevm_command_send(f: QEMUFile, command: int, data: bytes = b"") -> None:
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("savevm_command_send", command, len(data), offset=f.tell())
    _put_u8(f, tr, "command marker", QEMU_VM_COMMAND)
    o = f.tell()
    f.put_be16(command)
    if tr is not None and tr.leaves:
        _frame(tr, "frame_put", f, o, "command", "uint16", command)
    o = f.tell()
    f.put_be16(len(data))
    if tr is not None and tr.leaves:
        _frame(tr, "frame_put", f, o, "command length", "uint16", len(data))
    if data:
        o = f.tell()
        f.put_buffer(data)
        _frame(tr, "frame_put", f, o, "command data", "buffer", bytes(data))


def qemu_savevm_maybe_send_switchover_start(f: QEMUFile, reg: SaveVMState) -> None:
    if reg.switchover_start():
        tr = _trace.ACTIVE
        if tr:
            tr.qemu("savevm_send_switchover_start")
        qemu_savevm_command_send(f, MIG_CMD_SWITCHOVER_START)


def qemu_savevm_state_complete_precopy(f: QEMUFile, reg: SaveVMState,
                                       vmdesc: JSONWriter | None) -> None:
    """The END pieces of iterative handlers, then every device's FULL
    section (this is where CPU and device state is saved), EOF, the JSON."""
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("savevm_state_complete_precopy", offset=f.tell())
    for se in reg.handlers:
        if se.ops is None or se.ops.save_live_complete_precopy is None or not _is_active(se):
            continue
        if tr:
            tr.section = se.idstr
            tr.qemu("savevm_section_start", se.idstr, se.section_id)
        save_section_header(f, se, QEMU_VM_SECTION_END)
        ret = se.ops.save_live_complete_precopy(f, se.opaque)
        if tr:
            tr.qemu("savevm_section_end", se.idstr, se.section_id, ret)
        save_section_footer(f, se, reg)
        if tr:
            tr.section = None
            tr.qemu("vmstate_downtime_save", "iterable", se.idstr, se.instance_id, 0)
        if ret and ret < 0:
            raise VMStateError(f"complete of {se.idstr} failed ({ret})", path=se.idstr)
    if tr:
        tr.qemu("vmstate_downtime_checkpoint", "src-iterable-saved")
    qemu_savevm_state_complete_precopy_non_iterable(f, reg, vmdesc)


def qemu_savevm_state_complete_precopy_non_iterable(f: QEMUFile, reg: SaveVMState,
                                                    vmdesc: JSONWriter | None) -> None:
    tr = _trace.ACTIVE
    if vmdesc is not None and reg.major < 10:
        vmdesc.start_object(None)
        vmdesc.int64("page_size", reg.page_size)
        vmdesc.start_array("devices")
    for se in reg.handlers:
        if reg.major >= 10 and se.vmsd is not None and se.vmsd.early_setup:
            continue
        vmstate_save(f, se, vmdesc, reg)
        if tr:
            tr.qemu("vmstate_downtime_save", "non-iterable", se.idstr, se.instance_id, 0)
    _put_u8(f, tr, "EOF", QEMU_VM_EOF)
    if vmdesc is not None:
        vmdesc.end_array()
        vmdesc.end_object()
        if reg.send_vmdesc:
            text = vmdesc.get().encode("latin-1")
            _put_u8(f, tr, "vmdescription marker", QEMU_VM_VMDESCRIPTION)
            _put_u32(f, tr, "vmdescription length", len(text))
            o = f.tell()
            f.put_buffer(text)
            _frame(tr, "frame_put", f, o, "vmdescription", "json", None)
    if tr:
        tr.qemu("vmstate_downtime_checkpoint", "src-non-iterable-saved")


def qemu_savevm_state(f: QEMUFile, registry: SaveVMState, *, max_iterations: int = 1 << 20) -> int:
    """Write a whole stream: header, setup, iterate until done, complete."""
    reg = registry
    tr = _trace.ACTIVE
    if tr and tr.qemu_version is None:
        tr.qemu_version = reg.qemu_version
    _call(tr, "B", "qemu_savevm_state", f)
    vmdesc = JSONWriter()
    vmdesc.split_nullptr_runs = reg.major >= 9
    _call(tr, "B", "qemu_savevm_state_header", f)
    qemu_savevm_state_header(f, reg, vmdesc)
    _call(tr, "E", "qemu_savevm_state_header", f)
    _call(tr, "B", "qemu_savevm_state_setup", f)
    qemu_savevm_state_setup(f, reg, vmdesc)
    _call(tr, "E", "qemu_savevm_state_setup", f)
    passes = reg.iterations if reg.iterations is not None else max_iterations
    for _ in range(passes):
        _call(tr, "B", "qemu_savevm_state_iterate", f)
        done = qemu_savevm_state_iterate(f, reg)
        _call(tr, "E", "qemu_savevm_state_iterate", f)
        if done > 0 and reg.iterations is None:
            break
    else:
        if reg.iterations is None:
            raise VMStateError(f"iterative handlers did not finish in {max_iterations} passes")
    if tr:  # migration.c stops the VM here: downtime starts
        tr.qemu("vmstate_downtime_checkpoint", "src-downtime-start")
        tr.qemu("vmstate_downtime_checkpoint", "src-vm-stopped")
    qemu_savevm_maybe_send_switchover_start(f, reg)
    _call(tr, "B", "qemu_savevm_state_complete_precopy", f)
    qemu_savevm_state_complete_precopy(f, reg, vmdesc if reg.send_vmdesc else None)
    _call(tr, "E", "qemu_savevm_state_complete_precopy", f)
    if tr:
        tr.qemu("vmstate_downtime_checkpoint", "src-downtime-end")
        tr.qemu("savevm_state_cleanup")
    _call(tr, "E", "qemu_savevm_state", f)
    return 0


# ---------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------

def vmstate_load(f: QEMUFile, se: SaveStateEntry) -> int:
    tr = _trace.ACTIVE
    if tr:
        tr.qemu("vmstate_load", se.idstr, se.vmsd.name if se.vmsd else "(old)")
    if se.vmsd is None:
        return se.ops.load_state(f, se.opaque, se.load_version_id) or 0
    return vmstate_load_state(f, se.vmsd, se.opaque, se.load_version_id)


def check_section_footer(f: QEMUFile, se: SaveStateEntry, reg: SaveVMState) -> None:
    if reg.send_section_footer is None:
        # a stream reader, not QEMU, learns it from the first section: machine
        # types before 2.4 (pc-i440fx-2.3 and older) send no footers
        reg.send_section_footer = f.peek_byte(0) == QEMU_VM_SECTION_FOOTER
    if not reg.send_section_footer:
        return
    tr = _trace.ACTIVE
    o = f.tell()
    mark = _get_u8(f, tr, "section footer")
    if mark != QEMU_VM_SECTION_FOOTER:
        raise SectionError(f"Missing section footer for {se.idstr} (found 0x{mark:02x})",
                           offset=o, path=se.idstr)
    o = f.tell()
    sid = _get_u32(f, tr, "footer section id")
    if sid != se.load_section_id:
        raise SectionError(f"Mismatched section id in footer for {se.idstr} - read 0x{sid:x} "
                           f"expected 0x{se.load_section_id:x}", offset=o, path=se.idstr)


def qemu_loadvm_section_start_full(f: QEMUFile, reg: SaveVMState, section_type: int) -> None:
    tr = _trace.ACTIVE
    start = f.tell() - 1
    section_id = _get_u32(f, tr, "section id")
    idstr = _get_str(f, tr, "idstr")
    instance_id = _get_u32(f, tr, "instance id")
    version_id = _get_u32(f, tr, "version id")
    if tr:
        tr.section = idstr
        tr.qemu("qemu_loadvm_state_section_startfull", section_id, idstr, instance_id, version_id)
    try:
        se = reg.find_se(idstr, instance_id)
    except VMStateError as e:  # a registry that builds entries may refuse one
        if e.offset is None:
            e.offset = start
        raise
    if se is None:
        raise SectionError(f"Unknown savevm section or instance '{idstr}' {instance_id}",
                           offset=start, path=idstr)
    if version_id > se.version_id:
        raise VersionError(f"savevm: unsupported version {version_id} for '{idstr}' "
                           f"v{se.version_id}", offset=start, path=idstr)
    se.load_version_id = version_id
    se.load_section_id = section_id
    if tr:
        _call(tr, "B", "vmstate_load", f, idstr)
    try:
        vmstate_load(f, se)
        if tr and section_type == QEMU_VM_SECTION_FULL:
            tr.qemu("vmstate_downtime_load", "non-iterable", se.idstr, se.instance_id, 0)
        check_section_footer(f, se, reg)
        reg.section_loaded(section_type, se, start, f.tell())
    except VMStateError as e:
        e.add_context(idstr, "section")
        raise
    finally:
        if tr:
            _call(tr, "E", "vmstate_load", f, idstr)
            tr.section = None


def qemu_loadvm_section_part_end(f: QEMUFile, reg: SaveVMState, section_type: int) -> None:
    tr = _trace.ACTIVE
    start = f.tell() - 1
    section_id = _get_u32(f, tr, "section id")
    if tr:
        tr.qemu("qemu_loadvm_state_section_partend", section_id)
    se = next((s for s in reg.handlers if s.load_section_id == section_id and
               (s.ops is not None or s.vmsd is not None)), None)
    if se is None:
        raise SectionError(f"Unknown savevm section {section_id}", offset=start)
    if tr:
        tr.section = se.idstr
        _call(tr, "B", "vmstate_load", f, se.idstr)
    try:
        vmstate_load(f, se)
        if tr and section_type == QEMU_VM_SECTION_END:
            tr.qemu("vmstate_downtime_load", "iterable", se.idstr, se.instance_id, 0)
        check_section_footer(f, se, reg)
        reg.section_loaded(section_type, se, start, f.tell())
    except VMStateError as e:
        e.add_context(se.idstr, "section")
        raise
    finally:
        if tr:
            _call(tr, "E", "vmstate_load", f, se.idstr)
            tr.section = None


def loadvm_process_command(f: QEMUFile, reg: SaveVMState) -> int:
    tr = _trace.ACTIVE
    start = f.tell() - 1
    o = f.tell()
    cmd = f.get_be16()
    _frame(tr, "frame_get", f, o, "command", "uint16", cmd)
    o = f.tell()
    ln = f.get_be16()
    _frame(tr, "frame_get", f, o, "command length", "uint16", ln)
    if cmd not in MIG_CMDS or cmd == 0:
        raise SectionError(f"MIG_CMD 0x{cmd:x} unknown (len 0x{ln:x})", offset=start)
    name, want = MIG_CMDS[cmd]
    if tr:
        tr.qemu("loadvm_process_command", name, ln)
    if want != -1 and want != ln:
        raise SectionError(f"{name} received with bad length - expecting {want}, got {ln}",
                           offset=start)
    if ln:
        o = f.tell()
        data = f.get_buffer(ln)
        _frame(tr, "frame_get", f, o, "command data", "buffer", data)
    reg.loaded_commands = getattr(reg, "loaded_commands", []) + [(cmd, start)]
    return 0


def qemu_loadvm_state_header(f: QEMUFile, reg: SaveVMState) -> None:
    tr = _trace.ACTIVE
    o = f.tell()
    v = _get_u32(f, tr, "file magic")
    if v != QEMU_VM_FILE_MAGIC:
        raise SectionError(f"Not a migration stream (magic 0x{v:08x})", offset=o)
    o = f.tell()
    v = _get_u32(f, tr, "file version")
    if v == QEMU_VM_FILE_VERSION_COMPAT:
        raise SectionError("SaveVM v2 format is obsolete and don't work anymore", offset=o)
    if v != QEMU_VM_FILE_VERSION:
        raise SectionError(f"Unsupported migration stream version {v}", offset=o)
    if reg.send_configuration:
        o = f.tell()
        if _get_u8(f, tr, "configuration marker") != QEMU_VM_CONFIGURATION:
            raise SectionError("Configuration section missing", offset=o)
        state = SaveState(reg)
        if tr:
            tr.section = "configuration"
        try:
            vmstate_load_state(f, vmstate_configuration, state, 0)
            reg.loaded_config_state = state
        except VMStateError as e:
            e.add_context("configuration", "section")
            raise
        finally:
            if tr:
                tr.section = None


def qemu_loadvm_state_main(f: QEMUFile, reg: SaveVMState) -> int:
    tr = _trace.ACTIVE
    for _ in range(LIMITS.max_sections):
        o = f.tell()
        section_type = _get_u8(f, tr, "section type")
        if tr:
            tr.qemu("qemu_loadvm_state_section", section_type, offset=o)
        if section_type in (QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL):
            qemu_loadvm_section_start_full(f, reg, section_type)
        elif section_type in (QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END):
            qemu_loadvm_section_part_end(f, reg, section_type)
        elif section_type == QEMU_VM_COMMAND:
            ret = loadvm_process_command(f, reg)
            if tr:
                tr.qemu("qemu_loadvm_state_section_command", ret)
        elif section_type == QEMU_VM_EOF:
            return 0
        else:
            raise SectionError(f"Unknown savevm section type {section_type}", offset=o)
    raise LimitExceeded(f"more than {LIMITS.max_sections} sections", offset=f.tell())


def qemu_loadvm_state(f: QEMUFile, registry: SaveVMState) -> int:
    """Read a whole stream into the registered handlers, with QEMU's checks."""
    reg = registry
    tr = _trace.ACTIVE
    if tr and tr.qemu_version is None:
        tr.qemu_version = reg.qemu_version
    _call(tr, "B", "qemu_loadvm_state", f)
    qemu_loadvm_state_header(f, reg)
    if tr:
        tr.qemu("loadvm_state_setup")
    ret = qemu_loadvm_state_main(f, reg)
    if tr:
        tr.qemu("qemu_loadvm_state_post_main", ret)
    reg.loaded_vmdesc = None
    if reg.send_vmdesc and f.remaining() > 0:
        o = f.tell()
        mark = _get_u8(f, tr, "vmdescription marker")
        if mark != QEMU_VM_VMDESCRIPTION:
            raise SectionError(f"Expected vmdescription section, but got {mark}", offset=o)
        size = _get_u32(f, tr, "vmdescription length")
        if size > LIMITS.max_json:
            raise LimitExceeded(f"JSON description of {size} bytes exceeds the limit "
                                f"{LIMITS.max_json}", offset=o + 1, path="vmdescription")
        o = f.tell()
        reg.loaded_vmdesc = f.get_buffer(size)
        _frame(tr, "frame_get", f, o, "vmdescription", "json", None)
    if tr:
        tr.qemu("loadvm_state_cleanup")
    _call(tr, "E", "qemu_loadvm_state", f)
    return ret


def loaded_vmdesc_json(reg: SaveVMState) -> dict | None:
    """The JSON description a load found, parsed (None if there was none)."""
    if reg.loaded_vmdesc is None:
        return None
    try:
        return json.loads(reg.loaded_vmdesc.decode("latin-1"))
    except ValueError as e:
        raise VMStateError(f"JSON description does not parse: {e}",
                           path="vmdescription") from None
