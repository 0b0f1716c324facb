# %% [markdown]
# # 08 · Edit and resume: change a register, let real QEMU run on
#
# **What you will learn here**
# - that our engine can *write* real streams, not just read them: change the state of a
#   paused RISC-V machine through its hand-written `cpu` description, save, and real QEMU
#   loads the result;
# - that QEMU's loader checks what it is given: an edit that breaks an `_equal` field is
#   refused by real QEMU and by our loader, naming the same field.
#
# The machine is the committed capture `data/qemu-7.2/riscv64-virt-running` (OpenSBI was
# running for 300 ms, then the VM was stopped and migrated to a file).

# %%
import pandas as pd
import vmstate_edu as v
from vmstate_edu.edit import get_value, set_value
from vmstate_edu.resume import edit_and_resume
from vmstate_edu.tables import data_dir

case = data_dir() / "qemu-7.2" / "riscv64-virt-running" / "stream.mig.xz"
s = v.load_stream(case, descriptions="arch")
print("pc =", hex(get_value(s, "cpu", 0, "pc")), " a0 =", hex(get_value(s, "cpu", 0, "a0")))

# %% [markdown]
# ## Change the program counter and `a0`
# `set_value` checks the value against the field's type and width: a 65-bit number is refused.

# %%
set_value(s, "cpu", 0, "a0", 0x1234)
set_value(s, "cpu", 0, "pc", 0x80000000)  # back to OpenSBI's entry point
try:
    set_value(s, "cpu", 0, "a0", 1 << 64)
except v.VMStateError as e:
    print("refused:", e)
edited = s.to_bytes()
original = bytes(v.load_stream(case).data)
changed = [i for i, (a, b) in enumerate(zip(edited, original)) if a != b]
print(len(changed), "bytes changed, at offsets", changed)

# %% [markdown]
# ## Resume it in real QEMU
# `edit_and_resume` starts QEMU with `-incoming` on the edited stream, reads the registers
# with `info registers`, lets the machine run 50 ms and reads the program counter again.
# Where QEMU is not installed, it shows the result recorded by `data/record_edit_resume.py`
# (the `source` line says which).

# %%
result = edit_and_resume("7.2", "riscv64-virt-running", {"a0": 0x1234, "pc": 0x80000000})
print(result["source"])
pd.DataFrame({"in the stream": result["in_stream"], "edited to": result["edited"],
              "QEMU after loading": result["qemu_after_load"]}).map(
    lambda x: hex(x) if isinstance(x, int) else x)

# %%
print("QEMU loaded it:", result["loaded"], "| pc after running:",
      hex(result["pc_after_running"] or 0))

# %% [markdown]
# ## An edit QEMU refuses
# `PCIBUS`'s `nirq` is an `int32 equal` field: the destination compares the incoming value
# with its own. Our loader does the same when it loads into a machine in the original state.

# %%
bad = v.load_stream(case)
set_value(bad, "PCIBUS", 0, "nirq", 5)
try:
    v.load_stream(case).reload(bad.to_bytes())
except v.VMStateError as e:
    print(type(e).__name__, "—", e)

# %% [markdown]
# Real QEMU says (`tests/test_edit.py` checks it): `4 != 5`, `Failed to load PCIBUS:nirq`,
# `error while loading state for instance 0x0 of device 'PCIBUS'`.
#
# ## Recap
# - A stream is state plus a description; change the state, save with the same description,
#   and real QEMU carries on from there.
# - The value is checked against the field's type and width before it is written.
# - `_equal` fields and `post_load` hooks are the receiver's checks: the same edit is refused
#   by QEMU and by our loader, naming `PCIBUS:nirq`.
