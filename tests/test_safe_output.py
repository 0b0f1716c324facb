"""Safe output: what the command line writes goes to a temporary name and is
renamed into place (a killed run leaves no partial file under a final name),
and names taken from a stream cannot leave the output folder."""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vmstate_edu as v
from vmstate_edu.cli import main
from vmstate_edu.extract import extract, inside, safe_name
from vmstate_edu.machine import demo_machine
from vmstate_edu.qemufile import QEMUFile, write_atomic
from vmstate_edu.ram import RAMBlock

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "data" / "qemu-7.2" / "x86_64-pc-running" / "stream.mig.xz"

HOSTILE = [
    "../../evil", "../", "..", ".", "...", "/etc/passwd", "/", "a/../../b", "a\x00b",
    "\x00", "x" * 255, "é\xff\xe9", "ram\\..\\..\\win", "  spaced  ", "-rf", "*", "a?b",
    "a/b", "a_b", "desc.json", "state.json", "ram-blocks.json", ".hidden", "CON", "nul:",
]


# -- safe_name / inside ----------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE)
def test_safe_name_is_a_plain_file_name(name: str) -> None:
    out = safe_name(name)
    assert out and len(out) <= 200
    assert "/" not in out and "\\" not in out and "\x00" not in out
    assert out not in (".", "..") and not out.startswith(".")
    assert all(c.isascii() for c in out)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "", ".", "x/.."])
def test_inside_refuses_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(v.VMStateError):
        inside(str(tmp_path), name)


def test_inside_follows_symlinks(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path, tmp_path / "out" / "link")
    with pytest.raises(v.VMStateError):
        inside(str(tmp_path / "out"), "link/escaped")
    assert inside(str(tmp_path / "out"), "ok.bin") == str((tmp_path / "out" / "ok.bin").resolve())


def test_extract_with_hostile_block_names(tmp_path: Path) -> None:
    """Every hostile name gets its own file inside the folder, names that
    collide after sanitising included, with the block's bytes."""
    m = demo_machine()
    for k, name in enumerate(HOSTILE):
        m.ram.blocks.append(RAMBlock(name, 4096, bytearray([k + 1]) * 4096))
    s = v.load_stream(m.save())
    out = tmp_path / "out"
    files = extract(s, str(out))
    assert set(files) == {"teaching.ram", *HOSTILE}
    assert len(set(files.values())) == len(files)  # no two blocks share a file
    listed = set(os.listdir(out))
    assert set(files.values()) | {"desc.json", "state.json", "ram-blocks.json"} == listed
    for k, name in enumerate(HOSTILE):
        assert (out / files[name]).read_bytes() == bytes([k + 1]) * 4096, name
    # nothing was written outside the folder
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert json.loads((out / "ram-blocks.json").read_text()) == files


# -- atomic writes ---------------------------------------------------------

def test_write_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    class Boom:
        def __buffer__(self, flags):  # pragma: no cover - not reached on 3.11
            raise RuntimeError

    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(target, Boom())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_qemufile_wb_renames_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "s.mig"
    with pytest.raises(RuntimeError), QEMUFile.open(target, "wb") as f:
        f.put_buffer(b"half")
        raise RuntimeError("killed")
    assert not target.exists() and os.listdir(tmp_path) == []
    with QEMUFile.open(target, "wb") as f:
        f.put_buffer(b"whole")
    assert target.read_bytes() == b"whole" and os.listdir(tmp_path) == ["s.mig"]


def test_analyze_writes_only_to_stdout(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(STREAM)]) == 0
    assert json.loads(capsys.readouterr().out)
    assert os.listdir(tmp_path) == []


# -- killing extract midway --------------------------------------------------

def _digests(folder: Path) -> dict[str, str]:
    out = {}
    for name in os.listdir(folder):
        if name.startswith(".tmp-"):
            continue
        h = hashlib.sha256()
        with open(folder / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[name] = h.hexdigest()
    return out


def _extract_cmd(stream: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "vmstate_edu.cli", "extract", str(stream), "-o", str(out)]


def _kill_when(p: subprocess.Popen, out: Path, n_final: int, deadline: float) -> bool:
    """SIGKILL ``p`` as soon as ``out`` holds ``n_final`` finished files (or, for
    ``n_final == 0``, a temporary). Returns False if it exited first."""
    while p.poll() is None and time.monotonic() < deadline:
        try:
            names = os.listdir(out)
        except FileNotFoundError:
            names = []
        final = [n for n in names if not n.startswith(".tmp-")]
        if (len(final) >= n_final and n_final) or (not n_final and len(names) > len(final)):
            p.send_signal(signal.SIGKILL)
            p.wait()
            return True
        time.sleep(0.0005)
    p.kill()
    p.wait()
    return False


def test_killed_extract_leaves_no_partial_file(tmp_path: Path) -> None:
    """Run ``vmstate-edu extract`` on a real stream (64 MiB of RAM blocks)
    and SIGKILL it midway, at each stage of its output (while its first
    temporary is being written, after the 1st, 2nd, ... finished file):
    every final name present is complete (equal to an uninterrupted run's
    file); temporaries are only ``.tmp-*``. Kills are timed by what appears
    in the folder, not by the clock, so a fast or slow machine tests the same."""
    stream = tmp_path / "stream.mig"
    stream.write_bytes(lzma.decompress(STREAM.read_bytes()))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ref = tmp_path / "ref"
    subprocess.run(_extract_cmd(stream, ref), check=True, env=env, capture_output=True)
    want = _digests(ref)
    assert len(want) >= 5
    partial_runs = 0
    for k in range(min(len(want), 6)):
        out = tmp_path / f"out{k}"
        p = subprocess.Popen(_extract_cmd(stream, out), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        _kill_when(p, out, k, time.monotonic() + 120)
        if not out.exists():
            continue
        got = _digests(out)
        for name, digest in got.items():
            assert digest == want.get(name), f"run {k}: {name} is partial or foreign"
        partial_runs += len(got) < len(want)
        leftovers = [n for n in os.listdir(out) if n not in got]
        assert all(n.startswith(".tmp-") for n in leftovers), leftovers
    # the kills must have landed midway for the test to mean anything
    assert partial_runs >= 3
