"""The ``vmstate-edu`` command: analyze | extract | diff | trace | edit | capture."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import VMStateError


def _val(v: object) -> object:
    if isinstance(v, int) and not isinstance(v, bool):
        return hex(v)
    return v


def _load(ns: argparse.Namespace, **kw: object) -> object:
    """``load_stream(ns.file)``, with ``--vmdesc`` for a stream that has no JSON."""
    from .stream import load_stream, read_vmdesc
    vmdesc = read_vmdesc(ns.vmdesc) if getattr(ns, "vmdesc", None) else None
    return load_stream(ns.file, vmdesc=vmdesc, **kw)


def cmd_analyze(ns: argparse.Namespace) -> int:
    from .analyze import analyze_desc, analyze_state
    s = _load(ns)
    obj = analyze_desc(s) if ns.dump == "desc" else analyze_state(s, dump_memory=ns.memory)
    print(json.dumps(obj, indent=4, separators=(",", ": ")))
    return 0


def cmd_extract(ns: argparse.Namespace) -> int:
    from .extract import extract
    files = extract(_load(ns), ns.output)
    for name, fname in files.items():
        print(f"{fname}\t{name}")
    print("desc.json\nstate.json")
    return 0


def cmd_diff(ns: argparse.Namespace) -> int:
    from .diff import diff_streams
    from .stream import load_stream
    d = diff_streams(load_stream(ns.a), load_stream(ns.b))
    for sec, path, old, new in d["changed"]:
        print(f"{sec}\t{path}\t{_val(old)}\t{_val(new)}")
    for label in d["only_a"]:
        print(f"only in A\t{label}")
    for label in d["only_b"]:
        print(f"only in B\t{label}")
    return 1 if any(d.values()) else 0


def cmd_trace(ns: argparse.Namespace) -> int:
    s = _load(ns, descriptions="arch" if ns.arch else None)
    t = s.trace_load() if ns.load else s.trace_save()
    sys.stdout.write(t.qemu_log(ns.qemu_version or s.qemu_version))
    return 0


def cmd_edit(ns: argparse.Namespace) -> int:
    from .edit import edit_main
    return edit_main(ns)


def cmd_capture(argv: list[str]) -> int:
    from .qemu.capture import main as capture_main
    return capture_main(argv)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vmstate-edu", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("analyze", help="print a stream as analyze-migration.py does")
    a.add_argument("file")
    a.add_argument("-d", "--dump", choices=["state", "desc"], default="state")
    a.add_argument("-m", "--memory", action="store_true", help="dump RAM pages too")
    a.set_defaults(fn=cmd_analyze)
    vmdesc_help = ("JSON description for a stream that has none (suppress-vmdesc, old "
                   "machine types): a desc.json, or a stream of the same machine and QEMU")
    e = sub.add_parser("extract", help="write RAM blocks, desc.json and state.json")
    e.add_argument("file")
    e.add_argument("-o", "--output", required=True)
    e.set_defaults(fn=cmd_extract)
    for sp in (a, e):
        sp.add_argument("--vmdesc", metavar="FILE", help=vmdesc_help)
    d = sub.add_parser("diff", help="fields that differ between two streams")
    d.add_argument("a")
    d.add_argument("b")
    d.set_defaults(fn=cmd_diff)
    t = sub.add_parser("trace", help="QEMU trace lines of re-saving or loading a stream")
    t.add_argument("file")
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", action="store_true")
    g.add_argument("--load", action="store_true")
    t.add_argument("--arch", action="store_true", help="use the hand-written CPU descriptions")
    t.add_argument("--qemu-version", choices=["7.2", "10.0"])
    t.add_argument("--vmdesc", metavar="FILE", help=vmdesc_help)
    t.set_defaults(fn=cmd_trace)
    ed = sub.add_parser("edit", help="change fields or registers and write a new stream")
    ed.add_argument("file")
    ed.add_argument("--set", action="append", default=[], metavar="SECTION:INSTANCE:FIELD=VALUE")
    ed.add_argument("-o", "--output", required=True)
    ed.set_defaults(fn=cmd_edit)
    sub.add_parser("capture", help="capture a stream and logs from real QEMU (see --help)",
                   add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "capture":
        return cmd_capture(argv[1:])
    ns = build_parser().parse_args(argv)
    try:
        return ns.fn(ns)
    except VMStateError as e:
        print(f"vmstate-edu: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except (OSError, KeyError) as e:
        print(f"vmstate-edu: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
