"""Checkers for the course exercises, in the spirit of otter-grader::

    from vmstate_edu.exercises import grader
    grader.show("q1")                 # the question
    m = grader.material("q1")         # what it works on
    grader.check("q1", answer)        # passed, or what differs (not the solution)

Every checker computes the expected result from the engine (or from the
real QEMU logs under ``data/``) when it runs; nothing is stored. A wrong
answer gets a message saying *what* differs; a placeholder (``...`` or
``None``) gets "no answer yet"; a checker never raises because of an answer.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import material as M

__all__ = ["Result", "Question", "QUESTIONS", "check", "show", "material", "questions"]


@dataclass
class Result:
    """The outcome of :func:`check`. True when passed; shows its message."""

    qid: str
    passed: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✔" if self.passed else ("…" if not self.answered else "✘")
        return f"{mark} {self.qid}: {self.message}"

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.passed else ("#777" if not self.answered else "#b42318")
        mark = "✔ passed" if self.passed else ("… not answered" if not self.answered
                                               else "✘ not yet")
        return (f'<div class="vm-check" data-qid="{self.qid}" data-passed="{int(self.passed)}" '
                f'style="border-left:4px solid {colour};padding:4px 8px">'
                f'<b style="color:{colour}">{self.qid}: {mark}</b><br>'
                f'{html.escape(self.message)}</div>')


@dataclass
class Question:
    qid: str
    title: str
    prompt: str
    checker: Callable[[Any], tuple[bool, str]]
    material: Callable[[], dict] | None = None


QUESTIONS: dict[str, Question] = {}


def _question(qid: str, title: str, prompt: str,
              material: Callable[[], dict] | None = None) -> Callable:
    def deco(fn: Callable[[Any], tuple[bool, str]]) -> Callable:
        QUESTIONS[qid] = Question(qid, title, prompt.strip(), fn, material)
        return fn
    return deco


def questions() -> list[tuple[str, str]]:
    """``(qid, title)`` of every question."""
    return [(q.qid, q.title) for q in QUESTIONS.values()]


def show(qid: str) -> str:
    """Print (and return) a question's text."""
    q = _get(qid)
    text = f"{q.qid} — {q.title}\n\n{q.prompt}"
    print(text)
    return text


def material(qid: str) -> M.Material:
    """The objects a question works on (fresh each call)."""
    q = _get(qid)
    return M.Material(q.material() if q.material else {})


def _get(qid: str) -> Question:
    if qid not in QUESTIONS:
        raise KeyError(f"no question {qid!r}; questions are {', '.join(QUESTIONS)}")
    return QUESTIONS[qid]


def check(qid: str, answer: Any) -> Result:
    """Check ``answer`` to question ``qid``; never raises because of the answer."""
    q = _get(qid)
    if answer is Ellipsis or answer is None:
        return Result(qid, False, "No answer yet: replace the ... in the answer cell.",
                      answered=False)
    try:
        ok, msg = q.checker(answer)
    except Exception as exc:  # the answer broke something: say what, briefly
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (in {tb[-1].name})" if tb else ""
        ok, msg = False, f"Checking your answer raised {type(exc).__name__}: {exc}{where}"
    return Result(qid, bool(ok), msg)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _as_int(answer: Any) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, str):
        try:
            return int(answer.strip(), 0)
        except ValueError:
            return None
    return None


def _norm_path(s: str) -> str:
    s = str(s).strip().replace(" ", "")
    for prefix in ("cpu/", "cpu:", "cpu."):
        if s.startswith(prefix):
            s = s[len(prefix):]
    if not s.startswith("env.") and s.split("[")[0] in ("regs", "pc", "flags", "fregs", "fcsr"):
        s = "env." + s
    return s


def _owner(tracer: Any, offset: int) -> str | None:
    for r in tracer.rows:
        if r[2] in ("field", "frame") and r[9] is not None and r[9] <= offset < r[9] + r[10]:
            name = (r[6] or "") + (f"[{r[7]}]" if r[7] is not None else "")
            kind = "framing item" if r[2] == "frame" else "field"
            return f"{kind} {name!r} of section {r[4]!r} (byte {offset - r[9]} of {r[10]})"
    return None


