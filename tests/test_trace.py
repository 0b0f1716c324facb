"""Trace events: our declarations against QEMU's, C printf semantics, the
DataFrame view, and an inactive tracer."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest
from conftest import DATA, QEMU_SOURCES, save_bytes

import vmstate_edu as v
from vmstate_edu import tracing
from vmstate_edu.tracing import EVENTS, format_event, parse_trace_events

VERSIONS = ["7.2", "10.0"]


def _declared(ver: str) -> dict:
    path = DATA / f"qemu-{ver}" / "trace-events-migration.txt"
    if not path.exists():
        pytest.skip(f"{path} not present")
    return parse_trace_events(path.read_text())


@pytest.mark.parametrize("ver", VERSIONS)
def test_every_event_we_define_is_qemus(ver):
    real = _declared(ver)
    assert len(real) > 50
    for name, (types, fmt) in EVENTS[ver].items():
        assert name in real, f"{name} is not a QEMU {ver} trace event"
        assert real[name] == (types, fmt), name


@pytest.mark.parametrize("ver", VERSIONS)
def test_against_qemu_source_trace_events(ver):
    """The same check against migration/trace-events of the QEMU sources."""
    path = QEMU_SOURCES[ver] / "migration" / "trace-events"
    if not path.exists():
        pytest.skip(f"QEMU {ver} sources not at {path}")
    real = parse_trace_events(path.read_text())
    for name, spec in EVENTS[ver].items():
        assert real.get(name) == spec, name


def test_version_specific_events():
    assert "savevm_state_complete_precopy" in EVENTS["7.2"]
    assert "savevm_state_complete_precopy" not in EVENTS["10.0"]
    assert "vmstate_field_exists" in EVENTS["10.0"] and "vmstate_field_exists" not in EVENTS["7.2"]
    assert EVENTS["7.2"]["vmstate_load_state_field"][0] == ["const char*", "const char*"]
    assert EVENTS["10.0"]["vmstate_load_state_field"][0] == ["const char*", "const char*", "bool"]


def test_parse_trace_events_syntax():
    text = '''
# a comment
disable foo(int a, const char *s) "%d %s"
bar(void) ""
baz(uint64_t x, uint32_t y) "x=0x%" PRIx64 " y=%u"
qux(int64_t d) "d=%"PRIi64
'''
    ev = parse_trace_events(text)
    assert ev["foo"] == (["int", "const char*"], "%d %s")
    assert ev["bar"] == ([], "")
    assert ev["baz"] == (["uint64_t", "uint32_t"], "x=0x%x y=%u")
    assert ev["qux"] == (["int64_t"], "d=%i")


# ---------------------------------------------------------------------------
# format_event: C semantics
# ---------------------------------------------------------------------------

def test_percent_d_of_an_int_argument_wraps_like_c():
    assert format_event("vmstate_n_elems", ("f", 0x80000000)) == "vmstate_n_elems f: -2147483648"
    assert format_event("vmstate_n_elems", ("f", 0xFFFFFFFF)) == "vmstate_n_elems f: -1"
    assert format_event("vmstate_n_elems", ("f", 1 << 32)) == "vmstate_n_elems f: 0"


def test_percent_d_of_unsigned_argument():
    # qemu_loadvm_state_section(unsigned int section_type) "%d"
    assert format_event("qemu_loadvm_state_section", (0x80000000,)) == \
        "qemu_loadvm_state_section -2147483648"
    # instance_id is uint32_t printed with %d in vmstate_downtime_save
    line = format_event("vmstate_downtime_save", ("non-iterable", "x", 0xFFFFFFFF, 5), "10.0")
    assert line == "vmstate_downtime_save type=non-iterable idstr=x instance_id=-1 downtime=5"


def test_percent_u_and_x():
    assert format_event("savevm_section_start", ("ram", -1)) == \
        "savevm_section_start ram, section_id 4294967295"
    assert format_event("qemu_loadvm_state_section_partend", (-2,)) == \
        "qemu_loadvm_state_section_partend 4294967294"
    assert format_event("savevm_command_send", (11, 0)) == "savevm_command_send com=0xb len=0"
    assert format_event("qemu_loadvm_state_section_startfull", (3, "cpu", 0, 5)) == \
        "qemu_loadvm_state_section_startfull 3(cpu) 0 5"


def test_narrow_argument_types_truncate_first():
    # uint16_t command: only 16 bits reach printf
    assert format_event("savevm_command_send", (0x1000B, 0x10002)) == \
        "savevm_command_send com=0xb len=2"


def test_int64_argument():
    line = format_event("vmstate_downtime_save", ("iterable", "ram", 0, -(1 << 40)), "10.0")
    assert line.endswith(f"downtime={-(1 << 40)}")
    line = format_event("vmstate_downtime_save", ("iterable", "ram", 0, 1 << 63), "10.0")
    assert line.endswith(f"downtime={-(1 << 63)}")


def test_bool_prints_0_or_1():
    assert format_event("vmstate_load_state_field", ("d", "f", True), "10.0") == \
        "vmstate_load_state_field d:f exists=1"
    assert format_event("vmstate_load_state_field", ("d", "f", False), "10.0") == \
        "vmstate_load_state_field d:f exists=0"
    assert format_event("vmstate_load_state_field", ("d", "f", 2), "10.0") == \
        "vmstate_load_state_field d:f exists=1"


def test_version_selects_the_declaration():
    assert format_event("vmstate_load_state_field", ("d", "f", True), "7.2") == \
        "vmstate_load_state_field d:f"
    assert format_event("vmstate_field_exists", ("d", "f", 0, 1, 1), "7.2") is None
    assert format_event("savevm_state_complete_precopy", (), "10.0") is None
    assert format_event("savevm_state_complete_precopy", (), "7.2") == \
        "savevm_state_complete_precopy "
    assert format_event("no_such_event", ()) is None


def test_escaped_quote_in_format():
    assert format_event("vmstate_load_field_error", ("x", -5)) == \
        'vmstate_load_field_error field "x" load failed, ret = -5'


def test_empty_format_prints_name_and_space():
    # QEMU's log backend prints "name " + the formatted text, even when empty
    assert format_event("savevm_state_setup", ()) == "savevm_state_setup "


# ---------------------------------------------------------------------------
# Records, qemu_log, DataFrame
# ---------------------------------------------------------------------------

DEV = v.VMStateDescription("dev", 2, 1, fields=[
    v.VMSTATE_UINT32("a"), v.VMSTATE_UINT8_ARRAY("arr", 3),
    v.VMSTATE_UINT8_TEST("t", lambda o, ver: True)])
OBJ = NS(a=0x80000000, arr=[1, 2, 3], t=9)


def test_records_and_log_of_a_save():
    with v.trace() as t:
        data = save_bytes(DEV, OBJ)
    ev = t.events
    assert [e.seq for e in ev] == list(range(len(ev)))
    assert {e.kind for e in ev} <= {"qemu", "field", "frame", "call"}
    a = next(e for e in ev if e.kind == "field" and e.field == "a")
    assert (a.offset, a.size, a.value, a.raw, a.info, a.vmsd, a.index) == \
        (0, 4, 0x80000000, data[:4], "uint32", "dev", None)
    log10 = t.qemu_log("10.0").splitlines()
    assert log10[0] == "vmstate_save_state_top dev"
    assert "vmstate_n_elems arr: 3" in log10
    assert "vmstate_save_state_loop dev/arr[3]" in log10
    assert "vmstate_field_exists dev:t field_version 0 version 2 result 1" in log10
    assert log10[-1] == "vmstate_subsection_save_top dev"
    log72 = t.qemu_log("7.2").splitlines()
    assert not any(ln.startswith("vmstate_field_exists") for ln in log72)


def test_records_and_log_of_a_load():
    data = save_bytes(DEV, OBJ)
    with v.trace() as t:
        v.vmstate_load_state(v.QEMUFile(data), DEV, NS(), 2)
    log = t.qemu_log("10.0").splitlines()
    assert log[0] == "vmstate_load_state dev v2"
    assert "vmstate_load_state_field dev:a exists=1" in log
    assert log[-1] == "vmstate_load_state_end dev end/0"
    assert "vmstate_load_state_field dev:a" in t.qemu_log("7.2").splitlines()


def test_load_error_events():
    with v.trace() as t, pytest.raises(v.VersionError):
        v.vmstate_load_state(v.QEMUFile(b""), DEV, NS(), 3)
    assert t.qemu_log().splitlines()[-1] == "vmstate_load_state_end dev too new/-22"
    with v.trace() as t, pytest.raises(v.StreamTruncated):
        v.vmstate_load_state(v.QEMUFile(b"\0\0"), DEV, NS(), 2)
    assert 'vmstate_load_field_error field "a" load failed, ret = -5' in t.qemu_log()


def test_to_dataframe_columns_and_dtypes():
    pd = pytest.importorskip("pandas")
    with v.trace() as t:
        data = save_bytes(DEV, OBJ)
    df = t.to_dataframe()
    assert list(df.columns) == list(tracing.COLUMNS) == [
        "seq", "event", "kind", "depth", "section", "vmsd", "field", "index", "info",
        "offset", "size", "value", "raw", "args"]
    assert len(df) == len(t.events)
    for col in ("seq", "depth", "size"):
        assert df[col].dtype == "int64", col
    for col in ("offset", "index"):
        assert str(df[col].dtype) == "Int64", col
    for col in ("event", "kind", "section", "vmsd", "info"):
        assert isinstance(df[col].dtype, pd.CategoricalDtype), col
    leaves = df[df.kind.isin(["field", "frame"])]
    assert int(leaves["size"].sum()) == len(data)
    assert leaves["offset"].notna().all()
    assert df.loc[df.kind == "qemu", "index"].isna().all()
    row = df[(df.kind == "field") & (df.field == "arr")]
    assert list(row["index"]) == [0, 1, 2]
    assert list(row["raw"]) == [b"\x01", b"\x02", b"\x03"]


def test_to_dataframe_of_an_empty_trace():
    pytest.importorskip("pandas")
    with v.trace() as t:
        pass
    df = t.to_dataframe()
    assert len(df) == 0 and list(df.columns) == list(tracing.COLUMNS)
    assert df["seq"].dtype == "int64" and str(df["offset"].dtype) == "Int64"


def test_inactive_records_nothing():
    assert tracing.ACTIVE is None
    with v.trace() as t:
        pass
    save_bytes(DEV, OBJ)
    v.vmstate_load_state(v.QEMUFile(save_bytes(DEV, OBJ)), DEV, NS(), 2)
    assert len(t) == 0 and t.events == [] and t.qemu_log() == ""
    assert tracing.ACTIVE is None


def test_empty_tracer_is_still_active():
    """A Tracer with no rows yet is falsy by __len__ alone; the engine tests
    ``if tr:``, so the first save inside a fresh trace must still be traced."""
    with v.trace() as t:
        assert bool(t) is True
        save_bytes(DEV, OBJ)
    assert t.qemu_log().startswith("vmstate_save_state_top dev")


def test_nested_trace_restores_outer():
    with v.trace() as outer:
        with v.trace() as inner:
            save_bytes(DEV, OBJ)
        assert tracing.ACTIVE is outer
        save_bytes(DEV, OBJ)
    assert tracing.ACTIVE is None
    assert len(inner) > 0 and len(outer) > 0
    assert [e.event for e in inner.events] == [e.event for e in outer.events]


def test_parse_qemu_log_keeps_only_events():
    text = "OpenSBI v1.0\nsavevm_state_setup \nvmstate_n_elems x: 1\nrandom noise\n"
    assert tracing.parse_qemu_log(text) == ["savevm_state_setup ", "vmstate_n_elems x: 1"]
