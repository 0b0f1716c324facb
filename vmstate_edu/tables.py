"""Per-architecture tables of the registers a CPU saves, built from a stream.

One row per saved element of the ``cpu_common`` and ``cpu`` sections:
architecture, QEMU version, section, subsection, field path as in QEMU's C,
register name as the architecture manual writes it, category, type, width,
stream offset, value. Plus a side-by-side summary of the four architectures
and a 7.2-versus-10.0 comparison of a CPU description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .arch.registers import RISCV_ABI, RISCV_FABI, X86_GPR, X86_SEGS, arch_family, stream_arch

CATEGORIES = ("general-purpose", "floating point/vector", "program counter", "status/control",
              "memory management", "interrupt", "timer/counter", "other")

# (regex on "subsection:path", category), first match wins; per family
_RULES: dict[str, list[tuple[str, str]]] = {
    "common": [
        (r"^:halted$", "status/control"),
        (r"^:interrupt_request$|exception_index$", "interrupt"),
    ],
    "riscv": [
        (r":env\.gpr$", "general-purpose"),
        (r":env\.pc$", "program counter"),
        (r":env\.(fpr|frm|fflags|fcsr)$|^cpu/vector|env\.v(reg|xrm|xsat|l|type|start)", "floating point/vector"),
        (r"satp|pmp|env\.(guest_phys_fault_addr|mseccfg)|hgatp", "memory management"),
        (r"pmu|mhpm|timecmp|htimedelta|stimer|vstimer|count|cpu/timer", "timer/counter"),
        (r"env\.(m|s|h|vs)?(ip|ie|ideleg|edeleg|iprio|vien|vip|claim|select|geie|geip|victl|"
         r"iprio)$|env\.(m|s|vs|h)?(tvec|epc|cause|tval|tinst|tval2)(_hs)?$|badaddr|env\.vsie|"
         r"claim|select|hviprio",
         "interrupt"),
        (r"status|misa|priv|virt_enabled|mhartid|resetvec|envcfg|ext_ver|scratch|trigger|tdata|"
         r"xl$|smstateen|mstateen|hstateen|sstateen", "status/control"),
    ],
    "x86": [
        (r":env\.regs$", "general-purpose"),
        (r":env\.eip$", "program counter"),
        (r"fpu|fpus|fptag|fpregs|mxcsr|xmm|ymm|zmm|opmask|xstate|bnd|hi16|pkru|xtilecfg|xtiledata",
         "floating point/vector"),
        (r"segs|ldt|env\.tr\b|gdt|pat$|mtrr", "memory management"),
        (r"idt|interrupt|exception|nmi|error_code|sipi|soft_int|v_tpr|intercept|injected|pending",
         "interrupt"),
        (r"tsc|time|clock|msr_smi_count|pmu|msr_fixed|msr_gp|global_ctrl|global_status|"
         r"global_ovf|pebs|msr_ia32_feature|lbr", "timer/counter"),
        (r"eflags|hflags|\.cr|efer|xcr0|a20|smbase|mp_state|sysenter|star$|lstar|cstar|fmask|"
         r"kernelgsbase|\.dr$|misc_enable|spec_ctrl|virt_ssbd|poll_control|umwait|xss|ucode|"
         r"mcg|mce|smi|triple_fault", "status/control"),
    ],
    "arm": [
        (r":env\.(regs|xregs|banked_r13|banked_r14|usr_regs|fiq_regs|sp_el)$", "general-purpose"),
        (r":env\.pc$", "program counter"),
        (r"vfp|fpscr|fpsr|fpcr|sve|zregs|pregs|za|zt0|cpu/za|cpu/sme", "floating point/vector"),
        (r"gt_timer|pmu|pmsav|cpu/pmsav", "timer/counter"),
        (r"irq_line|exception\.|elr_el|banked_spsr|env\.spsr|m_|cpu/m|nvic", "interrupt"),
        (r"cpsr|pstate|aarch64|power_state|cpreg|thumb|condexec|env\.features|tagged|mte",
         "status/control"),
    ],
    "ppc": [
        (r":env\.gprh?$", "general-purpose"),
        (r":env\.nip$", "program counter"),
        (r"vsr|fpscr|vscr|spe_acc|spe_fscr|cpu/fpu|cpu/altivec|cpu/vsx", "floating point/vector"),
        (r"slb|tlb|sdr1|\.sr$|\.pb$|cpu/mmu|cpu/tlb|spr_cb|vrma|lpcr", "memory management"),
        (r"tb_env|decr|tb_|purr|timebase|bhrb|cpu/bhrb", "timer/counter"),
        (r"pending_interrupts|irq|excp|cpu/pending", "interrupt"),
        (r"msr|crf|\.spr$|hflags|xer|lr$|ctr$|reserve|access_type|nmsr", "status/control"),
    ],
}


def category(family: str, subsection: str | None, path: str) -> str:
    """Which of :data:`CATEGORIES` a saved field belongs to."""
    key = f"{subsection or ''}:{path}"
    for rx, cat in _RULES["common"] + _RULES.get(family, []):
        if re.search(rx, key):
            return cat
    return "other"


def register_name(family: str, path: str, index: int | None) -> str:
    """The name an architecture manual gives the saved element."""
    i = index
    if family == "riscv":
        if path == "env.gpr" and i is not None:
            return f"x{i}/{RISCV_ABI[i]}"
        if path == "env.fpr" and i is not None:
            return f"f{i}/{RISCV_FABI[i]}"
    elif family == "x86":
        if path == "env.regs" and i is not None:
            return X86_GPR[i]
        if path == "env.eip":
            return "rip"
        if path == "env.eflags":
            return "rflags"
        m = re.match(r"env\.segs\[?(\d*)\]?\.?(\w*)", path)
        if path.startswith("env.segs") and i is not None:
            return X86_SEGS[i] if i < len(X86_SEGS) else f"seg{i}"
        if m and path.startswith("env.segs["):
            return f"{X86_SEGS[int(m.group(1))]}.{m.group(2)}"
        m = re.match(r"env\.cr\[(\d)\]", path)
        if m:
            return f"cr{m.group(1)}"
        if path.startswith("env.xmm_regs") and i is not None:
            return f"xmm{i}"
    elif family == "arm":
        if path == "env.xregs" and i is not None:
            return "sp" if i == 31 else f"x{i}"
        if path == "env.regs" and i is not None:
            return f"r{i}"
        m = re.match(r"env\.vfp\.zregs\[(\d+)\]\.d", path)
        if m:
            return f"v{m.group(1)}" + (f".d[{i}]" if i is not None else "")
    elif family == "ppc":
        if path == "env.gpr" and i is not None:
            return f"gpr{i}"
        if path == "env.crf" and i is not None:
            return f"cr{i}"
        if path == "env.spr" and i is not None:
            return f"spr{i}"
        if path == "env.vsr" and i is not None:
            return f"vsr{i}"
    base = path.rsplit(".", 1)[-1]
    base = re.sub(r"\[\w+\]$", "", base) if "[" in base and i is None else base
    return base + (f"[{i}]" if i is not None else "")


def register_table(stream: Any, arch: str | None = None):
    """The registers of one stream's CPU sections as a DataFrame."""
    import pandas as pd

    arch = arch or stream_arch(stream.vmdesc) or "unknown"
    fam = arch_family(arch) if arch != "unknown" else "unknown"
    df = stream.to_dataframe()
    df = df[df["section"].isin(["cpu_common", "cpu"])].copy()
    idx = [None if pd.isna(x) else int(x) for x in df["index"]]
    df["architecture"] = arch
    df["qemu_version"] = stream.qemu_version
    df["field"] = df["path"]
    df["register"] = [register_name(fam, p, i) if s == "cpu" else p
                      for p, i, s in zip(df["path"], idx, df["section"])]
    df["category"] = [category(fam if s == "cpu" else "common", sub, p) if s == "cpu"
                      else category("common", None, p)
                      for s, sub, p in zip(df["section"], df["subsection"], df["path"])]
    df["width"] = df["size"]
    cols = ["architecture", "qemu_version", "section", "instance", "subsection", "field", "index",
            "register", "category", "type", "width", "offset", "value"]
    return df[cols].reset_index(drop=True)


