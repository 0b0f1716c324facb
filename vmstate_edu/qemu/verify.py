"""Load a stream into real QEMU and read the state back.

``load_in_qemu`` starts QEMU with the machine options recorded in a capture's
``manifest.json`` plus ``-incoming 'exec:cat FILE'``, waits until the
incoming migration has completed (or failed), runs HMP commands through QMP
(``human-monitor-command``: ``info registers``, ``xp`` …), optionally lets
the machine run for a moment, and quits. :func:`parse_registers` turns
``info registers`` into a dict.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .capture import (
    CaptureError,
    CaptureSpec,
    _arun,
    _base_args,
    _close,
    _connect,
    _execute,
    _Host,
    _Qemu,
    _qemu_version,
    _quit,
    _tail,
)

# where scripts/install-other-qemu.sh puts the other Debian release's QEMU
OTHER_ROOTS = (Path("/opt/trixie"), Path("/opt/bookworm"))


@dataclass
class LoadResult:
    """What real QEMU made of a stream."""

    ok: bool
    status: str
    error: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    after_run: dict[str, str] = field(default_factory=dict)


def _release(version_line: str) -> str:
    """``"QEMU emulator version 7.2.22 (Debian …)"`` → ``"7.2"``."""
    m = re.search(r"version (\d+)\.(\d+)", version_line or "")
    return f"{m.group(1)}.{m.group(2)}" if m else "?"


def _spec(manifest: dict[str, Any], root: Path | None) -> CaptureSpec:
    bios = manifest.get("bios")
    return CaptureSpec(arch=manifest["arch"], output=Path(tempfile.gettempdir()),
                       machine=manifest.get("machine"), cpu=manifest.get("cpu"),
                       memory=manifest.get("memory"), smp=int(manifest.get("smp") or 1),
                       qemu_root=root, bios=Path(bios) if bios else None,
                       extra_args=list(manifest.get("extra_args") or []))


def spec_from_manifest(manifest: dict[str, Any], qemu_root: Path | None = None) -> CaptureSpec:
    """The machine options of a capture, run by a QEMU of the capture's
    release: the one in the recorded root (a chroot) if it is there, else
    the system's own if its version matches. Raises CaptureError otherwise
    (a stream only loads into the release and machine type that wrote it)."""
    want = _release(manifest.get("qemu_version", ""))
    recorded = manifest.get("qemu_root")
    roots: list[Path | None] = [qemu_root] if qemu_root is not None else []
    if qemu_root is None:  # the recorded root, the system, the usual chroots
        for r in ([Path(recorded)] if recorded else []) + [None, *OTHER_ROOTS]:
            if r not in roots and (r is None or r.is_dir() or r == Path(recorded or "/")):
                roots.append(r)
    seen = []
    for root in roots:
        spec = _spec(manifest, root)
        host = _Host(spec.qemu_root)
        try:
            binary = host.find_binary(spec.binary())
            have = _release(_qemu_version(host, binary, 20.0))
        except CaptureError as e:
            seen.append(str(e))
            continue
        if have == want:
            return spec
        seen.append(f"{binary}{' in ' + str(root) if root else ''} is QEMU {have}, "
                    f"the stream needs {want}")
    raise CaptureError("; ".join(seen) or f"no QEMU {want}")


def qemu_available(manifest: dict[str, Any]) -> str | None:
    """None if a QEMU of the release this manifest needs can run here, else why not."""
    try:
        spec = spec_from_manifest(manifest)
        if spec.bios is not None and not spec.bios.is_file():
            return f"firmware {spec.bios} is missing"
    except CaptureError as e:
        return str(e)
    try:
        import qemu.qmp  # noqa: F401
    except ImportError:
        return "the qemu.qmp package is not installed"
    return None


async def _session(qemu: _Qemu, sock: Path, commands: list[str], run_ms: int | None,
                   timeout: float, result: LoadResult) -> None:
    deadline = time.monotonic() + timeout
    client = await _connect(qemu, sock, deadline)
    try:
        while True:
            info = await _execute(client, qemu, "query-migrate", None, deadline)
            status = info.get("status", "")
            if status == "completed":
                break
            if status in ("failed", "cancelled"):
                result.status = status
                result.error = info.get("error-desc", "") or _tail(qemu.stderr)
                return
            if time.monotonic() > deadline:
                raise CaptureError(f"timed out waiting for the incoming migration ({status})")
            await asyncio.sleep(0.05)
        result.ok, result.status = True, "completed"
        for cmd in commands:
            result.outputs[cmd] = await _execute(client, qemu, "human-monitor-command",
                                                 {"command-line": cmd}, deadline)
        if run_ms:
            await _execute(client, qemu, "cont", None, deadline)
            await asyncio.sleep(run_ms / 1000)
            await _execute(client, qemu, "stop", None, deadline)
            for cmd in commands:
                result.after_run[cmd] = await _execute(client, qemu, "human-monitor-command",
                                                       {"command-line": cmd}, deadline)
        await _quit(client, qemu)
    finally:
        await _close(client)


def load_in_qemu(stream: bytes, manifest: dict[str, Any], commands: list[str] | None = None,
                 run_ms: int | None = None, timeout: float = 60.0) -> LoadResult:
    """Start QEMU with ``-incoming`` on ``stream``; run HMP ``commands`` once
    it has loaded (and again after running ``run_ms`` milliseconds)."""
    spec = spec_from_manifest(manifest)
    host = _Host(spec.qemu_root)
    binary = host.find_binary(spec.binary())
    commands = commands or ["info registers"]
    base = host.tmp_base()
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vmverify-", dir=base) as tmp:
        work = Path(tmp)
        mig = work / "stream.mig"
        mig.write_bytes(stream)
        sock = work / "qmp.sock"
        cmd = _base_args(spec, host, binary) + [
            "-qmp", f"unix:{host.to_guest(sock)},server=on,wait=off",
            "-incoming", f"exec:cat {host.to_guest(mig)}"]
        qemu = _Qemu(cmd, work, "destination")
        result = LoadResult(ok=False, status="")
        try:
            qemu.start()
            try:
                _arun(_session(qemu, sock, commands, run_ms, timeout, result))
            except CaptureError as e:
                if qemu.wait(2.0):  # QEMU refused the stream and exited
                    result.status = "failed"
                    result.error = _tail(qemu.stderr) or str(e)
                else:
                    raise
        finally:
            qemu.kill()
        if not result.ok and not result.error:
            result.error = _tail(qemu.stderr)
        return result


def read_manifest(case_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(case_dir) / "manifest.json").read_text())


def parse_registers(text: str, arch: str) -> dict[str, int]:
    """``info registers`` as {name: value}, names lower-case as the
    architecture manual writes them (``a0``, ``rax``, ``x0``, ``r3``, ``pc``)."""
    regs: dict[str, int] = {}
    a = arch.lower()
    if a.startswith("ppc"):
        for m in re.finditer(r"GPR(\d\d)((?:\s+[0-9a-fA-F]{16})+)", text):
            base = int(m.group(1))
            for k, word in enumerate(m.group(2).split()):
                regs[f"r{base + k}"] = int(word, 16)
        for name in ("NIP", "LR", "CTR", "MSR", "XER"):
            m = re.search(rf"\b{name}\s+([0-9a-fA-F]+)", text)
            if m:
                regs[name.lower()] = int(m.group(1), 16)
        return regs
    for m in re.finditer(r"\b([A-Za-z][\w/]*?)\s*[=:]?\s*=?\s*([0-9a-fA-F]{8,16})\b", text):
        name, value = m.group(1), int(m.group(2), 16)
        for part in name.split("/"):
            key = part.lower()
            if a.startswith("aarch64") and re.fullmatch(r"x\d\d", key):
                key = f"x{int(key[1:])}"
            regs.setdefault(key, value)
    if a in ("x86_64", "i386", "x86"):  # real/protected mode prints EAX, EIP, EFL
        for r32, r64 in (("eax", "rax"), ("ebx", "rbx"), ("ecx", "rcx"), ("edx", "rdx"),
                         ("esi", "rsi"), ("edi", "rdi"), ("ebp", "rbp"), ("esp", "rsp"),
                         ("eip", "rip"), ("efl", "eflags"), ("rfl", "eflags")):
            if r32 in regs:
                regs.setdefault(r64, regs[r32])
    return regs
