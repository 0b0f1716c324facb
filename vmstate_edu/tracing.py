"""Tracing: QEMU's trace events plus one record per byte-carrying leaf.

QEMU declares its events in ``migration/trace-events`` and prints them with
the ``log`` backend as ``name args``. We record the same events (with the
same names and arguments) and, beside them, a record for every field
element put or got and every framing item (section headers, subsection
markers, footers), so that the leaf records tile the stream exactly.

Use::

    with vmstate_edu.trace() as t:
        qemu_savevm_state(f, registry)
    t.qemu_log("7.2")       # lines as QEMU 7.2's log backend prints them
    t.to_dataframe()        # every record as a pandas DataFrame
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The events we emit, in trace-events syntax, per QEMU release. Formats are
# QEMU's; ``tests/test_trace_formats.py`` checks them against the
# trace-events file captured with the real streams.
_COMMON = r'''
vmstate_save_state_top(const char *idstr) "%s"
vmstate_save_state_pre_save_res(const char *name, int res) "%s/%d"
vmstate_n_elems(const char *name, int n_elems) "%s: %d"
vmstate_save_state_loop(const char *name, const char *field, int n_elems) "%s/%s[%d]"
vmstate_subsection_save_top(const char *idstr) "%s"
vmstate_subsection_save_loop(const char *name, const char *sub) "%s/%s"
vmstate_load_state(const char *name, int version_id) "%s v%d"
vmstate_load_state_end(const char *name, const char *reason, int val) "%s %s/%d"
vmstate_load_field_error(const char *field, int ret) "field \"%s\" load failed, ret = %d"
vmstate_subsection_load(const char *parent) "%s"
vmstate_subsection_load_bad(const char *parent,  const char *sub, const char *sub2) "%s: %s/%s"
vmstate_subsection_load_good(const char *parent) "%s"
vmstate_save(const char *idstr, const char *vmsd_name) "%s, %s"
vmstate_load(const char *idstr, const char *vmsd_name) "%s, %s"
get_qtailq(const char *name, int version_id) "%s v%d"
get_qtailq_end(const char *name, const char *reason, int val) "%s %s/%d"
put_qtailq(const char *name, int version_id) "%s v%d"
put_qtailq_end(const char *name, const char *reason) "%s %s"
get_qlist(const char *field_name, const char *vmsd_name, int version_id) "%s(%s v%d)"
get_qlist_end(const char *field_name, const char *vmsd_name) "%s(%s)"
put_qlist(const char *field_name, const char *vmsd_name, int version_id) "%s(%s v%d)"
put_qlist_end(const char *field_name, const char *vmsd_name) "%s(%s)"
get_gtree(const char *field_name, const char *key_vmsd_name, const char *val_vmsd_name, uint32_t nnodes) "%s(%s/%s) nnodes=%d"
get_gtree_end(const char *field_name, const char *key_vmsd_name, const char *val_vmsd_name, int ret) "%s(%s/%s) %d"
put_gtree(const char *field_name, const char *key_vmsd_name, const char *val_vmsd_name, uint32_t nnodes) "%s(%s/%s) nnodes=%d"
put_gtree_end(const char *field_name, const char *key_vmsd_name, const char *val_vmsd_name, int ret) "%s(%s/%s) %d"
savevm_command_send(uint16_t command, uint16_t len) "com=0x%x len=%d"
savevm_section_start(const char *id, unsigned int section_id) "%s, section_id %u"
savevm_section_end(const char *id, unsigned int section_id, int ret) "%s, section_id %u -> %d"
savevm_section_skip(const char *id, unsigned int section_id) "%s, section_id %u"
savevm_state_setup(void) ""
savevm_state_header(void) ""
savevm_state_iterate(void) ""
savevm_state_cleanup(void) ""
qemu_loadvm_state_section(unsigned int section_type) "%d"
qemu_loadvm_state_section_command(int ret) "%d"
qemu_loadvm_state_section_partend(uint32_t section_id) "%u"
qemu_loadvm_state_post_main(int ret) "%d"
qemu_loadvm_state_section_startfull(uint32_t section_id, const char *idstr, uint32_t instance_id, uint32_t version_id) "%u(%s) %u %u"
loadvm_state_setup(void) ""
loadvm_state_cleanup(void) ""
loadvm_process_command(const char *s, uint16_t len) "com=%s len=%d"
'''
_ONLY_72 = r'''
savevm_state_complete_precopy(void) ""
vmstate_load_state_field(const char *name, const char *field) "%s:%s"
'''
_ONLY_100 = r'''
vmstate_load_state_field(const char *name, const char *field, bool exists) "%s:%s exists=%d"
vmstate_field_exists(const char *vmsd, const char *name, int field_version, int version, int result) "%s:%s field_version %d version %d result %d"
savevm_send_switchover_start(void) ""
vmstate_downtime_save(const char *type, const char *idstr, uint32_t instance_id, int64_t downtime) "type=%s idstr=%s instance_id=%d downtime=%"PRIi64
vmstate_downtime_load(const char *type, const char *idstr, uint32_t instance_id, int64_t downtime) "type=%s idstr=%s instance_id=%d downtime=%"PRIi64
vmstate_downtime_checkpoint(const char *checkpoint) "%s"
'''

def _arg_type(arg: str) -> str:
    """``"const char *name"`` -> ``"const char*"``: the C type, pointer kept."""
    arg = arg.strip()
    m = re.search(r"\w+$", arg)
    ctype = arg[:m.start()] if m and m.start() > 0 else arg
    return re.sub(r"\s*\*\s*", "*", ctype.strip())


def parse_trace_events(text: str) -> dict[str, tuple[list[str], str]]:
    """Parse trace-events lines into ``{name: (arg C types, printf format)}``."""
    out: dict[str, tuple[list[str], str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r'"\s*PRI([diux])\d+\s*"', r'\1', line)  # "%" PRIx64 " -> %x
        line = re.sub(r'"\s*PRI([diux])\d+\s*$', r'\1"', line)  # ...%"PRIi64 -> %i"
        line = line.replace('%%', '%')
        m = re.match(r'^(?:disable\s+)?(\w+)\((.*?)\)\s+"(.*)"\s*$', line)
        if not m:
            continue
        name, args, fmt = m.groups()
        types = [] if args.strip() in ("", "void") else [
            _arg_type(a) for a in args.split(",")]
        out[name] = (types, fmt.replace('\\"', '"'))
    return out


EVENTS: dict[str, dict[str, tuple[list[str], str]]] = {
    "7.2": parse_trace_events(_COMMON + _ONLY_72),
    "10.0": parse_trace_events(_COMMON + _ONLY_100),
}

_SPEC = re.compile(r"%(-?\d*)(l{0,2}|z)([diuxXsp])")


def _c_int(value: Any, ctype: str, conv: str) -> int:
    v = int(value)
    # The argument is first converted to its declared type (a bool is 0/1,
    # a uint16_t keeps 16 bits), then promoted for printf.
    if ctype == "bool":
        v = 1 if v else 0
    else:
        narrow = re.fullmatch(r"(u?)int(8|16)_t", ctype)
        if narrow:
            nbits = int(narrow.group(2))
            v &= (1 << nbits) - 1
            if not narrow.group(1) and v >= 1 << (nbits - 1):
                v -= 1 << nbits
    if conv in "di":
        bits = 64 if "64" in ctype else 32
        v &= (1 << bits) - 1
        if v >= 1 << (bits - 1):
            v -= 1 << bits
    elif conv in "uxX":
        bits = 64 if "64" in ctype or ctype == "size_t" else 32
        v &= (1 << bits) - 1
    return v


def format_event(name: str, args: tuple, version: str = "10.0") -> str | None:
    """One line exactly as QEMU's log backend prints it, or None if this
    QEMU release has no such event."""
    spec = EVENTS[_norm_version(version)].get(name)
    if spec is None:
        return None
    types, fmt = spec
    i = 0
    parts: list[str] = []
    pos = 0
    for m in _SPEC.finditer(fmt):
        parts.append(fmt[pos:m.start()])
        width, _, conv = m.groups()
        ctype = types[i] if i < len(types) else "int"
        val = args[i] if i < len(args) else ""
        i += 1
        if conv == "s":
            text = str(val)
        elif conv in "xX":
            text = format(_c_int(val, ctype, conv), conv)
        else:
            text = str(_c_int(val, ctype, conv))
        if width:
            w = int(width)
            text = text.ljust(-w) if w < 0 else text.rjust(w)
        parts.append(text)
        pos = m.end()
    parts.append(fmt[pos:])
    return f"{name} {''.join(parts)}"


def _norm_version(version: str | tuple | None) -> str:
    if version is None:
        return "10.0"
    if isinstance(version, tuple):
        version = ".".join(str(x) for x in version[:2])
    major = str(version).split(".")[0]
    return "7.2" if int(major) < 8 else "10.0"


COLUMNS = ("seq", "event", "kind", "depth", "section", "vmsd", "field", "index", "info",
           "offset", "size", "value", "raw", "args")


class Event:
    """One trace record. ``kind`` is ``qemu`` (a QEMU trace event), ``field``
    (a field element put or got), ``frame`` (stream framing) or ``call``
    (entering or leaving a function, for call-chain views)."""

    __slots__ = COLUMNS

    def __init__(self, *values):
        for k, v in zip(COLUMNS, values):
            setattr(self, k, v)

    @property
    def leaf(self) -> bool:
        return self.kind in ("field", "frame")

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in COLUMNS}

    def __repr__(self) -> str:
        core = ", ".join(f"{k}={getattr(self, k)!r}" for k in COLUMNS
                         if getattr(self, k) not in (None, ()) and k != "raw")
        return f"Event({core})"


_INT_COLS = ("seq", "depth", "size")
_NULLABLE_COLS = ("offset", "index")
_CATEGORY_COLS = ("event", "kind", "section", "vmsd", "info")


class Tracer:
    """Collects events; the engine calls it only while it is active."""

    def __init__(self, qemu_version: str | None = None, leaves: bool = True):
        self._items: list = []  # records without their seq, or deferred runs
        self._rows: list[tuple] = []
        self._done = 0
        self.depth = 0
        self.section: str | None = None
        self.vmsd: str | None = None
        self.prefix = ""  # field path of the enclosing struct elements
        self.qemu_version = qemu_version
        self.leaves = leaves

    # -- what the engine calls --------------------------------------------
    def qemu(self, name: str, *args, offset: int | None = None) -> None:
        self._items.append((name, "qemu", self.depth, self.section, self.vmsd,
                            None, None, None, offset, 0, None, None, args))

    def leaf(self, kind: str, event: str, field: str | None, index: int | None, info: str | None,
             offset: int, size: int, value: Any, raw: bytes | None) -> None:
        self._items.append((event, kind, self.depth, self.section, self.vmsd,
                            field, index, info, offset, size, value, raw, ()))

    def call(self, phase: str, func: str, offset: int | None, detail: str | None = None) -> None:
        self._items.append((func, "call", self.depth, self.section, self.vmsd,
                            detail, None, phase, offset, 0, None, None, ()))

    def defer(self, expand: Any) -> None:
        """A run of fields recorded in one piece (see :mod:`vmstate_edu.plan`):
        ``expand(emit)`` produces its records, in order, when they are read."""
        self._items.append(expand)

    @property
    def rows(self) -> list[tuple]:
        """Every record as a tuple in :data:`COLUMNS` order (deferred runs are
        expanded here, once)."""
        if self._done < len(self._items):
            rows = self._rows
            append = rows.append

            def emit(rec: tuple) -> None:
                append((len(rows),) + rec)

            for it in self._items[self._done:]:
                if type(it) is tuple:
                    append((len(rows),) + it)
                else:
                    it(emit)
            self._done = len(self._items)
        return self._rows

    @rows.setter
    def rows(self, rows: list[tuple]) -> None:
        """Replace the records (e.g. rows kept from another trace)."""
        self._items, self._rows = [], list(rows)
        self._done = 0

    # -- what a reader uses -------------------------------------------------
    @property
    def events(self) -> list[Event]:
        return [Event(*r) for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        # The engine tests ``if tr:``; an active tracer with no rows yet
        # must still count as active (``__len__`` alone would make it false).
        return True

    def leaves_only(self) -> list[Event]:
        return [Event(*r) for r in self.rows if r[2] in ("field", "frame")]

    def qemu_log(self, version: str | None = None) -> str:
        """QEMU's own events, one per line, as QEMU's ``-trace`` log prints them."""
        version = version or self.qemu_version or "10.0"
        lines = []
        for r in self.rows:
            if r[2] == "qemu":
                line = format_event(r[1], r[13], version)
                if line is not None:
                    lines.append(line)
        return "\n".join(lines) + ("\n" if lines else "")

    def to_dataframe(self):
        """All records as a pandas DataFrame (pandas is imported only here).
        Each column is built in one pass into its final type (int64,
        nullable Int64, categorical codes, object), with no re-conversion."""
        import gc
        from operator import itemgetter

        import numpy as np
        import pandas as pd

        rows = self.rows
        n = len(rows)
        data = {}
        enabled = gc.isenabled()
        gc.disable()  # millions of new objects, none cyclic: no collections midway
        try:
            for k, name in enumerate(COLUMNS):
                if name == "seq":  # records are numbered 0, 1, 2 … in order
                    data[name] = pd.Series(np.arange(n, dtype=np.int64))
                    continue
                data[name] = _column(name, list(map(itemgetter(k), rows)), n, np, pd)
        finally:
            if enabled:
                gc.enable()
        # the columns are fresh: let the frame own them instead of copying each
        return pd.DataFrame(data, columns=list(COLUMNS), copy=False)


def _column(name: str, col: list, n: int, np: Any, pd: Any) -> Any:
    """One DataFrame column in its final type."""
    if name in _INT_COLS:
        return pd.Series(np.fromiter(col, np.int64, n), dtype="int64")
    if name in _NULLABLE_COLS:  # offsets and indexes are never negative: -1 marks None
        vals = np.fromiter((-1 if x is None else x for x in col), np.int64, n)
        mask = vals == -1
        vals[mask] = 0
        return pd.Series(pd.arrays.IntegerArray(vals, mask))
    if name in _CATEGORY_COLS:  # few distinct names: code them through a dict
        lookup = {x: k for k, x in enumerate(x for x in set(col) if x is not None)}
        lookup[None] = -1
        codes = np.fromiter(map(lookup.__getitem__, col), np.int32, n)
        cats = [x for x in lookup if x is not None]
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object)))
    # fromiter stores each item as one object (a tuple value stays a tuple)
    return pd.Series(np.fromiter(col, dtype=object, count=n), dtype=object)


ACTIVE: Tracer | None = None


@contextmanager
def trace(qemu_version: str | None = None, leaves: bool = True) -> Iterator[Tracer]:
    """Record every event of the engine inside the ``with`` block
    (``leaves=False``: QEMU's events and calls only, no per-field records)."""
    global ACTIVE
    prev = ACTIVE
    t = Tracer(qemu_version, leaves=leaves)
    ACTIVE = t
    try:
        yield t
    finally:
        ACTIVE = prev


def parse_qemu_log(text: str, names: set[str] | None = None) -> list[str]:
    """Lines of a real QEMU log that are trace events (of ``names`` if given);
    other lines (firmware output, warnings) are dropped."""
    known = set(EVENTS["7.2"]) | set(EVENTS["10.0"]) if names is None else names
    out = []
    for line in text.splitlines():
        head = line.split(" ", 1)[0]
        if head in known:
            out.append(line if " " in line else line + " ")
    return out
