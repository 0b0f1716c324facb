# %% [markdown]
# # 00 · Course map: how QEMU saves and restores a machine
#
# **What you will learn here**
# - what a migration stream is: a byte string that holds a whole machine (CPU registers, devices, RAM);
# - how the course is organised, and the one package (`vmstate_edu`) every notebook uses;
# - how to look at a stream: its sections, and a first interactive byte map.
#
# Everything you run mirrors QEMU's own code (`migration/vmstate.c`, `migration/savevm.c`):
# same function names, same loops, same bytes. Where our starting document — the *seed* — says
# something else, the course checks it against **real QEMU 7.2 and 10.0** streams and logs in `data/`.

# %% [markdown]
# | notebook | question it answers |
# |---|---|
# | 01-call-chain | Which functions run, in which order, when QEMU saves a machine? Where is the seed wrong? |
# | 02-fields-become-bytes | How does a field description (`VMSTATE_UINT64_ARRAY(...)`) turn into bytes? |
# | 03-subsections-and-versions | How do optional state and new releases stay compatible? |
# | 04-four-architectures | What do RISC-V, x86, ARM and PowerPC CPUs actually save? |
# | 05-a-real-stream | A real QEMU stream from header to JSON, and your own file |
# | 06-traces-with-pandas | Bytes per section and type, hottest fields, diffs between snapshots |
# | 07-loading-is-an-attack-surface | Why loading must validate, and how our loader fails safely |
# | 08-edit-and-resume | Change a register in a real stream; real QEMU runs on with it |
# | exercises/ | Thirteen checked exercises (`grader.check("q1", answer)`) |

# %%
import vmstate_edu as v
from vmstate_edu.machine import demo_machine

m = demo_machine()                 # the teaching machine: CPU, UART, timer, 64 KiB RAM
f = v.QEMUFile()
with v.trace() as t:               # record every call, QEMU trace event and byte
    v.qemu_savevm_state(f, m.registry())
stream = f.getvalue()
print(f"{len(stream)} bytes; first 16: {stream[:16].hex(' ')}")

# %% [markdown]
# The stream starts with the magic `QEVM` (`51 45 56 4d`) and the file version 3. Then come
# *sections*: one per registered device (and RAM in pieces). The trace knows where each one is:

# %%
import pandas as pd
from vmstate_edu.viz.explorers import stream_sections

pd.DataFrame(stream_sections(t))[["name", "occurrence", "start", "size", "subsections"]]

# %% [markdown]
# ## Try it: the teaching machine explorer
#
# Tick **FPU enabled** or set **exception_index** to something other than -1 and watch a new
# *subsection* appear in the list and in the byte map. Pick a field in the byte map to light
# up its bytes; type an offset to see which field a byte belongs to.

# %%
from vmstate_edu.viz import explorers

ex = explorers.machine_explorer()
ex

# %% [markdown]
# The same thing, checked from Python (this is how the tests drive the widgets):

# %%
before = set(ex.subsections)
ex.set(fpu=True)
print("new subsections:", set(ex.subsections) - before)
ex.set(fpu=False)

# %% [markdown]
# ## Recap
# - A migration stream is a header, then sections (RAM in pieces, one FULL section per device),
#   then EOF and a JSON description of what was written.
# - `vmstate_edu.trace()` records every call and every byte; the views in `vmstate_edu.viz`
#   only read that record.
# - Features switched on at run time (an FPU, a pending exception) show up as *subsections*.
#   Notebook 01 looks at the calls that produce all this.
