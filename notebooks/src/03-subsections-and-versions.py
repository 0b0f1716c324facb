# %% [markdown]
# # 03 · Subsections and versions
#
# **What you will learn here**
# - `needed()`: how optional state is sent only when it matters (subsections);
# - `version_id`, `minimum_version_id` and `_V` fields: how a description grows across releases;
# - what happens when an older stream is loaded, and which ones are refused.

# %% [markdown]
# ## needed() decides
# The teaching CPU has a subsection `cpu/fpu` whose `needed()` returns `cpu.fpu_enabled`, and
# `cpu_common` has `cpu_common/exception_index` (needed when an exception is pending) — the
# same pattern as QEMU's `vmstate_cpu_common_exception_index`.

# %%
import vmstate_edu as v
from vmstate_edu.machine import demo_machine, vmstate_teaching_cpu, vmstate_cpu_common
from vmstate_edu.viz.explorers import stream_sections

def save(m):
    f = v.QEMUFile()
    with v.trace() as t:
        v.qemu_savevm_state(f, m.registry())
    return f.getvalue(), t

for fpu, exc in [(False, -1), (True, -1), (True, 3)]:
    m = demo_machine()
    m.cpu.fpu_enabled, m.cpu.parent_obj.exception_index = fpu, exc
    data, t = save(m)
    subs = [s for sec in stream_sections(t) for s in sec["subsections"]]
    print(f"fpu={fpu!s:5} exception_index={exc:2}: {len(data)} bytes, subsections {subs}")

# %% [markdown]
# A subsection on the wire: marker `05`, name length, the name (with its parent's prefix),
# a be32 version, then its fields — all after the parent's own fields:

# %%
from vmstate_edu.viz import bytemap

fig = bytemap.bytemap_figure(t, section="cpu", data=data)

# %% [markdown]
# ## Versions
# `vmstate_teaching_cpu` is version 2; `env.flags` was added in version 2
# (`VMSTATE_UINT32_V("env.flags", 2)`); `minimum_version_id` is 1.

# %%
print(vmstate_teaching_cpu, "minimum", vmstate_teaching_cpu.minimum_version_id)
print([(fl.name, fl.version_id) for fl in vmstate_teaching_cpu.fields])

# %% [markdown]
# An "old QEMU" writes version 1: same description, saved at version 1, so `env.flags` is left
# out. Loading it, the field's existence test says no (`exists=0` in the 10.0 log format):

# %%
from vmstate_edu.machine import TeachingCPU

old = v.QEMUFile()
v.vmstate_save_state_v(old, vmstate_teaching_cpu, demo_machine().cpu, None, 1)
new = v.QEMUFile()
v.vmstate_save_state(new, vmstate_teaching_cpu, demo_machine().cpu)
print(len(old.getvalue()), "bytes at version 1,", len(new.getvalue()), "at version 2")

cpu = TeachingCPU()
with v.trace() as t:
    v.vmstate_load_state(v.QEMUFile(old.getvalue()), vmstate_teaching_cpu, cpu, 1)
print("\n".join(l for l in t.qemu_log("10.0").splitlines() if "load_state" in l))
print("env.flags keeps its default:", cpu.env.flags)

# %% [markdown]
# Outside `[minimum_version_id, version_id]` the section is refused before a byte is read:

# %%
for version in (0, 3):
    try:
        v.vmstate_load_state(v.QEMUFile(new.getvalue()), vmstate_teaching_cpu, TeachingCPU(), version)
    except v.VersionError as e:
        print(f"version {version}: {e}")

# %% [markdown]
# And a subsection the receiver does not know is an error too — which is exactly why
# `needed()` should be false whenever the state is at its default: then an older QEMU, which
# has no such subsection, can still load the stream.

# %%
m = demo_machine(); m.cpu.fpu_enabled = True
data, _ = save(m)
from vmstate_edu.machine import TeachingMachine
import vmstate_edu.machine as tm

reg = TeachingMachine().registry()
for se in reg.handlers:
    if se.idstr == "cpu":   # an "older QEMU": cpu without the fpu subsection
        se.vmsd = v.VMStateDescription("cpu", version_id=2, minimum_version_id=1,
                                       fields=tm.vmstate_teaching_cpu.fields)
try:
    v.qemu_loadvm_state(v.QEMUFile(data), reg)
except v.VMStateError as e:
    print(type(e).__name__, "—", e)

# %% [markdown]
# ## Real QEMU does the same
# RISC-V's `cpu/vector` is only sent with `-cpu rv64,v=true`; x86's `cpu` declares dozens of
# subsections but a default `pc` machine sends two:

# %%
from vmstate_edu.viz import qemulog

for ver, case in [("10.0", "riscv64-virt-running"), ("10.0", "riscv64-virt-v-running"),
                  ("10.0", "x86_64-pc-running"), ("10.0", "x86_64-pc-max-running")]:
    cpu = next(r for r in qemulog.log_sections(qemulog.read_log(ver, case)) if r["idstr"] == "cpu")
    print(f"{case:24} {cpu['subsections']}")

# %% [markdown]
# ## Recap
# - Subsections follow their parent's fields, each with marker, name, version; `needed()`
#   decides per save. Keep `needed()` false at default values for backward migration.
# - A field added in version N is declared `_V(..., N)` and bumps `version_id`; loading an
#   older stream skips it. `minimum_version_id` is the oldest stream still accepted.
# - The receiver's description decides how bytes are read; a mismatch shows up as a wrong
#   value, an unknown subsection, or (notebook 07) a section-footer error.
