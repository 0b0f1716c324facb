# %% [markdown]
# # Exercises
#
# **What you will learn here**: you practise everything from notebooks 01–03 — offsets, hex,
# descriptions, subsections, versions, hooks — and read real QEMU logs.
#
# For each question: read it, write your answer in the answer cell (replace the `...`), run
# the check cell. A wrong answer tells you *what* differs, not the solution. Nothing is graded
# remotely; check as often as you like.

# %%
import vmstate_edu as v
from vmstate_edu.exercises import grader
from vmstate_edu.machine import demo_machine

# %% [markdown]
# ## q1 · Predict a field's offset
#
# The teaching machine (``demo_machine()``, FPU off) is saved with
# ``qemu_savevm_state``. At which absolute stream offset does the first byte
# of the ``cpu`` section's field ``env.pc`` sit?
#
# Hint: the ``cpu`` section starts at the offset ``m.section_start`` given in
# the material; work out the section header (type, id, idstr, instance,
# version) and the fields before ``env.pc`` (``env.regs``: 8 x uint64).
# Answer: an int.

# %%
m = grader.material("q1")
print("cpu section starts at", m.section_start)

answer_q1 = ...   # an int

# %%
grader.check("q1", answer_q1)

# %% [markdown]
# ## q2 · Decode a register from hex
#
# ``m.hex`` holds the 8 bytes QEMU wrote for ``env.regs[3]`` (a
# ``VMSTATE_UINT64``), as hex. What is the register's value? Answer: an int.

# %%
m = grader.material("q2")
print(m.hex)

answer_q2 = ...   # an int

# %%
grader.check("q2", answer_q2)

# %% [markdown]
# ## q3 · Describe a device so it produces these bytes
#
# ``m.device`` is a small timer device. Write a ``VMStateDescription`` named
# ``"tdev"`` (version 1) whose ``vmstate_save_state`` output for
# ``m.device`` is exactly ``m.target`` (hex: ``m.target.hex()``). Not every
# attribute of the device is migrated. Answer: the VMStateDescription.

# %%
m = grader.material("q3")
print(m.device)
print(m.target.hex(" "))

answer_q3 = ...   # v.VMStateDescription("tdev", version_id=1, minimum_version_id=1, fields=[...])

# %%
grader.check("q3", answer_q3)

# %% [markdown]
# ## q4 · Add a subsection with the right needed()
#
# The ``gpio`` device (``m.vmsd_for(subsections)`` builds its description,
# ``m.GPIOState`` its state) gained an interrupt mask ``irq_mask`` (uint32).
# Old QEMU versions do not know it. Write a subsection so that the mask is
# sent only when it is non-zero, so that a stream with ``irq_mask == 0`` is
# byte-for-byte what the old QEMU sends and loads. Answer: the subsection's
# VMStateDescription.

# %%
m = grader.material("q4")
print(m.vmsd_for(), m.GPIOState())

answer_q4 = ...   # v.VMStateDescription("gpio/...", ..., needed=..., fields=[...])

# %%
grader.check("q4", answer_q4)

# %% [markdown]
# ## q5 · Bump a version correctly
#
# ``m.v1`` is version 1 of the ``sensor`` description (fields ``temp``,
# ``status``); ``m.old_stream`` is what it writes. Add the new field
# ``calib`` (uint32) so that the new description saves it, and streams
# written by version 1 still load. Answer: the new VMStateDescription.

# %%
m = grader.material("q5")
print(m.v1, [f.name for f in m.v1.fields], m.old_stream.hex())

answer_q5 = ...   # the new VMStateDescription

# %%
grader.check("q5", answer_q5)

# %% [markdown]
# ## q6 · Which register changed?
#
# ``m.before`` and ``m.after`` are two streams of the teaching machine. One
# CPU register differs. Which one? Answer its field path with index, e.g.
# ``"env.regs[0]"``. (Load both with ``TeachingMachine.load`` or trace them.)

# %%
from vmstate_edu.machine import TeachingMachine
m = grader.material("q6")

answer_q6 = ...   # e.g. "env.regs[0]"

# %%
grader.check("q6", answer_q6)

# %% [markdown]
# ## q7 · Explain a section-footer error
#
# Loading a stream into a machine whose ``cpu`` description was changed fails
# with the message in ``m.error``. Which explanation is right? ``m.choices``
# lists them. Answer: the letter.

