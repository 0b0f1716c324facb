"""Edit a loaded stream: read and set a field by section, instance and path
(``cpu``, 0, ``env.gpr[10]``) or by register name (``a0``, ``rax``, ``x0``,
``r3``), with the value checked against the field's type and width.

Saving (``Stream.to_bytes``) runs the descriptions' ``pre_save`` hooks, so
with the hand-written CPU descriptions (``descriptions="arch"``) the wire
form that depends on other state (ARM ``cpsr``, x86 ``eflags``) follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .arch.registers import MODEL_ATTRIBUTES, arch_family, register_path, stream_arch
from .errors import VMStateError
from .fields import VMS_ARRAY_OF_POINTER, VMS_STRUCT, VMS_VSTRUCT, VMStateDescription, VMStateField
from .info import vmstate_info_bool
from .stream import Stream

_INDEX = re.compile(r"^\[(\d+)\]")


@dataclass
class Target:
    """Where a value lives: the field, the object holding it, the element index."""

    vmsd: VMStateDescription
    field: VMStateField
    obj: Any
    index: int | None

    def get(self) -> Any:
        value = self.field.accessor.get(self.obj)
        if self.index is None:
            return value
        return value[(self.field.start or 0) + self.index]

    def set(self, value: Any) -> None:
        if self.index is None:
            self.field.accessor.set(self.obj, value)
        else:
            seq = self.field.accessor.get(self.obj)
            seq[(self.field.start or 0) + self.index] = value


def resolve(vmsd: VMStateDescription, opaque: Any, path: str) -> Target | None:
    """Find ``path`` (``env.gpr[10]``, ``env.segs[1].base``, ``pmp/env...``)
    among the fields of ``vmsd``, its structs and its subsections."""
    for field in vmsd.fields:
        if field is None:
            continue
        name = field.name
        if path == name:
            return Target(vmsd, field, opaque, None)
        if not path.startswith(name):
            continue
        rest = path[len(name):]
        index = None
        m = _INDEX.match(rest)
        if m:
            index = int(m.group(1))
            rest = rest[m.end():]
        if field.flags & (VMS_STRUCT | VMS_VSTRUCT) and rest.startswith("."):
            value = field.accessor.get_or_none(opaque)
            elem = value[(field.start or 0) + index] if index is not None else value
            if elem is None:
                continue
            found = resolve(field.vmsd, elem, rest[1:])
            if found is not None:
                return found
        elif rest == "" and index is not None and field.is_list:
            return Target(vmsd, field, opaque, index)
    for sub in vmsd.subsections:
        short = sub.name[len(vmsd.name) + 1:] if sub.name.startswith(vmsd.name + "/") else sub.name
        for prefix in (sub.name + ":", short + ":", sub.name + "/", short + "/"):
            if path.startswith(prefix):
                found = resolve(sub, opaque, path[len(prefix):])
                if found is not None:
                    return found
        found = resolve(sub, opaque, path)
        if found is not None:
            return found
    return None


def check_value(target: Target, value: Any) -> Any:
    """``value`` converted to what the field holds, or a clear error."""
    field = target.field
    info = field.info
    where = f"{target.vmsd.name}/{field.name}" + (f"[{target.index}]" if target.index is not None
                                                  else "")
    if field.flags & (VMS_STRUCT | VMS_VSTRUCT) or field.flags & VMS_ARRAY_OF_POINTER and \
            info is None:
        raise VMStateError(f"{where} is a struct; set one of its fields instead")
    if isinstance(value, str):
        text = value.strip()
        if info is vmstate_info_bool and text.lower() in ("true", "false"):
            value = text.lower() == "true"
        elif info is not None and info.fmt is None and info.width is None or \
                info is not None and info.name in ("buffer", "unused_buffer"):
            try:
                value = bytes.fromhex(text.replace(" ", ""))
            except ValueError:
                raise VMStateError(f"{where}: {value!r} is not hex bytes") from None
        else:
            try:
                value = int(text, 0)
            except ValueError:
                raise VMStateError(f"{where}: {value!r} is not a number") from None
    if info is vmstate_info_bool:
        if value not in (0, 1, True, False):
            raise VMStateError(f"{where} is a bool, not {value!r}")
        return bool(value)
    if isinstance(value, (bytes, bytearray)):
        cur = target.get()
        if not isinstance(cur, (bytes, bytearray)) or len(cur) != len(value):
            n = len(cur) if isinstance(cur, (bytes, bytearray)) else "?"
            raise VMStateError(f"{where} holds {n} bytes, got {len(value)}")
        return type(cur)(value)
    if not isinstance(value, int):
        raise VMStateError(f"{where}: cannot store {value!r}")
    width = info.width if info is not None and info.width else 8
    bits = 8 * width
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info is not None and info.signed \
        else (0, (1 << bits) - 1)
    if info is not None and info.fmt is None and info.width and info.name not in (
            "float64", "CPU_Double_U", "timer") and not info.name.endswith(("equal", "le")):
        raise VMStateError(f"{where} has type {info.name}; give hex bytes")
    if not lo <= value <= hi:
        raise VMStateError(f"{where} is {info.name if info else 'an integer'} "
                           f"({bits} bits): {value:#x} does not fit")
    return value


def find(stream: Stream, section: str, instance: int, path_or_register: str) -> Target:
    """The target of a field path or a register name in one section."""
    se = next((e for e in stream.registry.handlers
               if e.idstr == section and e.instance_id == instance), None)
    if se is None or se.vmsd is None:
        raise VMStateError(f"no VMState section {section!r} instance {instance} in the stream")
    target = resolve(se.vmsd, se.opaque, path_or_register)
    if target is None and section == "cpu":
        arch = stream_arch(stream.vmdesc)
        if arch is not None:
            model = MODEL_ATTRIBUTES.get(arch_family(arch), {}).get(path_or_register.lower())
            if model is not None and _has_path(se.opaque, model):
                return _model_target(se, model)
            try:
                path, index = register_path(arch, path_or_register)
            except KeyError:
                path = None
            if path is not None:
                target = resolve(se.vmsd, se.opaque,
                                 path + (f"[{index}]" if index is not None else ""))
    if target is None:
        raise VMStateError(f"{section}:{instance} has no field or register {path_or_register!r}",
                           path=section)
    return target


def _has_path(obj: Any, path: str) -> bool:
    from .fields import Accessor
    try:
        Accessor(path).get(obj)
        return True
    except (AttributeError, IndexError, KeyError, TypeError):
        return False


def _model_target(se: Any, path: str) -> Target:
    """A register a hand-written model keeps outside the wire fields (its
    pre_save puts it on the wire): edited as a 64-bit value."""
    from .fields import VMStateField
    from .info import vmstate_info_uint64
    return Target(se.vmsd, VMStateField(path, info=vmstate_info_uint64, size=8), se.opaque, None)


def get_value(stream: Stream, section: str, instance: int, name: str) -> Any:
    return find(stream, section, instance, name).get()


def set_value(stream: Stream, section: str, instance: int, name: str, value: Any) -> Any:
    """Set a field or register; returns the old value."""
    target = find(stream, section, instance, name)
    new = check_value(target, value)
    old = target.get()
    target.set(new)
    return old


_SPEC = re.compile(r"^(?P<sec>.+):(?P<inst>\d+):(?P<name>[^=]+)=(?P<value>.*)$")


def parse_set(spec: str) -> tuple[str, int, str, str]:
    """``cpu:0:a0=0x1234`` → (``cpu``, 0, ``a0``, ``0x1234``); section names may
    contain colons (``0000:00:01.0/piix4_pm``)."""
    m = _SPEC.match(spec)
    if not m:
        raise VMStateError(f"--set {spec!r}: expected SECTION:INSTANCE:FIELD=VALUE")
    return m["sec"], int(m["inst"]), m["name"], m["value"]


def _show(x: Any) -> Any:
    return hex(x) if isinstance(x, int) and not isinstance(x, bool) else x


def edit_main(ns: Any) -> int:
    """``vmstate-edu edit FILE --set ... -o OUT`` (written atomically)."""
    from .stream import load_stream

    s = load_stream(ns.file, descriptions="arch")
    for spec in ns.set:
        sec, inst, name, value = parse_set(spec)
        old = set_value(s, sec, inst, name, value)
        new = get_value(s, sec, inst, name)
        print(f"{sec}:{inst}:{name}\t{_show(old)} -> {_show(new)}")
    s.save(ns.output)
    return 0
