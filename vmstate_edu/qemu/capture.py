"""Capture a real QEMU migration stream together with its save/load traces.

One capture ("case") runs two QEMU processes:

1. the *source*, started paused (``-S``) with the save-side trace events
   enabled; optionally it runs for a few milliseconds (``cont`` / ``stop``),
   then ``migrate`` writes the stream with ``exec:cat > stream.mig``;
2. the *destination*, started with the same machine options plus
   ``-incoming 'exec:cat stream.mig'`` and the load-side trace events, which
   must load the stream successfully.

The case folder receives ``stream.mig.xz``, ``save.log.xz``, ``load.log.xz``
and ``manifest.json``.  QEMU may run inside a chroot (``--qemu-root``), for
example a Debian 13 root holding QEMU 10.0 on a Debian 12 machine; its
working files then live inside that root.

Usage::

    python -m vmstate_edu.qemu.capture --arch riscv64 --machine virt \\
        --variant running --run-ms 200 -o data/qemu-7.2/riscv64-virt-running
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import hashlib
import json
import logging
import lzma
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CaptureError",
    "CaptureSpec",
    "capture",
    "check_trailer",
    "main",
]

#: Default machine type for each architecture.
DEFAULT_MACHINE = {
    "riscv64": "virt",
    "riscv32": "virt",
    "x86_64": "pc",
    "i386": "pc",
    "aarch64": "virt",
    "arm": "virt",
    "ppc64": "pseries",
}

#: CPU used when none is given (``None``: the machine's own default).
DEFAULT_CPU = {"aarch64": "cortex-a57"}

#: Default ``-m`` per architecture (pseries refuses very small guests).
DEFAULT_MEMORY = {"ppc64": "256M"}

SAVE_TRACE = ["vmstate_*", "savevm_*", "qemu_savevm_*"]
LOAD_TRACE = ["vmstate_*", "qemu_loadvm_*", "loadvm_*"]

QEVM_MAGIC = b"QEVM"
QEVM_VERSION = 3
QEMU_VM_EOF = 0x00
QEMU_VM_VMDESCRIPTION = 0x06

STDERR_TAIL_LINES = 8


class CaptureError(Exception):
    """A capture failed; the message is one line meant for the user."""


@dataclass
class CaptureSpec:
    """Everything that defines one capture."""

    arch: str
    output: Path
    machine: str | None = None
    cpu: str | None = None
    variant: str = "paused"  # paused | running (stop, then migrate) | live (migrate running)
    run_ms: int = 200
    live_ms: int = 3000  # live: stop the guest this long into the migration, if still going
    memory: str | None = None
    smp: int = 1
    qemu_root: Path | None = None
    qemu_binary: str | None = None
    bios: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    timeout: float = 60.0
    keep_work: bool = False
    # migration capabilities set on both sides (``migrate-set-capabilities``),
    # e.g. ["x-ignore-shared"]; the destination then starts with -incoming defer
    capabilities: list[str] = field(default_factory=list)
    # migration parameters (``migrate-set-parameters``) of the source, e.g.
    # {"zero-page-detection": "none"}
    parameters: dict[str, Any] = field(default_factory=dict)

    def resolved_machine(self) -> str:
        """Machine type (``-machine`` value) to use."""
        if self.machine:
            return self.machine
        try:
            return DEFAULT_MACHINE[self.arch]
        except KeyError:
            raise CaptureError(
                f"no default machine for arch {self.arch!r}; pass --machine"
            ) from None

    def resolved_cpu(self) -> str | None:
        """CPU model (``-cpu`` value) or ``None`` for the machine default."""
        return self.cpu if self.cpu else DEFAULT_CPU.get(self.arch)

    def resolved_memory(self) -> str:
        """Guest RAM size (``-m`` value)."""
        return self.memory or DEFAULT_MEMORY.get(self.arch, "64M")

    def binary(self) -> str:
        """Name (or path) of the QEMU system emulator."""
        return self.qemu_binary or f"qemu-system-{self.arch}"


# --------------------------------------------------------------------------
# Host / chroot helpers


class _Host:
    """Runs commands on the host or inside a chroot and maps file paths."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root is not None else None

    def prefix(self) -> list[str]:
        """Command prefix that enters the root (empty on the host)."""
        return ["chroot", str(self.root)] if self.root is not None else []

    def to_guest(self, host_path: Path) -> str:
        """Path as seen by a process inside the root."""
        host_path = host_path.resolve()
        if self.root is None:
            return str(host_path)
        try:
            rel = host_path.relative_to(self.root)
        except ValueError:
            raise CaptureError(
                f"{host_path} is outside the QEMU root {self.root}; "
                "files used by a chrooted QEMU must live inside it"
            ) from None
        return "/" + str(rel)

    def tmp_base(self) -> Path:
        """Host folder under which a work folder visible to QEMU is made."""
        if self.root is None:
            return Path(tempfile.gettempdir())
        return self.root / "tmp"

    def find_binary(self, name: str) -> str:
        """Check that the QEMU binary exists; return the name to execute."""
        if self.root is None:
            found = shutil.which(name)
            if found is None:
                raise CaptureError(
                    f"QEMU binary {name!r} not found on PATH "
                    "(install the matching qemu-system-* package)"
                )
            return found
        if not self.root.is_dir():
            raise CaptureError(f"QEMU root {self.root} does not exist")
        if os.geteuid() != 0:
            raise CaptureError("running QEMU in a chroot (--qemu-root) needs root")
        if shutil.which("chroot") is None:
            raise CaptureError("the 'chroot' command is not available")
        if name.startswith("/"):
            if (self.root / name.lstrip("/")).is_file():
                return name
        else:
            for d in ("usr/bin", "usr/local/bin", "bin", "usr/sbin"):
                if (self.root / d / name).is_file():
                    return f"/{d}/{name}"
        raise CaptureError(f"QEMU binary {name!r} not found inside {self.root}")


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    """Last non-empty lines of a text file joined into one line."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(kept)


def _lines(path: Path, limit: int = 20) -> list[str]:
    """Last non-empty lines of a text file (QEMU's warnings, for the manifest)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()][-limit:]


def _qemu_version(host: _Host, binary: str, timeout: float) -> str:
    """First line of ``qemu-system-* --version``."""
    cmd = [*host.prefix(), binary, "--version"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CaptureError(f"'{shlex.join(cmd)}' timed out") from None
    except OSError as exc:
        raise CaptureError(f"cannot run {binary}: {exc}") from None
    if res.returncode != 0 or not res.stdout.strip():
        tail = " | ".join(res.stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
        raise CaptureError(f"'{shlex.join(cmd)}' failed: {tail or 'no output'}")
    return res.stdout.strip().splitlines()[0]


# --------------------------------------------------------------------------
# Stream checks


def check_trailer(data: bytes) -> int:
    """Validate a stream's header and JSON trailer.

    Returns the offset of the trailing ``QEMU_VM_EOF`` byte; raises
    :class:`CaptureError` when the stream is truncated or malformed.
    """
    if len(data) < 8 or data[:4] != QEVM_MAGIC:
        raise CaptureError("stream does not start with the QEVM magic")
    (version,) = struct.unpack(">I", data[4:8])
    if version != QEVM_VERSION:
        raise CaptureError(f"unexpected stream version {version}")
    pos = len(data)
    while True:
        pos = data.rfind(bytes([QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION]), 8, pos)
        if pos < 0:
            raise CaptureError("stream has no JSON trailer (truncated?)")
        if pos + 6 <= len(data):
            (length,) = struct.unpack(">I", data[pos + 2 : pos + 6])
            if pos + 6 + length == len(data):
                try:
                    json.loads(data[pos + 6 :])
                except ValueError:
                    pass
                else:
                    return pos


def _wait_stream(path: Path, timeout: float) -> bytes:
    """Wait until the stream file is complete (``cat`` may still be writing):
    it ends with its JSON trailer, or (a machine that sends none, e.g.
    ``suppress-vmdesc=on`` or an old machine type) it ends with
    ``QEMU_VM_EOF`` and has stopped growing for half a second."""
    deadline = time.monotonic() + timeout
    last_err = "stream file was never written"
    size, since = -1, time.monotonic()
    while True:
        if path.is_file():
            data = path.read_bytes()
            try:
                check_trailer(data)
            except CaptureError as exc:
                last_err = str(exc)
                if len(data) != size:
                    size, since = len(data), time.monotonic()
                elif (len(data) > 8 and data[:4] == QEVM_MAGIC and data[-1] == QEMU_VM_EOF
                        and time.monotonic() - since > 0.5):
                    return data
            else:
                return data
        if time.monotonic() > deadline:
            raise CaptureError(f"incomplete migration stream {path}: {last_err}")
        time.sleep(0.05)


# --------------------------------------------------------------------------
# Running QEMU


class _Qemu:
    """One QEMU process with its QMP socket; always cleaned up on exit."""

    def __init__(self, cmd: list[str], workdir: Path, name: str) -> None:
        self.cmd = cmd
        self.name = name
        self.stdout = workdir / f"{name}.stdout"
        self.stderr = workdir / f"{name}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            try:
                self.proc = subprocess.Popen(
                    self.cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:
                raise CaptureError(f"cannot start {self.cmd[0]}: {exc}") from None

    def exited(self) -> int | None:
        assert self.proc is not None
        return self.proc.poll()

    def died_error(self, what: str) -> CaptureError:
        """Error describing an unexpected exit, with the stderr tail."""
        code = self.exited()
        tail = _tail(self.stderr) or "no message on stderr"
        return CaptureError(f"{self.name} QEMU exited (status {code}) {what}: {tail}")

    def wait(self, timeout: float) -> bool:
        """Wait for the process to end; True when it did."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """Kill QEMU and the children in its session (e.g. ``cat``)."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.terminate()
            if not self.wait(3.0):
                self.proc.kill()
                self.wait(5.0)
        # the exec: migration helper lives in QEMU's process group
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


async def _connect(qemu: _Qemu, sock: Path, deadline: float) -> Any:
    """Connect a QMPClient to QEMU's socket, retrying until it is up."""
    from qemu.qmp import QMPClient

    while True:
        if qemu.exited() is not None:
            raise qemu.died_error("during start-up")
        if sock.exists():
            client = QMPClient(f"vmstate-edu-{qemu.name}")
            try:
                remaining = max(0.1, deadline - time.monotonic())
                await asyncio.wait_for(client.connect(str(sock)), remaining)
                return client
            except asyncio.TimeoutError:
                await _close(client)
            except Exception:  # ConnectError wrapping OSError/EOFError
                await _close(client)
        if time.monotonic() > deadline:
            raise CaptureError(f"timed out connecting to {qemu.name} QEMU's QMP socket")
        await asyncio.sleep(0.05)


async def _close(client: Any) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 5.0)
    except Exception:  # noqa: BLE001 - the peer may already be gone
        pass


async def _execute(
    client: Any, qemu: _Qemu, cmd: str, args: dict[str, Any] | None, deadline: float
) -> Any:
    """Run one QMP command with a timeout, turning failures into CaptureError."""
    from qemu.qmp import ExecuteError

    remaining = max(0.1, deadline - time.monotonic())
    try:
        return await asyncio.wait_for(client.execute(cmd, args), remaining)
    except ExecuteError as exc:
        raise CaptureError(f"QMP '{cmd}' failed on {qemu.name} QEMU: {exc}") from None
    except asyncio.TimeoutError:
        raise CaptureError(f"QMP '{cmd}' timed out on {qemu.name} QEMU") from None
    except Exception as exc:  # noqa: BLE001 - connection lost
        if qemu.wait(1.0):
            raise qemu.died_error(f"during QMP '{cmd}'") from None
        raise CaptureError(
            f"QMP '{cmd}' on {qemu.name} QEMU failed: {type(exc).__name__}: {exc}"
        ) from None


async def _quit(client: Any, qemu: _Qemu) -> None:
    """Ask QEMU to quit; the connection dropping is expected."""
    try:
        await asyncio.wait_for(client.execute("quit"), 5.0)
    except Exception:  # noqa: BLE001 - QEMU hangs up while answering
        pass
    await _close(client)
    if not await asyncio.to_thread(qemu.wait, 10.0):
        qemu.kill()


async def _save_session(qemu: _Qemu, sock: Path, spec: CaptureSpec, uri: str) -> None:
    """Source side: optionally run, then migrate to ``uri`` and quit."""
    deadline = time.monotonic() + spec.timeout
    client = await _connect(qemu, sock, deadline)
    try:
        await _set_capabilities(client, qemu, spec, deadline)
        if spec.parameters:
            await _execute(client, qemu, "migrate-set-parameters", dict(spec.parameters),
                           deadline)
        if spec.variant in ("running", "live"):
            await _execute(client, qemu, "cont", None, deadline)
            await asyncio.sleep(spec.run_ms / 1000.0)
        if spec.variant == "running":
            await _execute(client, qemu, "stop", None, deadline)
        deadline = time.monotonic() + spec.timeout
        await _execute(client, qemu, "migrate", {"uri": uri}, deadline)
        # live: the guest keeps dirtying pages while RAM is sent (pages go again,
        # as XBZRLE deltas when that capability is on); stopped after live_ms
        stop_at = time.monotonic() + spec.live_ms / 1000.0 if spec.variant == "live" else None
        while True:
            info = await _execute(client, qemu, "query-migrate", None, deadline)
            status = info.get("status")
            if status == "completed":
                break
            if stop_at is not None and time.monotonic() > stop_at:
                await _execute(client, qemu, "stop", None, deadline)
                stop_at = None
            if status in ("failed", "cancelled"):
                desc = info.get("error-desc", "")
                raise CaptureError(f"outgoing migration {status}: {desc or _tail(qemu.stderr)}")
            if time.monotonic() > deadline:
                raise CaptureError(f"timed out waiting for migration (status {status})")
            await asyncio.sleep(0.05)
        await _quit(client, qemu)
    finally:
        await _close(client)


async def _set_capabilities(client: Any, qemu: _Qemu, spec: CaptureSpec,
                            deadline: float) -> None:
    if spec.capabilities:
        caps = [{"capability": c, "state": True} for c in spec.capabilities]
        await _execute(client, qemu, "migrate-set-capabilities", {"capabilities": caps}, deadline)


async def _load_session(qemu: _Qemu, sock: Path, spec: CaptureSpec,
                        incoming: str | None = None) -> None:
    """Destination side: wait until the incoming stream has loaded, then quit.
    ``incoming``: the URI to start (QEMU was started with ``-incoming defer``
    so that capabilities could be set first)."""
    deadline = time.monotonic() + spec.timeout
    client = await _connect(qemu, sock, deadline)
    try:
        if incoming is not None:
            await _set_capabilities(client, qemu, spec, deadline)
            await _execute(client, qemu, "migrate-incoming", {"uri": incoming}, deadline)
        while True:
            info = await _execute(client, qemu, "query-migrate", None, deadline)
            status = info.get("status")
            if status == "completed":
                break
            if status in ("failed", "cancelled"):
                desc = info.get("error-desc", "")
                raise CaptureError(f"incoming migration {status}: {desc or _tail(qemu.stderr)}")
            run = await _execute(client, qemu, "query-status", None, deadline)
            if run.get("status") not in ("inmigrate", None):
                break  # the load finished and the runstate moved on
            if time.monotonic() > deadline:
                raise CaptureError(
                    f"timed out waiting for the incoming migration (status {status})"
                )
            await asyncio.sleep(0.05)
        await _quit(client, qemu)
    finally:
        await _close(client)


def _arun(coro: Any) -> Any:
    """``asyncio.run``, also from inside a running event loop (Jupyter):
    then the coroutine runs on a loop of its own in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _run_session(qemu: _Qemu, coro: Any) -> None:
    """Start QEMU, drive it with ``coro`` and make sure it is gone afterwards."""
    try:
        qemu.start()
        _arun(coro)
        if not qemu.wait(10.0):
            raise CaptureError(f"{qemu.name} QEMU did not quit")
        code = qemu.exited()
        if code not in (0, None):
            raise qemu.died_error("after quit")
    finally:
        qemu.kill()
        coro.close()  # no-op when it ran; avoids a warning when start failed


# --------------------------------------------------------------------------
# Command lines


def _base_args(spec: CaptureSpec, host: _Host, binary: str) -> list[str]:
    args = [
        *host.prefix(),
        binary,
        "-machine",
        spec.resolved_machine(),
    ]
    cpu = spec.resolved_cpu()
    if cpu:
        args += ["-cpu", cpu]
    args += [
        "-m",
        spec.resolved_memory(),
        "-smp",
        str(spec.smp),
        "-nodefaults",
        "-nographic",
        "-S",
    ]
    if spec.bios is not None:
        bios = Path(spec.bios)
        if not bios.is_file():
            raise CaptureError(f"firmware {bios} does not exist")
        args += ["-bios", host.to_guest(bios)]
    args += list(spec.extra_args)
    return args


def _trace_args(events: list[str], log: str) -> list[str]:
    args: list[str] = []
    for ev in events:
        args += ["-trace", ev]
    return args + ["-D", log]


# --------------------------------------------------------------------------
# Output


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary name in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=9)


def capture(spec: CaptureSpec) -> dict[str, Any]:
    """Run one capture and write the case folder; returns the manifest."""
    if spec.variant not in ("paused", "running", "live"):
        raise CaptureError(f"unknown variant {spec.variant!r} (paused|running|live)")
    if spec.run_ms < 0:
        raise CaptureError("--run-ms must not be negative")
    host = _Host(spec.qemu_root)
    binary = host.find_binary(spec.binary())
    try:
        import qemu.qmp  # noqa: F401
    except ImportError:
        raise CaptureError("the 'qemu.qmp' package is missing (pip install qemu.qmp)") from None
    version = _qemu_version(host, binary, spec.timeout)

    base = host.tmp_base()
    if not base.is_dir():
        raise CaptureError(f"temporary folder {base} does not exist")
    workdir = Path(tempfile.mkdtemp(prefix="vmcap-", dir=base))
    try:
        os.chmod(workdir, 0o755)
        stream = workdir / "stream.mig"
        save_log = workdir / "save.log"
        load_log = workdir / "load.log"
        save_sock = workdir / "save.qmp"
        load_sock = workdir / "load.qmp"
        g = host.to_guest
        base_args = _base_args(spec, host, binary)

        save_cmd = [
            *base_args,
            "-qmp",
            f"unix:{g(workdir)}/save.qmp,server=on,wait=off",
            *_trace_args(SAVE_TRACE, f"{g(workdir)}/save.log"),
        ]
        uri = f"exec:cat > {shlex.quote(g(workdir) + '/stream.mig')}"
        src = _Qemu(save_cmd, workdir, "source")
        _run_session(src, _save_session(src, save_sock, spec, uri))
        data = _wait_stream(stream, spec.timeout)

        incoming = f"exec:cat {shlex.quote(g(workdir) + '/stream.mig')}"
        load_cmd = [
            *base_args,
            "-qmp",
            f"unix:{g(workdir)}/load.qmp,server=on,wait=off",
            "-incoming",
            "defer" if spec.capabilities else incoming,
            *_trace_args(LOAD_TRACE, f"{g(workdir)}/load.log"),
        ]
        dst = _Qemu(load_cmd, workdir, "destination")
        _run_session(dst, _load_session(dst, load_sock, spec,
                                        incoming if spec.capabilities else None))

        for log in (save_log, load_log):
            if not log.is_file():
                raise CaptureError(f"QEMU wrote no trace log {log.name}")

        manifest: dict[str, Any] = {
            "qemu_version": version,
            "qemu_root": str(host.root) if host.root else None,
            "arch": spec.arch,
            "machine": spec.resolved_machine(),
            "cpu": spec.resolved_cpu(),
            "memory": spec.resolved_memory(),
            "smp": spec.smp,
            "variant": spec.variant,
            "run_ms": spec.run_ms if spec.variant != "paused" else None,
            "live_ms": spec.live_ms if spec.variant == "live" else None,
            "bios": str(spec.bios) if spec.bios else None,
            "extra_args": list(spec.extra_args),
            "capabilities": list(spec.capabilities),
            "parameters": dict(spec.parameters),
            "save_command": shlex.join(save_cmd),
            "load_command": shlex.join(load_cmd),
            "migrate_uri": uri,
            "save_argv": save_cmd,
            "load_argv": load_cmd,
            "qemu_stderr": {
                "source": _lines(src.stderr),
                "destination": _lines(dst.stderr),
            },
            "stream": {
                "file": "stream.mig.xz",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

        out = Path(spec.output)
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "stream.mig.xz", _xz(data))
        _write_atomic(out / "save.log.xz", _xz(save_log.read_bytes()))
        _write_atomic(out / "load.log.xz", _xz(load_log.read_bytes()))
        _write_atomic(
            out / "manifest.json",
            (json.dumps(manifest, indent=2) + "\n").encode(),
        )
        return manifest
    finally:
        if spec.keep_work:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------
# CLI


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the capture command."""
    p = argparse.ArgumentParser(
        prog="vmstate-edu capture",
        description="Capture a QEMU migration stream plus save/load traces.",
    )
    p.add_argument("--arch", required=True, help="e.g. riscv64, x86_64, aarch64, ppc64")
    p.add_argument("--machine", help="-machine value (default depends on --arch)")
    p.add_argument("--cpu", help="-cpu value (default: machine default; aarch64: cortex-a57)")
    p.add_argument("--variant", choices=("paused", "running", "live"), default="paused",
                   help="paused; running: run, stop, migrate; live: run and migrate while "
                   "running (stopped --live-ms into the migration)")
    p.add_argument("--live-ms", type=int, default=3000,
                   help="live: stop the guest this many ms into the migration (default 3000)")
    p.add_argument(
        "--run-ms", type=int, default=200, help="how long a 'running' guest runs before 'stop' (ms)"
    )
    p.add_argument("--memory", "--mem", dest="memory", help="-m value (default 64M; ppc64 256M)")
    p.add_argument("--smp", type=int, default=1)
    p.add_argument(
        "--qemu-root",
        "--chroot",
        dest="qemu_root",
        type=Path,
        help="run QEMU inside this chroot (e.g. /opt/trixie)",
    )
    p.add_argument("--qemu-binary", help="QEMU binary (default qemu-system-ARCH)")
    p.add_argument("--bios", type=Path, help="firmware file passed as -bios")
    for flag, dest, meta, text in (
        ("--extra-arg", "extra_args", "ARG", "extra QEMU argument"),
        ("--capability", "capabilities", "NAME",
         "migration capability to turn on at both ends, e.g. x-ignore-shared"),
        ("--parameter", "parameters", "NAME=VALUE",
         "migration parameter of the source, e.g. zero-page-detection=none "
         "(VALUE is read as JSON when it parses, else as a string)"),
    ):
        p.add_argument(flag, dest=dest, action="append", default=[], metavar=meta,
                       help=f"{text} (repeatable)")
    p.add_argument("--timeout", type=float, default=60.0, help="timeout of every wait, in seconds")
    p.add_argument("--keep-work", action="store_true", help="keep the temporary work folder")
    p.add_argument("-o", "--output", required=True, type=Path, help="case folder")
    return p


def _parameter(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--parameter wants NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    logging.getLogger("qemu.qmp").setLevel(logging.CRITICAL)
    spec = CaptureSpec(
        arch=args.arch,
        output=args.output,
        machine=args.machine,
        cpu=args.cpu,
        variant=args.variant,
        run_ms=args.run_ms,
        live_ms=args.live_ms,
        memory=args.memory,
        smp=args.smp,
        qemu_root=args.qemu_root,
        qemu_binary=args.qemu_binary,
        bios=args.bios,
        extra_args=args.extra_args,
        capabilities=args.capabilities,
        parameters=dict(_parameter(p) for p in args.parameters),
        timeout=args.timeout,
        keep_work=args.keep_work,
    )
    try:
        manifest = capture(spec)
    except CaptureError as exc:
        print(f"capture failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("capture interrupted", file=sys.stderr)
        return 130
    print(f"{spec.output}: {manifest['qemu_version']}, stream {manifest['stream']['size']} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
