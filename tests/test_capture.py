"""Tests of vmstate_edu.qemu.capture (real QEMU where available)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import lzma
import os
import shutil
import stat
import struct
from pathlib import Path

import pytest

from vmstate_edu.qemu.capture import CaptureError, CaptureSpec, capture, check_trailer, main

HAVE_QMP = importlib.util.find_spec("qemu") is not None and (
    importlib.util.find_spec("qemu.qmp") is not None
)


def _need_qmp() -> None:
    if not HAVE_QMP:
        pytest.skip("the qemu.qmp package is not installed (pip install qemu.qmp)")


def _need_riscv64() -> None:
    _need_qmp()
    if shutil.which("qemu-system-riscv64") is None:
        pytest.skip("qemu-system-riscv64 is not on PATH (apt install qemu-system-misc)")


def _fake_qemu(tmp_path: Path, body: str) -> Path:
    """A shell script that answers --version like QEMU and runs ``body`` else."""
    path = tmp_path / "qemu-system-fake"
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        '  echo "QEMU emulator version 0.0.0 (fake)"; exit 0\n'
        "fi\n" + body
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --------------------------------------------------------------------------
# Real QEMU


def test_capture_with_a_capability_and_without_json(tmp_path: Path) -> None:
    """``--capability`` reaches both ends (the destination starts with
    ``-incoming defer`` and is told the capability before the URI), and a
    machine that sends no JSON (``suppress-vmdesc=on``) still gives a
    complete stream: it ends in QEMU_VM_EOF and stops growing."""
    _need_riscv64()
    import vmstate_edu as v

    out = tmp_path / "cap"
    rc = main(["--arch", "riscv64", "--machine", "virt,suppress-vmdesc=on,memory-backend=m",
               "--extra-arg=-object", "--extra-arg=memory-backend-memfd,id=m,size=64M,share=on",
               "--capability", "x-ignore-shared", "--timeout", "60", "-o", str(out)])
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["capabilities"] == ["x-ignore-shared"]
    assert "defer" in manifest["load_argv"]
    stream = lzma.decompress((out / "stream.mig.xz").read_bytes())
    assert stream[-1] == 0  # QEMU_VM_EOF, no JSON after it
    with pytest.raises(CaptureError):
        check_trailer(stream)
    # the destination loaded it: its trace shows the configuration and the CPU
    load_log = lzma.decompress((out / "load.log.xz").read_bytes()).decode()
    assert "vmstate_load_state cpu" in load_log
    # the source had the capability: its configuration section lists it
    assert b"\x0fx-ignore-shared" in stream[:512]
    with pytest.raises(v.VMStateError, match="no JSON description"):
        v.load_stream(stream)


def test_capture_riscv64_virt_paused(tmp_path: Path) -> None:
    _need_riscv64()
    out = tmp_path / "riscv64-virt-paused"
    rc = main(
        [
            "--arch",
            "riscv64",
            "--machine",
            "virt",
            "--variant",
            "paused",
            "--timeout",
            "60",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["load.log.xz", "manifest.json", "save.log.xz", "stream.mig.xz"]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["qemu_version"].startswith("QEMU emulator version ")
    assert manifest["arch"] == "riscv64"
    assert manifest["machine"] == "virt"
    assert manifest["cpu"] is None
    assert manifest["variant"] == "paused"
    assert "qemu-system-riscv64" in manifest["save_command"]
    assert "-S" in manifest["save_argv"]
    assert any(a.startswith("exec:cat ") for a in manifest["load_argv"])
    assert "-incoming" in manifest["load_argv"]
    assert manifest["date"]

    stream = lzma.decompress((out / "stream.mig.xz").read_bytes())
    assert manifest["stream"]["size"] == len(stream)
    assert manifest["stream"]["sha256"] == hashlib.sha256(stream).hexdigest()
    assert stream[:4] == b"QEVM"
    assert struct.unpack(">I", stream[4:8])[0] == 3
    # trailer: QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION, be32 length, JSON
    eof = check_trailer(stream)
    assert stream[eof : eof + 2] == b"\x00\x06"
    (length,) = struct.unpack(">I", stream[eof + 2 : eof + 6])
    assert eof + 6 + length == len(stream)
    desc = json.loads(stream[eof + 6 :])
    assert any(d["name"] == "cpu" for d in desc["devices"])

    save_log = lzma.decompress((out / "save.log.xz").read_bytes()).decode()
    load_log = lzma.decompress((out / "load.log.xz").read_bytes()).decode()
    assert any(ln.startswith("vmstate_save ") for ln in save_log.splitlines())
    assert any(ln.startswith("vmstate_load_state ") for ln in load_log.splitlines())
    # nothing left behind next to the outputs
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_capture_refused_options_real_qemu(tmp_path: Path) -> None:
    _need_riscv64()
    spec = CaptureSpec(arch="riscv64", machine="no-such-machine", output=tmp_path / "x", timeout=30)
    with pytest.raises(CaptureError, match="exited .*no-such-machine|unsupported machine"):
        capture(spec)
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------
# Error paths without QEMU


def test_missing_binary_raises(tmp_path: Path) -> None:
    spec = CaptureSpec(
        arch="riscv64", qemu_binary="qemu-system-does-not-exist", output=tmp_path / "out"
    )
    with pytest.raises(CaptureError, match="qemu-system-does-not-exist.*not found"):
        capture(spec)


def test_missing_binary_cli_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--arch", "nosucharch", "-o", str(tmp_path / "out")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "qemu-system-nosucharch" in err and "not found" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_chroot_root(tmp_path: Path) -> None:
    spec = CaptureSpec(arch="riscv64", qemu_root=tmp_path / "no-root", output=tmp_path / "out")
    with pytest.raises(CaptureError, match="does not exist"):
        capture(spec)


def test_qemu_refusing_options_reports_stderr(tmp_path: Path) -> None:
    _need_qmp()
    fake = _fake_qemu(
        tmp_path, 'echo "qemu-system-fake: -machine virt: bogus option" >&2\nexit 1\n'
    )
    spec = CaptureSpec(arch="riscv64", qemu_binary=str(fake), output=tmp_path / "out", timeout=10)
    with pytest.raises(CaptureError, match="exited \\(status 1\\).*bogus option"):
        capture(spec)


def test_timeout_kills_qemu(tmp_path: Path) -> None:
    _need_qmp()
    pidfile = tmp_path / "pid"
    fake = _fake_qemu(tmp_path, f'echo $$ > "{pidfile}"\nexec sleep 60\n')
    spec = CaptureSpec(arch="riscv64", qemu_binary=str(fake), output=tmp_path / "out", timeout=1.0)
    with pytest.raises(CaptureError, match="timed out"):
        capture(spec)
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_check_trailer() -> None:
    body = json.dumps({"page_size": 4096, "devices": []}).encode()
    good = (
        b"QEVM" + struct.pack(">I", 3) + b"\x07" + b"\x00\x06" + struct.pack(">I", len(body)) + body
    )
    assert check_trailer(good) == 9
    with pytest.raises(CaptureError, match="trailer"):
        check_trailer(good[:-1])
    with pytest.raises(CaptureError, match="magic"):
        check_trailer(b"XXXX" + good[4:])
