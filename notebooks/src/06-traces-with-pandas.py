# %% [markdown]
# # 06 · Traces with pandas
#
# **What you will learn here**
# - to turn a stream or a trace into a DataFrame (one row per field element or event);
# - to answer questions with `groupby`: bytes per section and type, the hottest fields;
# - to diff two snapshots of the same machine and find what changed.

# %%
import pandas as pd
import vmstate_edu as v
from vmstate_edu.viz.qemulog import data_root

x86 = v.load_stream(data_root() / "qemu-10.0/x86_64-q35-running/stream.mig.xz")
df = x86.to_dataframe()
print(len(df), "field elements")
df.head()

# %% [markdown]
# ## Bytes per section (device state only; RAM is not a field)

# %%
per_section = df.groupby("section", observed=True)["size"].sum().sort_values(ascending=False)
ax = per_section.head(15).plot.barh(figsize=(8, 4), title="x86_64 q35: device bytes per section")
ax.invert_yaxis()
per_section.head(10)

# %% [markdown]
# ## Bytes per info type

# %%
df.groupby("type", observed=True)["size"].agg(["count", "sum"]).sort_values("sum", ascending=False).head(10)

# %% [markdown]
# ## The hottest fields: where do the bytes go?

# %%
(df.groupby(["section", "path"], observed=True)["size"].sum()
   .sort_values(ascending=False).head(10).to_frame("bytes"))

# %% [markdown]
# ## Trace events as a DataFrame
# A traced load of the same stream: which QEMU trace events fired, how often?

# %%
t = x86.trace_load()
ev = t.to_dataframe()
ev[ev.kind == "qemu"].event.value_counts().head(10)

# %% [markdown]
# ## Diff two snapshots
# The same RISC-V machine paused at reset and after 300 ms of OpenSBI. Which CPU registers moved?

# %%
from vmstate_edu.diff import diff_streams

a = v.load_stream(data_root() / "qemu-10.0/riscv64-virt-paused/stream.mig.xz")
b = v.load_stream(data_root() / "qemu-10.0/riscv64-virt-running/stream.mig.xz")
d = diff_streams(a, b)
changed = pd.DataFrame(d["changed"], columns=["section", "field", "paused", "running"])
print(len(changed), "differences,", (changed.section == "ram:0").sum(), "of them RAM pages")
changed[changed.section.str.startswith("cpu")].head(15)

# %% [markdown]
# The same with the teaching machine and the trace DataFrames — a register changed, and only
# its 8 bytes differ:

# %%
from vmstate_edu.machine import demo_machine

def fields(m):
    f = v.QEMUFile()
    with v.trace() as t:
        v.qemu_savevm_state(f, m.registry())
    d = t.to_dataframe()
    d = d[(d.kind == "field") & (d.field != "page data")]
    return d.set_index(["section", "field", "index"])["raw"]

m = demo_machine()
before = fields(m)
m.cpu.env.regs[6] = 0x600D
after = fields(m)
before[before != after]

# %% [markdown]
# ## Recap
# - `Stream.to_dataframe()`: one row per field element (section, path, index, type, offset,
#   size, value, raw); `Tracer.to_dataframe()`: one row per trace record.
# - `groupby` answers "where do the bytes go"; on x86 most device bytes are a few big arrays.
# - Diffing two snapshots is a join on (section, path, index) — `vmstate_edu.diff` does it for
#   real streams, RAM pages included.