# %%
m = grader.material("q7")
print(m.error)
for letter, text in m.choices.items():
    print(letter, text)

answer_q7 = ...   # "a", "b", "c" or "d"

# %%
grader.check("q7", answer_q7)

# %% [markdown]
# ## q8 · Count the bytes of a subsection
#
# Turn the teaching machine's FPU on. How many bytes does the ``cpu/fpu``
# subsection take in the stream — everything from its marker byte to its last
# field (``vmstate_teaching_fpu``: ``env.fregs`` is 4 x uint64, ``env.fcsr`` a
# uint32)? Answer: an int.

# %%
answer_q8 = ...   # an int

# %%
grader.check("q8", answer_q8)

# %% [markdown]
# ## q9 · Order of pre_save / post_load
#
# A device with ``pre_save``, ``post_save``, ``pre_load`` and ``post_load``
# hooks and one needed subsection is saved and then loaded. Put these steps in
# the order they happen: ``m.steps`` (a list of strings, shuffled). Answer:
# the list, reordered.

# %%
m = grader.material("q9")
print(m.steps)

answer_q9 = ...   # the list, reordered

# %%
grader.check("q9", answer_q9)

# %% [markdown]
# ## q10 · Which subsections appear when a feature flips?
#
# Start from ``demo_machine()``. Turn its FPU on and set the CPU's
# ``exception_index`` to 3 (``m.cpu.parent_obj.exception_index``). Which
# subsections does the stream now contain that it did not before? Answer: a
# set (or list) of subsection names as they appear in the stream.

# %%
answer_q10 = ...   # a set of names

# %%
grader.check("q10", answer_q10)

# %% [markdown]
# ## q11 · Which incoming versions are refused?
#
# The teaching CPU's description is ``vmstate_teaching_cpu`` (see its
# ``version_id`` and ``minimum_version_id``). A stream's ``cpu`` section
# header carries version 0, 1, 2, 3 or 4. For which of these does
# ``vmstate_load_state`` refuse the section outright? Answer: a set of ints.

# %%
from vmstate_edu.machine import vmstate_teaching_cpu

answer_q11 = ...   # a set of ints

# %%
grader.check("q11", answer_q11)

# %% [markdown]
# ## q12 · When does real QEMU save the CPU?
#
# Read QEMU 7.2's save log of ``riscv64-virt-running``
# (``vmstate_edu.viz.qemulog.read_log("7.2", "riscv64-virt-running")``). In
# which phase of the migration is the ``cpu`` section saved: ``"setup"``,
# ``"iterate"`` or ``"complete"``? Answer: the phase name.

# %%
from vmstate_edu.viz import qemulog
log = qemulog.read_log("7.2", "riscv64-virt-running")

answer_q12 = ...   # "setup", "iterate" or "complete"

# %%
grader.check("q12", answer_q12)

# %% [markdown]
# ## q13 · Count the RISC-V CPU's fields in two releases
#
# From the save logs of ``riscv64-virt-running`` in QEMU 7.2 and 10.0, count
# the top-level fields of the ``cpu`` section (one ``vmstate_save_state_loop
# cpu/<field>[n]`` line each). Answer: a tuple ``(n_7_2, n_10_0)``.

# %%
from vmstate_edu.viz import qemulog

answer_q13 = ...   # (count in 7.2, count in 10.0)

# %%
grader.check("q13", answer_q13)

# %% [markdown]
# ## q14 · Where does this RAM record put its page?
#
# ``grader.material("q14")`` has a real QEMU 10.0 stream of an Arm ``raspi3b``
# guest (``.stream``) and one of its RAM record words (``.word``). A record word holds the
# page's address and, in the bits the address does not use, the record's flags. At which
# address of the RAM block does this record put its page? Answer: an int.

# %%
m14 = grader.material("q14")
print(hex(m14.word))

answer_q14 = ...   # the page's address

# %%
grader.check("q14", answer_q14)

# %% [markdown]
# ## Recap
# Run `[grader.check(q, globals()[f"answer_{q}"]) for q in grader.QUESTIONS]` to see all
# your results at once. Each checker recomputed its answer from the engine or the real QEMU
# logs while you waited — change the machine and the expected answers change with it.
