"""Per-architecture register tables, measured from the committed streams."""

from __future__ import annotations

import pytest
from streams import stream_bytes

import vmstate_edu as v
from vmstate_edu.tables import (
    CATEGORIES,
    DEFAULT_CASES,
    compare_versions,
    default_tables,
    register_table,
    summary,
)


@pytest.fixture(scope="module", params=["7.2", "10.0"])
def tables(request):
    return request.param, default_tables(request.param)


def test_riscv_pc_and_mstatus_have_their_real_values(tables):
    ver, t = tables
    rv = t["riscv64"]
    s = v.load_stream(stream_bytes(f"qemu-{ver}/riscv64-virt-running"))
    cpu = s.device("cpu")
    pc = rv[rv.register == "pc"]
    assert len(pc) == 1 and pc.category.iloc[0] == "program counter"
    assert pc.value.iloc[0] == getattr(cpu, "env.pc") != 0
    ms = rv[rv.field == "env.mstatus"]
    assert ms.value.iloc[0] == getattr(cpu, "env.mstatus")
    a0 = rv[rv.register == "x10/a0"]
    assert a0.category.iloc[0] == "general-purpose" and a0.width.iloc[0] == 8


def test_every_cpu_field_in_exactly_one_category(tables):
    ver, t = tables
    for arch, df in t.items():
        assert set(df.category) <= set(CATEGORIES), arch
        assert df.category.notna().all()
        # the main registers land where an architecture manual puts them
        gp = df[df.category == "general-purpose"]
        assert len(gp) >= 16, arch
        assert (df.category == "program counter").sum() == 1, arch


def test_summary_covers_every_byte_of_each_cpu_section(tables):
    ver, t = tables
    summ = summary(t)
    for arch, case in DEFAULT_CASES.items():
        s = v.load_stream(stream_bytes(f"qemu-{ver}/{case}"))
        df = s.to_dataframe()
        field_bytes = int(df[df.section.isin(["cpu", "cpu_common"])]["size"].sum())
        assert int(summ["bytes"][arch].sum()) == field_bytes, arch
        # and those field bytes are the sections less their framing
        secs = [x for x in s.sections if x.idstr in ("cpu", "cpu_common")]
        framing = sum(x.size for x in secs) - field_bytes
        assert 0 < framing < 400, (arch, framing)


def test_version_comparison_riscv():
    old = v.load_stream(stream_bytes("qemu-7.2/riscv64-virt-running"))
    new = v.load_stream(stream_bytes("qemu-10.0/riscv64-virt-running"))
    diff = compare_versions(old, new)
    bump = diff[diff.change == "version bump"]
    assert list(bump["7.2"]) == ["v5"] and list(bump["10.0"]) == ["v10"]
    added = set(diff[diff.change == "added"].field)
    assert "cpu/timer:env.stimer" in added  # 10.0's new timer subsection
    assert "env.mtohost" in set(diff[diff.change == "removed"].field)


def test_x86_segment_and_register_names():
    s = v.load_stream(stream_bytes("qemu-10.0/x86_64-pc-running"))
    df = register_table(s, "x86_64")
    assert list(df[df.field == "env.regs"].register) == [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
    assert df[df.register == "rip"].value.iloc[0] == getattr(s.device("cpu"), "env.eip")
    assert set(df[df.field.str.startswith("env.segs")].category) == {"memory management"}
