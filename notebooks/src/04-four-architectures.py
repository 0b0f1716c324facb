# %% [markdown]
# # 04 · Four architectures
#
# **What you will learn here**
# - what the RISC-V, x86, ARM and PowerPC CPUs of real QEMU 10.0 save, register by register;
# - that one generic loop handles them all because each target *registers* its own description;
# - how a CPU description changes between QEMU 7.2 and 10.0 — and what the seed's table gets wrong.

# %% [markdown]
# ## The register tables
# `vmstate_edu.tables` reads the committed captures (`data/qemu-10.0/<case>/stream.mig.xz`) and
# names every saved element of the `cpu_common` and `cpu` sections. (Takes a few seconds.)

# %%
import vmstate_edu as v
from vmstate_edu import tables as T
from vmstate_edu.viz import tables as vt

tables = T.default_tables("10.0")
{arch: len(df) for arch, df in tables.items()}

# %% [markdown]
# Elements and bytes per category — the four CPUs are very different animals:

# %%
T.summary(tables)

# %% [markdown]
# Side by side, the first general-purpose registers of each:

# %%
vt.side_by_side(tables, categories=["general-purpose", "program counter"], per_arch=10)

# %% [markdown]
# One architecture in full detail (offsets are absolute stream offsets; rows are tinted by category):

# %%
rv = tables["riscv64"]
vt.style_registers(rv[rv.category.isin(["program counter", "status/control"])], max_rows=25)

# %% [markdown]
# ## The seed's table, held against the streams

# %%
import pandas as pd
from vmstate_edu.viz import qemulog

cases = {"RISC-V": "riscv64-virt-running", "x86": "x86_64-pc-running",
         "ARM": "aarch64-virt-running", "PowerPC": "ppc64-pseries-running"}
rows = []
for (arch, vmsd, claim), (name, case) in zip(qemulog.SEED_TABLE, cases.items()):
    log = qemulog.read_log("10.0", case)
    cpu = next(r for r in qemulog.log_sections(log) if r["idstr"] == "cpu")
    version = next(r["version_id"] for r in qemulog.loaded_versions(qemulog.read_log("10.0", case, "load"))
                   if r["idstr"] == "cpu")
    rows.append({"architecture": arch, "seed says": claim, "cpu version": version,
                 "top-level fields": cpu["fields"], "subsections sent": ", ".join(cpu["subsections"])})
pd.DataFrame(rows)

# %% [markdown]
# - The C names are right (`vmstate_riscv_cpu`, `vmstate_x86_cpu`, `vmstate_arm_cpu`,
#   `vmstate_ppc_cpu`), but on the wire every one is called `cpu`, version 10 / 12 / 22 / 5.
# - ARM has no "r[16]" field in AArch64 state: `env.xregs` carries the 31 X registers and the
#   coprocessor registers travel as two parallel arrays, `cpreg_vmstate_indexes` / `_values`:

# %%
arm = tables["aarch64"]
arm.groupby("field", sort=False).size().loc[lambda s: s > 8]

# %% [markdown]
# ## 7.2 → 10.0: the RISC-V CPU description changed

# %%
from vmstate_edu.viz.qemulog import data_root

s72 = v.load_stream(data_root() / "qemu-7.2/riscv64-virt-running/stream.mig.xz")
s10 = v.load_stream(data_root() / "qemu-10.0/riscv64-virt-running/stream.mig.xz")
T.compare_versions(s72, s10)

# %% [markdown]
# ## Explore the real streams yourself
# Pick a QEMU version, a capture and a section; the byte map shows its bytes, coloured by field.

# %%
from vmstate_edu.viz import explorers

rx = explorers.real_stream_explorer("10.0", "x86_64-pc-running", "cpu")
rx

# %% [markdown]
# ## Flip a CPU feature, watch a subsection appear
# The hand-written descriptions (`vmstate_edu/arch/`) mirror `target/*/machine.c`, including
# the `needed()` predicates. Flip a feature of a real captured CPU — RISC-V's V extension, Arm's
# SVE, x86's MONITOR (what `-cpu max` turns on), PowerPC's VSX — and the `cpu` section sends a
# subsection more or less (green: added, red: gone). The tests check each flip against a real
# capture made with that `-cpu` option.

# %%
fx = explorers.cpu_feature_explorer("10.0", "riscv64")
fx.set_feature("V (vector)", True)  # as if started with -cpu rv64,v=true
print(fx.subsections)
fx

# %% [markdown]
# ## Recap
# - Every architecture sends a `cpu_common` and a `cpu` section per vCPU; the contents are
#   whatever that target's `VMStateDescription` lists — a few dozen fields on RISC-V, hundreds of
#   coprocessor registers on ARM, a thousand SPRs and SLB entries on PowerPC.
# - The generic code is the same; the data (descriptions) differ. Nothing is "detected".
# - Descriptions evolve between releases: versions bump, fields and subsections are added.
# - Optional state travels in subsections whose `needed()` follows the CPU's features: turn V on
#   and `cpu/vector` appears; that is the seed's "disabled features are not saved", measured.