def _is_vmsd(x: Any) -> bool:
    from ..fields import VMStateDescription

    return isinstance(x, VMStateDescription)


# ---------------------------------------------------------------------------
# q1  predict a field's offset
# ---------------------------------------------------------------------------

@_question("q1", "Predict a field's offset", """
The teaching machine (``demo_machine()``, FPU off) is saved with
``qemu_savevm_state``. At which absolute stream offset does the first byte
of the ``cpu`` section's field ``env.pc`` sit?

Hint: the ``cpu`` section starts at the offset ``m.section_start`` given in
the material; work out the section header (type, id, idstr, instance,
version) and the fields before ``env.pc`` (``env.regs``: 8 x uint64).
Answer: an int.
""", material=lambda: _q1_material())
def _q1(answer: Any) -> tuple[bool, str]:
    n = _as_int(answer)
    if n is None:
        return False, "Answer with an integer offset (e.g. 1234 or 0x4d2)."
    _, t = M.demo_stream()
    off = M.field_elements(t, "cpu")["env.pc"][0]
    if n == off:
        return True, f"Right: env.pc starts at 0x{n:x}."
    owner = _owner(t, n)
    hint = f"Offset 0x{n:x} is inside {owner}." if owner else f"Offset 0x{n:x} is outside the trace."
    if n < off:
        hint += " You are short: did you count every header byte (the idstr length byte too) " \
                "and all eight registers?"
    else:
        hint += " You are past it: the section header is 1+4+1+len(idstr)+4+4 bytes."
    return False, hint


def _q1_material() -> dict:
    data, t = M.demo_stream()
    start = next(r[9] for r in t.rows if r[2] == "frame" and r[4] == "cpu"
                 and r[6] == "section type")
    return {"stream": data, "section_start": start}


# ---------------------------------------------------------------------------
# q2  decode a register from hex
# ---------------------------------------------------------------------------

@_question("q2", "Decode a register from hex", """
``m.hex`` holds the 8 bytes QEMU wrote for ``env.regs[3]`` (a
``VMSTATE_UINT64``), as hex. What is the register's value? Answer: an int.
""", material=lambda: {"hex": M.field_elements(M.demo_stream()[1], "cpu")["env.regs[3]"][3].hex()})
def _q2(answer: Any) -> tuple[bool, str]:
    n = _as_int(answer)
    if n is None:
        return False, "Answer with an integer (0x… is fine)."
    raw = M.field_elements(M.demo_stream()[1], "cpu")["env.regs[3]"][3]
    want = int.from_bytes(raw, "big")
    if n == want:
        return True, f"Right: 0x{want:x}, read big-endian as every VMState integer."
    if n == int.from_bytes(raw, "little"):
        return False, "You read the bytes little-endian. VMState writes integers big-endian " \
                      "(qemu_put_be64), whatever the guest's byte order."
    if n == int.from_bytes(raw, "big", signed=True):
        return False, "Signedness: uint64 is unsigned."
    return False, f"0x{n:x} is not what those 8 bytes say; take them in order, most " \
                  "significant first."


# ---------------------------------------------------------------------------
# q3  write a description that produces given bytes
# ---------------------------------------------------------------------------

