# %% [markdown]
# # 05 · A real stream, from header to JSON
#
# **What you will learn here**
# - the parts of a real QEMU 10.0 stream: header, configuration, RAM pieces, device sections,
#   footers, EOF and the trailing JSON description;
# - how RAM is sent (mostly zero pages) and how devices are laid out;
# - how to analyse your own file with the same tools (`vmstate-edu analyze FILE` on the command line).

# %%
import pandas as pd
import vmstate_edu as v
from vmstate_edu.viz import bytemap, callchain
from vmstate_edu.viz.qemulog import data_root, manifest

case = "riscv64-virt-running"
s = v.load_stream(data_root() / "qemu-10.0" / case / "stream.mig.xz")
print(s)
print(manifest("10.0", case)["save_command"][:120], "…")

# %% [markdown]
# ## Sections, in stream order

# %%
secs = pd.DataFrame([vars(x) for x in s.sections])
secs["size"] = secs.end - secs.offset
secs

# %% [markdown]
# ## The header and the configuration section
# Magic `QEVM`, version 3, then `QEMU_VM_CONFIGURATION` (7) and the machine name — the only
# section without a footer.

# %%
t = s.trace_load()
data = bytes(s.data)
fig = bytemap.bytemap_figure(t, 0, secs.offset.min(), data=data, title="header + configuration")

# %% [markdown]
# ## RAM
# RAM is an *iterative* section: START (block list), PART (the pages), END. Most pages are
# zero pages: one flag word and one fill byte instead of 4096 bytes.

# %%
kinds = pd.DataFrame(s.ram.page_index(), columns=["block", "addr", "kind", "offset"])
kinds.groupby(["block", "kind"]).size().unstack(fill_value=0)

# %% [markdown]
# ### Four ways to send a page
# A page goes as a zero page (word + fill byte), in full (word + 4096 bytes), zlib-compressed
# (QEMU 7.2's `compress` capability: word + be32 length + data) or as an XBZRLE delta against
# the copy sent before (the `xbzrle` capability: word + u8 + be16 length + runs of unchanged
# and new bytes). The last needs a guest that keeps writing while it migrates: `capture
# --variant live`, with a boot sector that bumps two words of every page.

# %%
from vmstate_edu.viz.qemulog import case_stream

cases = [("10.0", "x86-xbzrle-live"), ("7.2", "x86-compress-running"), ("10.0", case)]
pd.DataFrame({f"{ver} {name}": v.load_stream(case_stream(ver, name)).ram.page_kinds()
              for ver, name in cases}).T.fillna(0).astype(int)

# %% [markdown]
# ### Flags live below the page size
# Each record starts with a be64 word: the page's address with the flags in the bits the
# address does not use — the bits *below the target page size*, not a fixed 12. Most guests
# have 4 KiB pages; an Arm `raspi3b` guest has 1 KiB pages (Arm's page size is chosen per
# machine), so its flags are only 10 bits and bits 10–11 are address. Read with the wrong
# mask, three of every four pages would land on the wrong address.

# %%
from vmstate_edu.ram import flag_names, split_record

pi = v.load_stream(data_root() / "qemu-10.0" / "edge" / "a64-raspi3b" / "stream.mig.xz")
word = next(w for w in pi.ram.rec_word if w & 0xC00 and w & 0x2)  # a zero page at ...400
print(f"raspi3b: page size {pi.ram.page_size}, record word 0x{word:016x}")
for psize in (pi.ram.page_size, 4096):
    addr, flags = split_record(word, psize)
    print(f"  read with {psize:4}-byte pages: address 0x{addr:x}, flags {flag_names(flags)}")

# %% [markdown]
# ## A device section, with its footer
# `riscv_mtimer` is small enough to see whole: header (type 4 = FULL, section id, idstr,
# instance, version), fields, then the footer `7e` + section id.

# %%
fig = bytemap.bytemap_figure(t, section="riscv_mtimer", data=data)

# %% [markdown]
# ## The JSON description at the end
# After EOF (`00`) comes `06`, a be32 length and a JSON text describing every device section's
# fields — which is how a reader without QEMU's source can still name the bytes.

# %%
print(data[s.vmdesc_offset - 6: s.vmdesc_offset + 60])
cpu_desc = next(d for d in s.vmdesc["devices"] if d["name"] == "cpu")
print({k: cpu_desc[k] for k in ("name", "instance_id", "vmsd_name", "version")})
pd.DataFrame(cpu_desc["fields"][:8])

# %% [markdown]
# ## The load, as a call tree (device sections only, fields folded)

# %%
print("\n".join(callchain.call_tree_text(t, max_depth=2).splitlines()[:14]))

# %% [markdown]
# ## Your own file
# Any stream works — from `migrate "exec:cat > f"`, or the teaching machine's own. Set `path` to
# your file; by default we save the teaching machine to a temporary file and read it back.

# %%
import os, tempfile
from vmstate_edu.machine import demo_machine

path = None   # e.g. "/tmp/my-vm.mig"
if path is None:
    path = os.path.join(tempfile.mkdtemp(), "teaching.mig")
    with open(path, "wb") as fh:
        fh.write(demo_machine().save())
mine = v.load_stream(path)
print(mine)
print("writes back identical bytes:", mine.to_bytes() == open(path, "rb").read())
pd.DataFrame([vars(x) for x in mine.sections])[["type", "idstr", "version_id", "offset", "end"]]

# %% [markdown]
# ## QEMU's own reader, `analyze-migration.py`, on these streams
# `vmstate-edu analyze FILE` prints the same JSON as QEMU's `scripts/analyze-migration.py -d state`
# (the tests compare them on every committed stream). What the script does with these streams,
# measured with each release's own script (see `data/README.md`):
#
# | stream | 7.2's script | 10.0's script |
# |---|---|---|
# | aarch64 `virt` | crashes: `Unknown section type: 5` — the configuration section's `target-page-bits` subsection | reads it (10.0 describes the configuration in the JSON) |
# | ppc64 `pseries` | Debian's 7.2.22 reads it; upstream 7.2.0 crashes with a `KeyError` because it reads the `spapr_iommu` instance id 0x80000000 as signed (fixed in the stable branch) | reads it |
# | `-m` (dump RAM) | crashes on Python 3 | crashes on Python 3 |
#
# Our reader takes the instance id unsigned and the configuration section through its own
# description, so it reads all of them:

# %%
from vmstate_edu.analyze import analyze_state

arm72 = v.load_stream(data_root() / "qemu-7.2" / "aarch64-virt-paused" / "stream.mig.xz")
print("7.2 aarch64 configuration:", arm72.config)
ppc = v.load_stream(data_root() / "qemu-7.2" / "ppc64-pseries-paused" / "stream.mig.xz")
print([k for k in analyze_state(ppc) if k.startswith("spapr_iommu")])

# %% [markdown]
# ## Recap
# - Header (magic, version) → configuration (no footer) → RAM START → RAM PART(s) → [10.0:
#   switchover command] → RAM END → one FULL section per device, each with a footer → EOF → JSON.
# - The JSON describes devices, not RAM; it lets a generic reader name every device byte.
# - `vmstate_edu.load_stream` reads any stream and writes it back byte-identically.
