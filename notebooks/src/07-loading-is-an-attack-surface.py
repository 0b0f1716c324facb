# %% [markdown]
# # 07 · Loading is an attack surface
#
# **What you will learn here**
# - why a migration stream is untrusted input, and what `post_load` validation is for;
# - what crafted streams do to a loader: wrong versions, huge counts, bad indices, unknown sections;
# - how our loader fails: always a `VMStateError` naming the **offset** and the **field path**, with
#   configurable limits — never a crash, never a hang.

# %% [markdown]
# QEMU's loader trusts the description, not the bytes: a count read from the stream sizes an
# allocation, an index read from the stream is later used to index an array. QEMU has had CVEs of
# exactly that shape (e.g. CVE-2013-4526 … 4542, a series of "buffer overrun on incoming
# migration" fixes, most of them repaired by adding checks in `post_load` or `VMSTATE_VALIDATE`).

# %%
import vmstate_edu as v
from vmstate_edu.machine import demo_machine, TeachingMachine

good = demo_machine().save()

def load(data):
    """Load into a fresh teaching machine; report what happened."""
    try:
        TeachingMachine.load(data)
        return "loaded"
    except v.VMStateError as e:
        return f"{type(e).__name__}: {e}"

print(load(good))

# %% [markdown]
# ## 1. A truncated stream

# %%
print(load(good[:8700]))

# %% [markdown]
# ## 2. A version the receiver does not support
# Find the `cpu` section's version field with the trace, and change it:

# %%
f = v.QEMUFile()
with v.trace() as t:
    v.qemu_savevm_state(f, demo_machine().registry())
ver = next(r for r in t.rows if r[2] == "frame" and r[4] == "cpu" and r[6] == "version id")
bad = bytearray(good)
bad[ver[9]: ver[9] + 4] = (99).to_bytes(4, "big")
print(f"version id at offset {ver[9]}:", load(bytes(bad)))

# %% [markdown]
# ## 3. An index that must be validated
# A FIFO device saves its buffer and a read position. In C, a crafted `pos` would index past the
# buffer later. QEMU's answer is a `post_load` check; ours turns a refusal into a `ValidationError`.

# %%
from types import SimpleNamespace
import errno

def fifo_post_load(s, version_id):
    return -errno.EINVAL if not 0 <= s.pos < len(s.buf) else 0

fifo = v.VMStateDescription("fifo", version_id=1, minimum_version_id=1,
                            post_load=fifo_post_load,
                            fields=[v.VMSTATE_UINT8_ARRAY("buf", 16), v.VMSTATE_UINT32("pos")])
f = v.QEMUFile()
v.vmstate_save_state(f, fifo, SimpleNamespace(buf=bytearray(16), pos=3))
crafted = f.getvalue()[:16] + (4096).to_bytes(4, "big")
try:
    v.vmstate_load_state(v.QEMUFile(crafted), fifo, SimpleNamespace(buf=bytearray(16), pos=0), 1)
except v.ValidationError as e:
    print(type(e).__name__, "—", e)

# %% [markdown]
# ## 4. A count that asks for the moon
# A variable-length array whose length is read from the stream: the limits stop it before any
# allocation (`vmstate_edu.LIMITS`).

# %%
vbuf = v.VMStateDescription("vbuf", version_id=1, minimum_version_id=1, fields=[
    v.VMSTATE_UINT32("n"), v.VMSTATE_VARRAY_UINT32("data", "n", 0, v.vmstate_info_uint8)])
crafted = (0xFFFFFFFF).to_bytes(4, "big") + b"\x00" * 8
try:
    v.vmstate_load_state(v.QEMUFile(crafted), vbuf, SimpleNamespace(n=0, data=[]), 1)
except v.LimitExceeded as e:
    print(type(e).__name__, "—", e)
print(v.LIMITS)

# %% [markdown]
# ## 5. A section the receiver has never heard of

# %%
idstr = next(r for r in t.rows if r[2] == "frame" and r[4] == "serial" and r[6] == "idstr")
bad = bytearray(good)
bad[idstr[9]: idstr[9] + 6] = b"serixl"
print(load(bytes(bad)))

# %% [markdown]
# ## 6. Random damage: every failure is a VMStateError
# Flip one byte at a time across the device sections (not RAM pages) and tally the outcomes.
# Some flips land in values and load "fine" — a reminder that validation can only check what
# the description knows about.

# %%
import random
from collections import Counter

rng = random.Random(7)
start = next(r[9] for r in t.rows if r[2] == "frame" and r[4] == "timer" and r[6] == "section type")
end = next(r[9] for r in t.rows if r[2] == "frame" and r[6] == "EOF") + 1
outcomes = Counter()
for _ in range(300):
    bad = bytearray(good)
    i = rng.randrange(start, end)
    bad[i] ^= 1 << rng.randrange(8)
    try:
        TeachingMachine.load(bytes(bad))
        outcomes["loaded"] += 1
    except v.VMStateError as e:
        outcomes[type(e).__name__] += 1
outcomes

# %% [markdown]
# Anything other than a `VMStateError` would have ended this cell with a traceback: none did.
# Every error names where it happened, so a tool can point at the byte:

# %%
try:
    TeachingMachine.load(good[:8650])
except v.VMStateError as e:
    print("offset:", e.offset, " path:", e.path, " errno:", e.errno)

# %% [markdown]
# ## Recap
# - The receiver trusts its description, not the sender: counts, sizes and indices from the
#   stream must be bounded (limits) and checked (`post_load`, `VMSTATE_VALIDATE`, `_EQUAL` types).
# - Versions outside `[minimum_version_id, version_id]`, unknown sections/subsections and footer
#   mismatches are refused before damage is done.
# - Our loader reports every failure as a `VMStateError` with the stream offset and field path.