@_question("q3", "Describe a device so it produces these bytes", """
``m.device`` is a small timer device. Write a ``VMStateDescription`` named
``"tdev"`` (version 1) whose ``vmstate_save_state`` output for
``m.device`` is exactly ``m.target`` (hex: ``m.target.hex()``). Not every
attribute of the device is migrated. Answer: the VMStateDescription.
""", material=lambda: {"device": M.timer_device(), "target": M.q3_target()})
def _q3(answer: Any) -> tuple[bool, str]:
    from ..qemufile import QEMUFile
    from ..tracing import trace
    from ..vmstate import vmstate_save_state

    if not _is_vmsd(answer):
        return False, f"Answer with a VMStateDescription, not {type(answer).__name__}."
    target = M.q3_target()
    f = QEMUFile()
    with trace() as t:
        vmstate_save_state(f, answer, M.timer_device())
    got = f.getvalue()
    if got == target:
        if answer.name != "tdev":
            return False, f"The bytes are right, but the description is called {answer.name!r}" \
                          "; the section would be looked up by the name 'tdev'."
        return True, "Right: every byte matches."
    for i, (a, b) in enumerate(zip(got, target)):
        if a != b:
            who = _owner(t, i) or "no field"
            return False, (f"Byte {i} differs: expected 0x{b:02x}, your description wrote 0x{a:02x}"
                           f" there ({who}).")
    if len(got) < len(target):
        return False, f"Your description writes {len(got)} bytes, {len(target) - len(got)} " \
                      "too few: the first bytes match, something at the end is missing."
    return False, f"Your description writes {len(got)} bytes, {len(got) - len(target)} too " \
                  f"many; the extra bytes start at offset {len(target)} " \
                  f"({_owner(t, len(target)) or 'no field'})."


# ---------------------------------------------------------------------------
# q4  add a subsection with the right needed()
# ---------------------------------------------------------------------------

@_question("q4", "Add a subsection with the right needed()", """
The ``gpio`` device (``m.vmsd_for(subsections)`` builds its description,
``m.GPIOState`` its state) gained an interrupt mask ``irq_mask`` (uint32).
Old QEMU versions do not know it. Write a subsection so that the mask is
sent only when it is non-zero, so that a stream with ``irq_mask == 0`` is
byte-for-byte what the old QEMU sends and loads. Answer: the subsection's
VMStateDescription.
""", material=lambda: {"vmsd_for": M.gpio_vmsd, "GPIOState": M.GPIOState})
def _q4(answer: Any) -> tuple[bool, str]:
    from ..qemufile import QEMUFile
    from ..vmstate import vmstate_load_state, vmstate_save_state

    if not _is_vmsd(answer):
        return False, f"Answer with a VMStateDescription, not {type(answer).__name__}."
    if not answer.name.startswith("gpio/"):
        return False, (f"The subsection is called {answer.name!r}: a subsection's name must "
                       "start with its parent's name and a slash ('gpio/…'), that is how the "
                       "loader recognises it as belonging to 'gpio'.")
    if answer.needed is None:
        return False, "Without needed() the subsection is always sent, so the old QEMU gets " \
                      "a subsection it does not know even when the mask is 0."
    old = M.gpio_vmsd()
    new = M.gpio_vmsd([answer])

    def save(vmsd: Any, mask: int) -> bytes:
        f = QEMUFile()
        vmstate_save_state(f, vmsd, M.GPIOState(irq_mask=mask))
        return f.getvalue()

    if save(new, 0) != save(old, 0):
        return False, "With irq_mask == 0 your stream differs from the old one: needed() " \
                      "should be False then."
    with_mask = save(new, 0x81)
    if with_mask == save(old, 0x81):
        return False, "With irq_mask == 0x81 nothing extra is sent: needed() should be True " \
                      "then (and the subsection should carry irq_mask)."
    st = M.GPIOState(out=0, irq_mask=0)
    vmstate_load_state(QEMUFile(with_mask), new, st, new.version_id)
    if st.irq_mask != 0x81:
        return False, f"Saving and loading irq_mask=0x81 gave {st.irq_mask!r}: the subsection " \
                      "must hold the field irq_mask."
    if answer.minimum_version_id > answer.version_id:
        return False, "minimum_version_id is above version_id."
    return True, "Right: sent only when needed, and it round-trips."


# ---------------------------------------------------------------------------
# q5  bump a version correctly
# ---------------------------------------------------------------------------

@_question("q5", "Bump a version correctly", """
``m.v1`` is version 1 of the ``sensor`` description (fields ``temp``,
``status``); ``m.old_stream`` is what it writes. Add the new field
``calib`` (uint32) so that the new description saves it, and streams
written by version 1 still load. Answer: the new VMStateDescription.
""", material=lambda: {"v1": M.sensor_v1(), "old_stream": M.sensor_v1_stream(),
                       "SensorState": M.SensorState})
