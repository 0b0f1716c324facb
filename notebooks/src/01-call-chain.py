# %% [markdown]
# # 01 · The call chain, and where the seed document is wrong
#
# **What you will learn here**
# - the real order of calls when QEMU saves a machine: header → setup → iterate → **complete**;
# - how to read a real QEMU trace log (`-trace 'vmstate_*' -trace 'savevm_*'`);
# - six claims of the seed document, each held against real QEMU 7.2 / 10.0 evidence.

# %% [markdown]
# ## What the seed claims
# The seed (an explainer titled "`vmstate_save` saves the corresponding architecture state")
# describes this chain:

# %%
from vmstate_edu.viz import qemulog

for depth, step in enumerate(qemulog.SEED_CHAIN):
    print("  " * depth + "→ " + step)

# %% [markdown]
# ## The chain as our engine runs it
# The teaching machine, saved under a trace. Each line is a call with the stream bytes it covers.

# %%
import vmstate_edu as v
from vmstate_edu.machine import demo_machine
from vmstate_edu.viz import callchain

m = demo_machine()
m.cpu.fpu_enabled = True
f = v.QEMUFile()
with v.trace() as t:
    v.qemu_savevm_state(f, m.registry())
print(callchain.call_tree_text(t))

# %%
fig = callchain.callchain_figure(t, x="seq", title="teaching machine save (x = trace record)")

# %% [markdown]
# `x="seq"` gives every call room; with the default `x="offset"` the bars are drawn at their
# stream offsets and the RAM pages dominate. Fold and unfold the tree here:

# %%
callchain.callchain_widget(t, open_depth=2)

# %% [markdown]
# ## Claim 1 — "device state is saved in `qemu_savevm_state_setup`"
# Real QEMU 7.2, RISC-V `virt`, after OpenSBI has run. For each section the phase it was saved in:

# %%
import pandas as pd

log72 = qemulog.read_log("7.2", "riscv64-virt-running")
secs = pd.DataFrame(qemulog.log_sections(log72))
secs[["phase", "idstr", "section_id", "vmsd", "fields", "subsections"]]

# %%
print(secs.groupby("phase").idstr.apply(list).to_dict())
print([line for line in log72.splitlines() if line.startswith("savevm_state_")])

# %% [markdown]
# **Wrong.** Setup only starts the iterative handlers (RAM). Every device section, the CPU's
# included, is written in the completion phase (`qemu_savevm_state_complete_precopy` →
# `..._non_iterable`), after the last RAM pass — our engine does the same (see the tree above).

# %% [markdown]
# ## Claim 2 — "registers are written by hand-written `qemu_put_be64` loops"
# QEMU logs one `vmstate_save_state_loop` line per *field* of the description, whatever its
# element count: the generic loop in `vmstate_save_state_v` writes them.

# %%
fields72 = qemulog.section_fields(log72, "cpu")
print(len(fields72), "top-level fields in 7.2's cpu section; the first ones:", fields72[:6])
print([l for l in log72.splitlines() if "cpu/env.gpr" in l])

# %%
print(t.qemu_log("10.0").split("vmstate_save cpu, cpu")[1].splitlines()[1:8])

# %% [markdown]
# **Wrong.** `env.gpr` is one field, `VMSTATE_UINTTL_ARRAY(env.gpr, RISCVCPU, 32)`; the same
# generic loop writes every field of every device. Our engine prints the same kind of lines.

# %% [markdown]
# ## Claim 3 — "`vmstate_riscv_cpu` is version 10"
# The version travels in each section header; the load log prints it.

# %%
for ver in ("7.2", "10.0"):
    rows = qemulog.loaded_versions(qemulog.read_log(ver, "riscv64-virt-running", "load"))
    cpu = next(r for r in rows if r["idstr"] == "cpu")
    n = len(qemulog.section_fields(qemulog.read_log(ver, "riscv64-virt-running"), "cpu"))
    print(f"QEMU {ver}: cpu version_id {cpu['version_id']}, {n} top-level fields")

# %% [markdown]
# **Only true for recent releases** (9.x/10.x). QEMU 7.2 sends version 5 with one field fewer.

# %% [markdown]
# ## Claim 4 — "the subsections are PMP and vector"

# %%
for case in ("riscv64-virt-running", "riscv64-virt-v-running", "riscv64-virt-noh-running"):
    for ver in ("7.2", "10.0"):
        cpu = next(r for r in qemulog.log_sections(qemulog.read_log(ver, case)) if r["idstr"] == "cpu")
        print(f"{ver:5} {case:26} {cpu['subsections']}")

# %% [markdown]
# **Incomplete.** `cpu/hyper`, `cpu/envcfg`, `cpu/debug` (and `cpu/timer` in 10.0) are sent
# too; `cpu/vector` only with `-cpu rv64,v=true`; `h=false` drops `cpu/hyper`. Each subsection
# has its own `needed()`.

# %% [markdown]
# ## Claim 5 — "the entry with idstr `cpu` saves the architecture's CPU state"

# %%
for case in ("riscv64-virt-running", "x86_64-pc-running", "aarch64-virt-running", "ppc64-pseries-running"):
    rows = qemulog.log_sections(qemulog.read_log("10.0", case))
    print(f"{case:24}", [r["idstr"] for r in rows if r["idstr"] in ("cpu_common", "cpu", "timer")])

# %% [markdown]
# **Half true.** Each vCPU sends *two* sections, `cpu_common` (the generic `CPUState`: halted,
# interrupt_request, …) and `cpu` (the architecture's `env`), plus a global `timer` section.

# %% [markdown]
# ## Claim 6 — "automatic architecture detection"
# The generic code never detects anything. Each target *registers* its own description; the
# save loop just walks the list. Same line, four architectures, four different descriptions:

# %%
for case in ("riscv64-virt-running", "x86_64-pc-running", "aarch64-virt-running", "ppc64-pseries-running"):
    log = qemulog.read_log("10.0", case)
    line = next(l for l in log.splitlines() if l.startswith("vmstate_save cpu,"))
    print(f"{case:24} {line.strip():24} {len(qemulog.section_fields(log, 'cpu'))} fields")
print([(se.idstr, se.vmsd.name if se.vmsd else "(live)") for se in m.registry().handlers])

# %% [markdown]
# ## Take the chain with you
# `to_chrome_trace` writes the calls as Chrome trace-event JSON; open the file in
# <https://ui.perfetto.dev>. The time axis is the stream offset, so the timeline is a byte map.

# %%
import json, tempfile, os

path = os.path.join(tempfile.mkdtemp(), "teaching-save.json")
obj = callchain.to_chrome_trace(t, path)
print(path, len(obj["traceEvents"]), "events;", json.dumps(obj["traceEvents"][2])[:120])

# %% [markdown]
# ## Recap
# - `qemu_savevm_state`: header (+ configuration) → setup (RAM starts) → iterate (RAM passes)
#   → **complete**: RAM's last piece, then one FULL section per device via `vmstate_save` →
#   `vmstate_save_state_v` → the generic field loop, subsections last.
# - The seed's chain is right in the middle (`vmstate_save` → `vmstate_save_state_v`) but wrong
#   about the phase, the loops, the version, the subsections and "detection".
# - Real QEMU logs are plain text: `vmstate_edu.viz.qemulog` reads them.
