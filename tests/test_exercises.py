"""Every exercise checker: its solution passes; typical wrong answers fail
with a message that says what differs without giving the solution away."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import vmstate_edu as v
from vmstate_edu.exercises import grader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.exercises import SOLUTIONS  # noqa: E402


def test_every_question_has_a_solution_and_at_least_ten_exist():
    assert len(grader.QUESTIONS) >= 10
    assert sorted(SOLUTIONS) == sorted(grader.QUESTIONS)


@pytest.mark.parametrize("qid", sorted(grader.QUESTIONS))
def test_solution_passes(qid):
    r = grader.check(qid, SOLUTIONS[qid]())
    assert r.passed, r.message
    assert bool(r) and "✔" in repr(r)


@pytest.mark.parametrize("qid", sorted(grader.QUESTIONS))
def test_placeholder_is_reported_not_raised(qid):
    for placeholder in (..., None):
        r = grader.check(qid, placeholder)
        assert not r.passed and not r.answered
        assert "No answer yet" in r.message


@pytest.mark.parametrize("qid", sorted(grader.QUESTIONS))
def test_nonsense_answer_never_raises(qid):
    for junk in (object(), "", 3.5, [1, 2], {"a": 1}):
        r = grader.check(qid, junk)
        assert not r.passed
        assert r.message


def test_show_and_material(capsys):
    text = grader.show("q3")
    assert "tdev" in text and "tdev" in capsys.readouterr().out
    m = grader.material("q3")
    assert isinstance(m.target, bytes) and m.device.id == 42
    with pytest.raises(KeyError):
        grader.check("q999", 1)


def _sol(qid):
    return SOLUTIONS[qid]()


def _fails(qid, answer, *fragments):
    r = grader.check(qid, answer)
    assert not r.passed, f"{qid} accepted a wrong answer {answer!r}"
    for frag in fragments:
        assert frag.lower() in r.message.lower(), (frag, r.message)
    # the message must not give the solution away
    sol = _sol(qid)
    if isinstance(sol, int):
        assert str(sol) not in r.message.split(), r.message
    return r


def test_q1_offsets():
    good = _sol("q1")
    _fails("q1", good - 8, "env.regs", "short")
    _fails("q1", good + 3, "env.pc", "past")
    _fails("q1", "not a number", "integer")
    assert grader.check("q1", hex(good)).passed  # hex strings are fine


def test_q2_endianness():
    raw = bytes.fromhex(grader.material("q2").hex)
    _fails("q2", int.from_bytes(raw, "little"), "little-endian")
    _fails("q2", int.from_bytes(raw, "big") + 1)


def test_q3_wrong_descriptions():
    _fails("q3", v.VMStateDescription("tdev", version_id=1, fields=[
        v.VMSTATE_UINT32("id"), v.VMSTATE_UINT8("mode"),
        v.VMSTATE_UINT32_ARRAY("regs", 3), v.VMSTATE_BOOL("enabled")]), "byte", "id")
    _fails("q3", v.VMStateDescription("tdev", version_id=1, fields=[
        v.VMSTATE_UINT16("id"), v.VMSTATE_UINT8("mode"), v.VMSTATE_UINT32_ARRAY("regs", 3)]),
        "too few")
    _fails("q3", v.VMStateDescription("tdev", version_id=1, fields=[
        v.VMSTATE_UINT16("id"), v.VMSTATE_UINT8("mode"), v.VMSTATE_UINT32_ARRAY("regs", 3),
        v.VMSTATE_BOOL("enabled"), v.VMSTATE_UINT16("scratch")]), "too many", "scratch")
    _fails("q3", v.VMStateDescription("timer", version_id=1, fields=_sol("q3").fields), "name")
    _fails("q3", "VMSTATE_UINT16('id')", "VMStateDescription")
    # a description that breaks while saving is reported, not raised
    _fails("q3", v.VMStateDescription("tdev", fields=[v.VMSTATE_UINT16("nope")]), "raised")


def test_q4_wrong_subsections():
    field = [v.VMSTATE_UINT32("irq_mask")]
    _fails("q4", v.VMStateDescription("irq_mask", version_id=1, needed=lambda s: s.irq_mask != 0,
                                      fields=field), "gpio/")
    _fails("q4", v.VMStateDescription("gpio/irq_mask", version_id=1, fields=field), "needed")
    _fails("q4", v.VMStateDescription("gpio/irq_mask", version_id=1, needed=lambda s: True,
                                      fields=field), "== 0")
    _fails("q4", v.VMStateDescription("gpio/irq_mask", version_id=1, needed=lambda s: False,
                                      fields=field), "0x81")


def test_q5_wrong_version_bumps():
    f = [v.VMSTATE_UINT16("temp"), v.VMSTATE_UINT8("status")]
    _fails("q5", v.VMStateDescription("sensor", version_id=2, minimum_version_id=1,
                                      fields=f + [v.VMSTATE_UINT32("calib")]), "version-1")
    _fails("q5", v.VMStateDescription("sensor", version_id=1, minimum_version_id=1,
                                      fields=f + [v.VMSTATE_UINT32_V("calib", 2)]), "new version")
    _fails("q5", v.VMStateDescription("sensor", version_id=2, minimum_version_id=2,
                                      fields=f + [v.VMSTATE_UINT32_V("calib", 2)]),
           "minimum_version_id")
    _fails("q5", v.VMStateDescription("sensor", version_id=2, minimum_version_id=1,
                                      fields=f + [v.VMSTATE_UINT16_V("calib", 2)]), "uint32")


def test_q6_to_q13_wrong_answers():
    _fails("q6", "env.pc", "same bytes")
    _fails("q6", "env.regs", "index")
    _fails("q6", "env.gpr[5]", "no field")
    assert grader.check("q6", "regs[5]").passed == grader.check("q6", _sol("q6")).passed
    _fails("q7", "a", "complete")
    _fails("q7", "d", "checksum")
    _fails("q7", "z", "letter")
    fields_only = 4 * 8 + 4
    _fails("q8", fields_only, "header")
    _fails("q8", _sol("q8") + 1, "header")
    wrong = list(_sol("q9"))
    wrong[0], wrong[1] = wrong[1], wrong[0]
    _fails("q9", wrong, "step 1")
    _fails("q9", _sol("q9")[:-1], "missing")
    _fails("q10", {"cpu/fpu"}, "missing")
    _fails("q10", {"fpu", "exception_index"}, "parent")
    _fails("q11", {0}, "missing")
    _fails("q11", set(range(5)), "accepted")
    _fails("q12", "setup", "seed")
    _fails("q12", "later", "answer")
    a, b = _sol("q13")
    _fails("q13", (a, a), "10.0")
    _fails("q13", (a * 40, b * 40), "array elements")
    _fails("q13", 49, "pair")


def test_result_html_and_repr():
    r = grader.check("q7", "a")
    assert 'data-passed="0"' in r._repr_html_()
    assert repr(r).startswith("✘ q7")


def test_q14_wrong_answers():
    m = grader.material("q14")
    assert m.page_size == 1024 and m.word & 0xC00  # the 4 KiB reading differs here
    _fails("q14", m.word & ~0xFFF, "12 bits")
    _fails("q14", m.word, "flag bits")
    _fails("q14", "page", "int")