def _q5(answer: Any) -> tuple[bool, str]:
    from ..errors import VMStateError
    from ..qemufile import QEMUFile
    from ..vmstate import vmstate_load_state, vmstate_save_state

    if not _is_vmsd(answer):
        return False, f"Answer with a VMStateDescription, not {type(answer).__name__}."
    if answer.name != "sensor":
        return False, f"The description must keep its name 'sensor' (not {answer.name!r})."
    v1 = M.sensor_v1()
    if answer.version_id <= v1.version_id:
        return False, f"version_id is {answer.version_id}; a new field needs a new version " \
                      f"(above {v1.version_id})."
    if answer.minimum_version_id > v1.version_id:
        return False, f"minimum_version_id {answer.minimum_version_id} refuses version-" \
                      f"{v1.version_id} streams; old streams must still load."
    st = M.SensorState(temp=0, status=0, calib=7)
    try:
        f = QEMUFile(M.sensor_v1_stream(0x0456, 3))
        vmstate_load_state(f, answer, st, v1.version_id)
    except VMStateError as e:
        return False, f"Loading a version-1 stream failed: {e}. A field added in version " \
                      "N must say so (the _V variants), or it is read from old streams too."
    if f.remaining():
        return False, "Loading a version-1 stream left bytes unread."
    if (st.temp, st.status) != (0x0456, 3):
        return False, f"Loading a version-1 stream gave temp={st.temp:#x}, status={st.status}: " \
                      "the old fields moved."
    if st.calib != 7:
        return False, "Loading a version-1 stream changed calib, which it does not contain."
    f = QEMUFile()
    vmstate_save_state(f, answer, M.SensorState(temp=1, status=2, calib=0xCAFE))
    new = f.getvalue()
    if 0xCAFE.to_bytes(4, "big") not in new:
        return False, "The new description does not save calib as a uint32."
    back = M.SensorState(temp=0, status=0, calib=0)
    vmstate_load_state(QEMUFile(new), answer, back, answer.version_id)
    if (back.temp, back.status, back.calib) != (1, 2, 0xCAFE):
        return False, "A stream saved by the new description does not load back the same."
    return True, "Right: old streams load, new streams carry calib."


# ---------------------------------------------------------------------------
# q6  find the register that changed between two snapshots
# ---------------------------------------------------------------------------

def _q6_streams() -> tuple[tuple[bytes, Any], tuple[bytes, Any]]:
    return M.demo_stream(), M.demo_stream(r5=0x5005)


@_question("q6", "Which register changed?", """
``m.before`` and ``m.after`` are two streams of the teaching machine. One
CPU register differs. Which one? Answer its field path with index, e.g.
``"env.regs[0]"``. (Load both with ``TeachingMachine.load`` or trace them.)
""", material=lambda: {"before": _q6_streams()[0][0], "after": _q6_streams()[1][0]})
def _q6(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, str):
        return False, "Answer with a string such as 'env.regs[0]'."
    (_, ta), (_, tb) = _q6_streams()
    a, b = M.field_elements(ta, "cpu"), M.field_elements(tb, "cpu")
    changed = [k for k in a if a[k][3] != b.get(k, (None,) * 4)[3]]
    ans = _norm_path(answer)
    if ans in changed:
        return True, f"Right: {ans} changed from {a[ans][2]:#x} to {b[ans][2]:#x}."
    if ans in a:
        return False, f"{ans} has the same bytes in both streams."
    if ans.split("[")[0] in {k.split("[")[0] for k in a} and "[" not in ans:
        return False, "Which element? Give the index too, e.g. 'env.regs[0]'."
    return False, f"There is no field {ans!r} in the cpu section; its fields are " \
                  f"{sorted({k.split('[')[0] for k in a})}."


# ---------------------------------------------------------------------------
# q7  explain a section-footer error
# ---------------------------------------------------------------------------

Q7_CHOICES = {
    "a": "The stream was cut short while the section was being read.",
    "b": "The loading side's description reads a different number of bytes than the saving "
         "side wrote, so the footer byte is not where the loader looks for it.",
    "c": "Sections must arrive in section_id order and this one came too early.",
    "d": "The footer carries a checksum of the section and it did not match.",
}