DEFAULT_CASES = {
    "riscv64": "riscv64-virt-running", "x86_64": "x86_64-pc-running",
    "aarch64": "aarch64-virt-running", "ppc64": "ppc64-pseries-running",
}


def data_dir() -> Path:
    """The committed captures (``data/`` beside the package, in a checkout)."""
    return Path(__file__).resolve().parent.parent / "data"


def default_tables(qemu_version: str = "10.0", cases: dict[str, str] | None = None) -> dict:
    """{arch: register table} from the committed default captures."""
    from .stream import load_stream

    out = {}
    for arch, case in (cases or DEFAULT_CASES).items():
        path = data_dir() / f"qemu-{qemu_version}" / case / "stream.mig.xz"
        out[arch] = register_table(load_stream(path), arch)
    return out


def summary(tables: dict | Iterable) -> Any:
    """Fields and bytes per category, the architectures side by side."""
    import pandas as pd

    frames = list(tables.values()) if isinstance(tables, dict) else list(tables)
    df = pd.concat(frames, ignore_index=True)
    g = df.groupby(["category", "architecture"]).agg(fields=("field", "size"),
                                                    bytes=("width", "sum"))
    wide = g.unstack("architecture").fillna(0).astype(int)
    wide = wide.reindex([c for c in CATEGORIES if c in wide.index])
    return wide


def compare_versions(stream_old: Any, stream_new: Any, section: str = "cpu") -> Any:
    """What changed in a CPU description between two releases: fields added,
    removed, retyped, subsections added/removed, and the version bump."""
    import pandas as pd

    def desc(s: Any) -> dict:
        return next(d for d in s.vmdesc["devices"] if d["name"] == section)

    def flat(d: dict, sub: str = "") -> dict[str, tuple[str, int]]:
        out = {}
        for f in d.get("fields", []):
            out[f"{sub}{f['name']}"] = (f.get("type"), f.get("array_len", 1))
        for s in d.get("subsections", []):
            out.update(flat(s, s["vmsd_name"] + ":"))
        return out

    a, b = desc(stream_old), desc(stream_new)
    fa, fb = flat(a), flat(b)
    rows = []
    if a.get("version") != b.get("version"):
        rows.append(("version bump", section, f"v{a.get('version')}", f"v{b.get('version')}"))
    for k in fa:
        if k not in fb:
            rows.append(("removed", k, f"{fa[k][0]} x{fa[k][1]}", ""))
        elif fa[k] != fb[k]:
            rows.append(("retyped", k, f"{fa[k][0]} x{fa[k][1]}", f"{fb[k][0]} x{fb[k][1]}"))
    for k in fb:
        if k not in fa:
            rows.append(("added", k, "", f"{fb[k][0]} x{fb[k][1]}"))
    old = getattr(stream_old, "qemu_version", "old")
    new = getattr(stream_new, "qemu_version", "new")
    return pd.DataFrame(rows, columns=["change", "field", old, new])
