"""Solutions to ``vmstate_edu.exercises`` — written the way a student would
work them out. ``SOLUTIONS[qid]()`` returns the answer for ``grader.check``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import vmstate_edu as v
from vmstate_edu.exercises import grader


def q1() -> int:
    m = grader.material("q1")
    header = 1 + 4 + 1 + len("cpu") + 4 + 4   # type, section id, idstr, instance, version
    return m.section_start + header + 8 * 8    # then env.regs: 8 x uint64


def q2() -> int:
    return int(grader.material("q2").hex, 16)  # big-endian


def q3() -> v.VMStateDescription:
    return v.VMStateDescription("tdev", version_id=1, minimum_version_id=1, fields=[
        v.VMSTATE_UINT16("id"),
        v.VMSTATE_UINT8("mode"),
        v.VMSTATE_UINT32_ARRAY("regs", 3),
        v.VMSTATE_BOOL("enabled"),
    ])


def q4() -> v.VMStateDescription:
    return v.VMStateDescription("gpio/irq_mask", version_id=1, minimum_version_id=1,
                                needed=lambda s: s.irq_mask != 0,
                                fields=[v.VMSTATE_UINT32("irq_mask")])


def q5() -> v.VMStateDescription:
    return v.VMStateDescription("sensor", version_id=2, minimum_version_id=1, fields=[
        v.VMSTATE_UINT16("temp"),
        v.VMSTATE_UINT8("status"),
        v.VMSTATE_UINT32_V("calib", 2),
    ])


def q6() -> str:
    from vmstate_edu.machine import TeachingMachine

    m = grader.material("q6")
    a, b = TeachingMachine.load(m.before), TeachingMachine.load(m.after)
    for i, (x, y) in enumerate(zip(a.cpu.env.regs, b.cpu.env.regs)):
        if x != y:
            return f"env.regs[{i}]"
    raise AssertionError("no register differs")


def q7() -> str:
    return "b"


def q8() -> int:
    name = "cpu/fpu"
    return 1 + 1 + len(name) + 4 + 4 * 8 + 4   # marker, length, name, version; fregs, fcsr


def q9() -> list[str]:
    return ["pre_save", "save fields", "save subsections", "post_save",
            "pre_load", "load fields", "load subsections", "post_load"]


def q10() -> set[str]:
    return {"cpu/fpu", "cpu_common/exception_index"}


def q11() -> set[int]:
    from vmstate_edu.machine import vmstate_teaching_cpu as d

    return {x for x in range(5) if x < d.minimum_version_id or x > d.version_id}


def q12() -> str:
    return "complete"


def q13() -> tuple[int, int]:
    return (49, 50)


def q14() -> int:
    m = grader.material("q14")
    page = m.stream.vmdesc["page_size"]        # 1024 on this guest
    return m.word & ~(page - 1)                # the flags are the bits below the page size


SOLUTIONS: dict[str, Callable[[], Any]] = {
    name: fn for name, fn in globals().items() if name[:1] == "q" and name[1:].isdigit()}