def _q7_error() -> str:
    from ..errors import VMStateError
    from ..fields import VMSTATE_UINT32
    from ..machine import TeachingMachine, vmstate_teaching_cpu
    from ..qemufile import QEMUFile
    from ..savevm import qemu_loadvm_state

    data, _ = M.demo_stream()
    m = TeachingMachine()
    reg = m.registry()
    for se in reg.handlers:
        if se.idstr == "cpu":  # the loader's cpu description has one field more
            from ..fields import VMStateDescription
            se.vmsd = VMStateDescription(
                "cpu", version_id=vmstate_teaching_cpu.version_id,
                minimum_version_id=vmstate_teaching_cpu.minimum_version_id,
                fields=list(vmstate_teaching_cpu.fields) + [VMSTATE_UINT32("env.fcsr")],
                subsections=vmstate_teaching_cpu.subsections)
    try:
        qemu_loadvm_state(QEMUFile(data), reg)
    except VMStateError as e:
        return str(e)
    return "(no error)"


@_question("q7", "Explain a section-footer error", """
Loading a stream into a machine whose ``cpu`` description was changed fails
with the message in ``m.error``. Which explanation is right? ``m.choices``
lists them. Answer: the letter.
""", material=lambda: {"error": _q7_error(), "choices": dict(Q7_CHOICES)})
def _q7(answer: Any) -> tuple[bool, str]:
    a = str(answer).strip().lower().strip("()")
    if a not in Q7_CHOICES:
        return False, f"Answer with one letter of {sorted(Q7_CHOICES)}."
    msg = _q7_error()
    if "footer" not in msg.lower() and "section" not in msg.lower():
        return False, f"(The checker expected a footer error but got: {msg})"
    why = {
        "a": "The stream is complete: a truncated stream gives 'stream ended' errors, and "
             "the load gets past this section's fields.",
        "c": "Sections carry their ids and may come in any registered order; the loader "
             "looks each up by idstr and instance.",
        "d": "The footer is one byte 0x7e and the section id, no checksum.",
    }
    if a == "b":
        return True, "Right: the footer is a resynchronisation check — a description " \
                     "mismatch shows up there."
    return False, why[a]


# ---------------------------------------------------------------------------
# q8  count bytes
# ---------------------------------------------------------------------------

@_question("q8", "Count the bytes of a subsection", """
Turn the teaching machine's FPU on. How many bytes does the ``cpu/fpu``
subsection take in the stream — everything from its marker byte to its last
field (``vmstate_teaching_fpu``: ``env.fregs`` is 4 x uint64, ``env.fcsr`` a
uint32)? Answer: an int.
""")
def _q8(answer: Any) -> tuple[bool, str]:
    n = _as_int(answer)
    if n is None:
        return False, "Answer with an integer."
    _, t = M.demo_stream(fpu=True)
    start = next(r[9] for r in t.rows if r[2] == "frame" and r[6] == "subsection marker"
                 and r[4] == "cpu")
    fields = [r for r in t.rows if r[2] == "field" and r[5] == "cpu/fpu"]
    end = max(r[9] + r[10] for r in fields)
    want = end - start
    body = sum(r[10] for r in fields)
    if n == want:
        return True, f"Right: {want} bytes = {want - body} of subsection header + {body} of fields."
    if n == body:
        return False, "That is the fields only; a subsection also has a header in the stream " \
                      "(marker, name length, name, version)."
    if n < body:
        return False, "Fewer bytes than the fields alone take: count every array element."
    return False, f"{'Too many' if n > want else 'Too few'}: check the header — one marker " \
                  "byte, one length byte, the name without a terminator, a be32 version."


# ---------------------------------------------------------------------------
# q9  order of hooks
# ---------------------------------------------------------------------------

