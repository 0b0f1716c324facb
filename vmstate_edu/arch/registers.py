"""Register names as the architecture manuals give them, mapped to the C
field paths QEMU's ``cpu`` description saves them under."""

from __future__ import annotations

RISCV_ABI = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
             "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
             "s10", "s11", "t3", "t4", "t5", "t6"]
RISCV_FABI = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
              "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6",
              "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"]
X86_GPR = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
           "r12", "r13", "r14", "r15"]
X86_SEGS = ["es", "cs", "ss", "ds", "fs", "gs"]


def _riscv() -> dict[str, tuple[str, int | None]]:
    m: dict[str, tuple[str, int | None]] = {"pc": ("env.pc", None)}
    for i in range(32):
        m[f"x{i}"] = ("env.gpr", i)
        m[RISCV_ABI[i]] = ("env.gpr", i)
        m[f"f{i}"] = ("env.fpr", i)
        m[RISCV_FABI[i]] = ("env.fpr", i)
    m["fp"] = ("env.gpr", 8)
    for csr in ("mstatus", "mip", "mie", "mideleg", "medeleg", "mtvec", "stvec", "mepc", "sepc",
                "mcause", "scause", "mtval", "stval", "mscratch", "sscratch", "satp", "priv",
                "misa", "frm", "mcounteren", "scounteren"):
        m[csr] = (f"env.{csr}", None)
    return m


def _x86() -> dict[str, tuple[str, int | None]]:
    m: dict[str, tuple[str, int | None]] = {"rip": ("env.eip", None), "eip": ("env.eip", None),
                                             "eflags": ("env.eflags", None),
                                             "rflags": ("env.eflags", None)}
    for i, n in enumerate(X86_GPR):
        m[n] = ("env.regs", i)
        if i < 8:
            m["e" + n[1:]] = ("env.regs", i)
    for n in ("cr0", "cr2", "cr3", "cr4"):
        m[n] = ("env.cr", int(n[2]))
    m["efer"] = ("env.efer", None)
    return m


def _arm() -> dict[str, tuple[str, int | None]]:
    m: dict[str, tuple[str, int | None]] = {"pc": ("env.pc", None), "sp": ("env.xregs", 31),
                                             "pstate": ("env.pstate", None)}
    for i in range(32):
        m[f"x{i}"] = ("env.xregs", i)
    for i in range(16):
        m[f"r{i}"] = ("env.regs", i)
    m["lr"] = ("env.xregs", 30)
    m["fp"] = ("env.xregs", 29)
    return m


def _ppc() -> dict[str, tuple[str, int | None]]:
    # LR, CTR and XER travel in env.spr[] (SPR numbers 8, 9, 1); the
    # hand-written model keeps them as env.lr/ctr/xer and copies them in pre_save
    m: dict[str, tuple[str, int | None]] = {"nip": ("env.nip", None), "pc": ("env.nip", None),
                                             "lr": ("env.spr", 8), "ctr": ("env.spr", 9),
                                             "msr": ("env.msr", None), "xer": ("env.spr", 1)}
    for i in range(32):
        m[f"r{i}"] = ("env.gpr", i)
        m[f"gpr{i}"] = ("env.gpr", i)
    return m


REGISTERS: dict[str, dict[str, tuple[str, int | None]]] = {
    "riscv": _riscv(), "x86": _x86(), "arm": _arm(), "ppc": _ppc(),
}


def arch_family(arch: str) -> str:
    """``riscv64``/``riscv32`` → ``riscv``, ``x86_64`` → ``x86``, ``aarch64`` → ``arm``…"""
    a = arch.lower()
    if a.startswith("riscv"):
        return "riscv"
    if a in ("x86_64", "i386", "x86"):
        return "x86"
    if a in ("aarch64", "arm"):
        return "arm"
    if a.startswith("ppc"):
        return "ppc"
    raise KeyError(arch)


# where a hand-written model keeps a register that its pre_save copies to the wire
MODEL_ATTRIBUTES: dict[str, dict[str, str]] = {
    "ppc": {"lr": "env.lr", "ctr": "env.ctr", "xer": "env.xer"},
}


def register_path(arch: str, name: str) -> tuple[str, int | None]:
    """(C field path, element index) of a register name, e.g. ``("env.gpr", 10)`` for a0."""
    table = REGISTERS[arch_family(arch)]
    try:
        return table[name.lower()]
    except KeyError:
        raise KeyError(f"{arch} has no register named {name!r}") from None


def stream_arch(vmdesc: dict | None) -> str | None:
    """The architecture of a stream, from its ``cpu`` section's JSON fields."""
    for dev in (vmdesc or {}).get("devices", []):
        if dev.get("name") != "cpu":
            continue
        names = {f.get("name") for f in dev.get("fields", [])}
        if "env.xregs" in names or "env.aarch64" in names:
            return "aarch64"
        if "env.eip" in names:
            return "x86_64"
        if "env.nip" in names:
            return "ppc64"
        if "env.gpr" in names and "env.pc" in names:
            size = next((f.get("size") for f in dev["fields"] if f.get("name") == "env.pc"), 8)
            return "riscv64" if size == 8 else "riscv32"
    return None
