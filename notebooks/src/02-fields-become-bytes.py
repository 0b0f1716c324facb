# %% [markdown]
# # 02 · Fields become bytes
#
# **What you will learn here**
# - how a `VMStateField` with an *info type* (`uint32`, `bool`, `buffer`, …) writes its bytes;
# - arrays (one put per element) and structs (a nested description, recursed into);
# - how to read a byte map: every byte of a section, coloured by the field it belongs to.

# %% [markdown]
# ## Info types
# An info type is a pair of functions, `get` and `put`. The integer ones write big-endian,
# whatever the guest's byte order:

# %%
import vmstate_edu as v

for name in ("bool", "uint8", "uint16", "uint32", "int32", "uint64", "int32 le", "timer"):
    info = v.INFOS[name]
    f = v.QEMUFile()
    info.put(f, 1 if name == "bool" else 0x1234 if name != "uint8" else 0x12, info.width, None)
    print(f"{name:10} width {info.width}  →  {f.getvalue().hex(' ')}")

# %% [markdown]
# ## A small device: single fields, an array, a struct

# %%
from types import SimpleNamespace

vmstate_channel = v.VMStateDescription(
    "channel", version_id=1, minimum_version_id=1,
    fields=[v.VMSTATE_UINT8("mode"), v.VMSTATE_UINT16("count")])

vmstate_dma = v.VMStateDescription(
    "dma", version_id=1, minimum_version_id=1,
    fields=[
        v.VMSTATE_UINT32("status"),
        v.VMSTATE_UINT32_ARRAY("addr", 3),
        v.VMSTATE_STRUCT_ARRAY("chan", 2, 1, vmstate_channel),
        v.VMSTATE_BOOL("enabled"),
    ])

dma = SimpleNamespace(status=0xA0, addr=[0x1000, 0x2000, 0x3000], enabled=True,
                      chan=[SimpleNamespace(mode=1, count=16), SimpleNamespace(mode=2, count=512)])
f = v.QEMUFile()
with v.trace() as t:
    v.vmstate_save_state(f, vmstate_dma, dma)
print(f.getvalue().hex(" "))

# %% [markdown]
# The trace shows the recursion: each struct element is a nested `vmstate_save_state_v`, and
# field paths say where a byte came from (`chan[1].count`).

# %%
from vmstate_edu.viz import callchain

print(callchain.call_tree_text(t, fields=True))

# %%
t.to_dataframe().query("kind == 'field'")[["field", "index", "info", "offset", "size", "value"]]

# %% [markdown]
# ## The byte map
# Colours are fields; grey hatched bytes are *framing* (section type, ids, names, versions,
# subsection markers, footers). Here the teaching machine's `cpu` section:

# %%
from vmstate_edu.machine import demo_machine
from vmstate_edu.viz import bytemap

m = demo_machine()
f = v.QEMUFile()
with v.trace() as t:
    v.qemu_savevm_state(f, m.registry())
stream = f.getvalue()
fig = bytemap.bytemap_figure(t, section="cpu", data=stream)

# %% [markdown]
# ## Both ways: field → bytes, byte → field
# Choose a field in the drop-down: its bytes light up. Hover over a byte: every byte of its
# element is outlined. Click a byte (or type an offset, or drag the slider): the info line
# says which field, type and value that byte belongs to.

# %%
w = bytemap.bytemap_widget(t, section="cpu", data=stream)
w

# %%
lit = w.select_field("env.pc")
print(w.selected_field, "→", len(lit), "bytes from", hex(min(lit)))
span = w.select_offset(min(lit) + 7)
print(w.info_text)

# %% [markdown]
# ## Recap
# - A field = a name (where the value lives), an info type (how to write it), flags (single,
#   array, struct, pointer…) and a version.
# - Arrays write one element after another, structs recurse into their own description; no
#   lengths or names are written for fields — the receiver must have the same description.
# - The byte map is built from the trace's *leaf* records, which tile the stream exactly.