@_question("q9", "Order of pre_save / post_load", """
A device with ``pre_save``, ``post_save``, ``pre_load`` and ``post_load``
hooks and one needed subsection is saved and then loaded. Put these steps in
the order they happen: ``m.steps`` (a list of strings, shuffled). Answer:
the list, reordered.
""", material=lambda: {"steps": sorted(M.HOOK_STEPS)})
def _q9(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (list, tuple)):
        return False, "Answer with a list of the step names."
    want = M.observed_hook_order()
    ans = [str(a).strip() for a in answer]
    if sorted(ans) != sorted(want):
        missing = set(want) - set(ans)
        extra = set(ans) - set(want)
        return False, f"Use each step exactly once (missing: {sorted(missing) or 'none'}, " \
                      f"unknown or repeated: {sorted(extra) or 'see duplicates'})."
    if ans == want:
        return True, "Right."
    i = next(i for i, (a, b) in enumerate(zip(ans, want)) if a != b)
    return False, f"The first {i} step(s) are in order; step {i + 1} ({ans[i]!r}) comes " \
                  "too early or too late."


# ---------------------------------------------------------------------------
# q10  which subsections appear when features flip
# ---------------------------------------------------------------------------

@_question("q10", "Which subsections appear when a feature flips?", """
Start from ``demo_machine()``. Turn its FPU on and set the CPU's
``exception_index`` to 3 (``m.cpu.parent_obj.exception_index``). Which
subsections does the stream now contain that it did not before? Answer: a
set (or list) of subsection names as they appear in the stream.
""")
def _q10(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, (set, list, tuple, frozenset)):
        return False, "Answer with a set of names."

    def subs(t: Any) -> set[str]:
        return {r[11] for r in t.rows if r[2] == "frame" and r[6] == "subsection name"}

    want = subs(M.demo_stream(fpu=True, exception_index=3)[1]) - subs(M.demo_stream()[1])
    ans = {str(a).strip() for a in answer}
    if ans == want:
        return True, "Right."
    short = {a for a in ans if "/" not in a}
    if short:
        return False, f"{sorted(short)}: subsection names in the stream carry their " \
                      "parent's name ('parent/child')."
    if ans < want:
        return False, f"{len(want - ans)} subsection(s) missing: both switches add one."
    return False, f"{sorted(ans - want)} do(es) not appear (or appeared before already)."


# ---------------------------------------------------------------------------
# q11  which incoming versions are refused
# ---------------------------------------------------------------------------

def _q11_refused() -> set[int]:
    from ..errors import VersionError
    from ..machine import TeachingCPU, vmstate_teaching_cpu
    from ..qemufile import QEMUFile
    from ..vmstate import vmstate_load_state, vmstate_save_state

    f = QEMUFile()
    vmstate_save_state(f, vmstate_teaching_cpu, TeachingCPU())
    refused = set()
    for v in range(0, 5):
        try:
            vmstate_load_state(QEMUFile(f.getvalue()), vmstate_teaching_cpu, TeachingCPU(), v)
        except VersionError:
            refused.add(v)
        except Exception:  # noqa: BLE001  other errors: the version was accepted
            pass
    return refused


@_question("q11", "Which incoming versions are refused?", """
The teaching CPU's description is ``vmstate_teaching_cpu`` (see its
``version_id`` and ``minimum_version_id``). A stream's ``cpu`` section
header carries version 0, 1, 2, 3 or 4. For which of these does
``vmstate_load_state`` refuse the section outright? Answer: a set of ints.
""")
def _q11(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (set, list, tuple, frozenset)):
        return False, "Answer with a set of ints."
    try:
        ans = {int(a) for a in answer}
    except (TypeError, ValueError):
        return False, "Answer with a set of ints."
    want = _q11_refused()
    if ans == want:
        return True, "Right: below minimum_version_id or above version_id is refused."
    if ans < want:
        return False, "Some refused versions are missing: check both ends of the range."
    return False, f"{sorted(ans - want)} would be accepted (older versions are loaded with " \
                  "the _V fields left out)."


# ---------------------------------------------------------------------------
# q12, q13  read real QEMU logs
# ---------------------------------------------------------------------------

@_question("q12", "When does real QEMU save the CPU?", """
Read QEMU 7.2's save log of ``riscv64-virt-running``
(``vmstate_edu.viz.qemulog.read_log("7.2", "riscv64-virt-running")``). In
which phase of the migration is the ``cpu`` section saved: ``"setup"``,
``"iterate"`` or ``"complete"``? Answer: the phase name.
""")
def _q12(answer: Any) -> tuple[bool, str]:
    from ..viz import qemulog

    a = str(answer).strip().lower()
    if a not in ("setup", "iterate", "complete", "header"):
        return False, "Answer 'setup', 'iterate' or 'complete'."
    rows = qemulog.log_phases(qemulog.read_log("7.2", "riscv64-virt-running"))
    want = next(r["phase"] for r in rows if r["idstr"] == "cpu")
    if a == want:
        return True, "Right: after the last RAM pass, in qemu_savevm_state_complete_precopy."
    if a == "setup":
        return False, "That is what the seed document says. Look where 'savevm_section_start " \
                      "cpu' sits relative to savevm_state_setup and the later phase events."
    return False, "Look at which phase event precedes 'savevm_section_start cpu' in the log."


@_question("q13", "Count the RISC-V CPU's fields in two releases", """
From the save logs of ``riscv64-virt-running`` in QEMU 7.2 and 10.0, count
the top-level fields of the ``cpu`` section (one ``vmstate_save_state_loop
cpu/<field>[n]`` line each). Answer: a tuple ``(n_7_2, n_10_0)``.
""")
def _q13(answer: Any) -> tuple[bool, str]:
    from ..viz import qemulog

    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "Answer with a pair (count for 7.2, count for 10.0)."
    try:
        a = (int(answer[0]), int(answer[1]))
    except (TypeError, ValueError):
        return False, "Both counts must be ints."
    want = tuple(len(qemulog.section_fields(qemulog.read_log(v, "riscv64-virt-running"), "cpu"))
                 for v in ("7.2", "10.0"))
    if a == want:
        return True, f"Right: {want[0]} and {want[1]} — the field list depends on the release."
    bad = [v for v, x, y in zip(("7.2", "10.0"), a, want) if x != y]
    msg = f"The count for {' and '.join(bad)} is off."
    if any(x > 200 for x in a):
        msg += " Count fields, not array elements (env.gpr is one field of 32 elements)."
    elif any(x < y for x, y in zip(a, want)):
        msg += " Too few: only count lines of the cpu section itself (cpu/<field>[n]), " \
               "not subsections (cpu/pmp/…), but all of them."
    else:
        msg += " Too many: lines of subsections (cpu/pmp/…) or nested structs do not count."
    return False, msg


# ---------------------------------------------------------------------------
# q14  a RAM record of a guest with 1 KiB pages
# ---------------------------------------------------------------------------

def _q14_material() -> dict:
    from ..stream import load_stream
    from ..viz.qemulog import data_root

    s = load_stream(data_root() / "qemu-10.0" / "edge" / "a64-raspi3b" / "stream.mig.xz")
    return {"stream": s, "word": s.ram.rec_word[1000], "page_size": s.ram.page_size}


@_question("q14", "Where does this RAM record put its page?", """
``grader.material("q14")`` has a real QEMU 10.0 stream of an Arm ``raspi3b``
guest (``.stream``) and one of its RAM record words (``.word``, the 1001st
record). A record word holds the page's address and, in the bits the address
does not use, the record's flags. At which address of the RAM block does this
record put its page? Answer: an int.
""", material=_q14_material)
def _q14(answer: Any) -> tuple[bool, str]:
    from ..ram import split_record

    a = _as_int(answer)
    if a is None:
        return False, "Answer with an int (the address)."
    m = _q14_material()
    want = split_record(m["word"], m["page_size"])[0]
    if a == want:
        return True, (f"Right: 0x{want:x}. This guest's pages are {m['page_size']} bytes, so the "
                      "flags are only the low 10 bits.")
    if a == m["word"] & ~0xFFF:
        return False, ("That reads the flags as the low 12 bits, as on a 4 KiB-page guest. "
                       "How big are this stream's pages (its JSON says)?")
    if a == m["word"]:
        return False, "The word still has its flag bits in it."
    return False, "Split the word into address and flags at the page size."
