"""RAM sections, mirroring the stream format of ``migration/ram.c``.

RAM is not VMState: it is an iterative handler that writes a SECTION_START
piece (the block list), PART pieces during the iterations and an END piece,
each a run of records ``be64 (address | flags)`` closed by ``EOS``:

* ``MEM_SIZE``: total RAM, then each block's name and used length;
* ``ZERO``: a page that is all zeros (one fill byte follows);
* ``PAGE``: a whole target page of data follows;
* ``CONTINUE``: same block as the previous record, so no block name;
* ``MULTIFD_FLUSH`` (QEMU 8+): a marker without payload.

The reader *indexes* pages (block, address, stream offset) instead of
copying them, so a stream of several gigabytes reads in bounded memory.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from . import tracing as _trace
from .errors import LimitExceeded, SectionError, VMStateError
from .limits import LIMITS
from .qemufile import _BE64, QEMUFile
from .savevm import SaveVMHandlers

RAM_SAVE_FLAG_ZERO = 0x002
RAM_SAVE_FLAG_MEM_SIZE = 0x004
RAM_SAVE_FLAG_PAGE = 0x008
RAM_SAVE_FLAG_EOS = 0x010
RAM_SAVE_FLAG_CONTINUE = 0x020
RAM_SAVE_FLAG_XBZRLE = 0x040
RAM_SAVE_FLAG_HOOK = 0x080
RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100
RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200

FLAG_NAMES = {RAM_SAVE_FLAG_ZERO: "ZERO", RAM_SAVE_FLAG_MEM_SIZE: "MEM_SIZE",
              RAM_SAVE_FLAG_PAGE: "PAGE", RAM_SAVE_FLAG_EOS: "EOS",
              RAM_SAVE_FLAG_CONTINUE: "CONTINUE", RAM_SAVE_FLAG_XBZRLE: "XBZRLE",
              RAM_SAVE_FLAG_HOOK: "HOOK", RAM_SAVE_FLAG_COMPRESS_PAGE: "COMPRESS_PAGE",
              RAM_SAVE_FLAG_MULTIFD_FLUSH: "MULTIFD_FLUSH"}


PAGE_KINDS = (RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_COMPRESS_PAGE |
              RAM_SAVE_FLAG_XBZRLE)
ENCODING_FLAG_XBZRLE = 0x1


def _encoded_length(f: QEMUFile, xbzrle: int, psize: int, at: int) -> int:
    """Read an encoded page's header (``load_xbzrle``: u8 encoding, be16
    length; compressed: be32 length), check it as QEMU does, return the length."""
    if xbzrle:
        enc, n = f.get_byte(), f.get_be16()
        if enc != ENCODING_FLAG_XBZRLE:
            raise SectionError("Failed to load XBZRLE page - wrong compression!", offset=at,
                               path="ram")
        if n > psize:
            raise SectionError("Failed to load XBZRLE page - len overflow!", offset=at,
                               path="ram")
        return n
    n = f.get_be32()
    if n > _compress_bound(psize):
        raise SectionError(f"Invalid compressed data length: {n}", offset=at, path="ram")
    return n


def _encoded(src: QEMUFile, d: int) -> bytes:
    """The delta of an XBZRLE record whose header (u8 encoding, be16 length)
    is at ``d``."""
    n = int.from_bytes(src.view(d + 1, d + 3), "big")
    return bytes(src.view(d + 3, d + 3 + n))


def xbzrle_decode(enc: bytes, old: bytes, offset: int | None = None) -> bytes:
    """``xbzrle_decode_buffer``: apply an XBZRLE delta to the page's previous
    content. The delta is pairs of runs, each length a small ULEB128 (one or
    two bytes): a run of unchanged bytes, then a run of new bytes given in
    full."""
    out = bytearray(old)
    i = d = 0
    n = len(enc)

    def uleb(at: int) -> tuple[int, int]:
        if n - at < 2:
            raise VMStateError("Failed to load XBZRLE page - decode error!", offset=offset,
                               path="ram")
        if not enc[at] & 0x80:
            return enc[at], 1
        if enc[at + 1] & 0x80:
            raise VMStateError("Failed to load XBZRLE page - decode error!", offset=offset,
                               path="ram")
        return (enc[at] & 0x7F) | (enc[at + 1] << 7), 2

    while i < n:
        zrun, k = uleb(i)
        if i and not zrun:
            raise VMStateError("Failed to load XBZRLE page - decode error!", offset=offset,
                               path="ram")
        i, d = i + k, d + zrun
        nzrun, k = uleb(i)
        i += k
        if not nzrun or d > len(out) or d + nzrun > len(out) or i + nzrun > n:
            raise VMStateError("Failed to load XBZRLE page - decode error!", offset=offset,
                               path="ram")
        out[d:d + nzrun] = enc[i:i + nzrun]
        d, i = d + nzrun, i + nzrun
    return bytes(out)


def split_record(word: int, page_size: int = 4096) -> tuple[int, int]:
    """A RAM record's be64 word as (address, flags), as ``ram_load_precopy``
    splits it: the flags are the bits below the target page size
    (``addr & ~TARGET_PAGE_MASK``), so a 1 KiB-page guest has 10 flag bits."""
    return word & ~(page_size - 1) & 0xFFFFFFFFFFFFFFFF, word & (page_size - 1)


def _compress_bound(n: int) -> int:
    """zlib's ``compressBound``: the most a page can take compressed."""
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13


def page_bytes(state: RAMState, word: int, data_ref: int, old: bytes | None = None) -> bytes:
    """The content a page record gives its page: a zero page's fill, the
    page data, a compressed page (be32 length + zlib data) inflated, or an
    XBZRLE delta applied to ``old`` (the page's content before; zeros if
    None)."""
    psize = state.page_size
    if word & RAM_SAVE_FLAG_XBZRLE:
        return xbzrle_decode(_encoded(state.source, data_ref), old or bytes(psize), data_ref)
    if word & RAM_SAVE_FLAG_ZERO:
        return bytes([data_ref]) * psize
    if word & RAM_SAVE_FLAG_COMPRESS_PAGE:
        import zlib

        n = int.from_bytes(state.source.view(data_ref, data_ref + 4), "big")
        try:  # at most a page (+1 to notice more): no inflating beyond it
            out = zlib.decompressobj().decompress(
                state.source.view(data_ref + 4, data_ref + 4 + n), psize + 1)
        except zlib.error as e:
            raise VMStateError(f"compressed page does not inflate: {e}", offset=data_ref,
                               path="ram") from None
        if len(out) != psize:
            raise VMStateError(f"compressed page inflates to {len(out)} bytes, not {psize}",
                               offset=data_ref, path="ram")
        return out
    return bytes(state.source.view(data_ref, data_ref + psize))


def flag_names(flags: int) -> str:
    """``ZERO|CONTINUE``; bits with no name are shown in hex (``ZERO|0x400``)."""
    names = [n for bit, n in FLAG_NAMES.items() if flags & bit]
    rest = flags & ~sum(FLAG_NAMES)
    return "|".join(names + ([f"0x{rest:x}"] if rest else [])) or "0"


@dataclass(eq=False)
class RAMBlock:
    """A RAM block: its name (``pc.ram``, ``/rom@etc/acpi/tables``) and size."""

    idstr: str
    used_length: int
    data: bytearray | None = None  # the teaching machine keeps its bytes here


@dataclass(eq=False)
class RAMState:
    """RAM of a machine, and what a load of its sections found.

    ``pages``: (block index, address, kind, data offset) per page record,
    in compact arrays; ``pieces``: per section piece, its record range."""

    blocks: list[RAMBlock] = dc_field(default_factory=list)
    page_size: int = 4096
    pages_per_iteration: int = 64
    materialize: bool = True  # copy loaded pages into block.data (small RAM only)
    # the x-ignore-shared capability: each block of the MEM_SIZE list also
    # carries its guest-physical address (be64), as parse_ramblock reads it
    ignore_shared: bool = False
    trace_leaves: bool = True  # False: a traced load records no leaf per page record
    source: QEMUFile | None = None
    # the record log of a loaded stream (enough to write it again)
    rec_word: array = dc_field(default_factory=lambda: array("Q"))   # be64 addr|flags
    rec_block: array = dc_field(default_factory=lambda: array("i"))  # block index or -1
    rec_data: array = dc_field(default_factory=lambda: array("q"))   # data offset / fill byte
    mem_size: list[tuple[int, list[tuple[str, int, bytes]]]] = dc_field(default_factory=list)
    pieces: list[tuple[int, int]] = dc_field(default_factory=list)
    _dirty: list[tuple[int, int]] | None = None
    _last_block: int = -1

    def block_index(self, name: str) -> int:
        for i, b in enumerate(self.blocks):
            if b.idstr == name:
                return i
        raise KeyError(name)

    def total(self) -> int:
        return sum(b.used_length for b in self.blocks)

    @property
    def flag_mask(self) -> int:
        """The flag bits of a record word: below the target page size
        (``~TARGET_PAGE_MASK``; 10 bits on a 1 KiB-page Arm guest)."""
        return self.page_size - 1

    @property
    def addr_mask(self) -> int:
        return ~(self.page_size - 1) & 0xFFFFFFFFFFFFFFFF

    def page_index(self):
        """One row per page record: block, address, kind, stream offset of the data."""
        rows = []
        fm, am = self.flag_mask, self.addr_mask
        for w, b, d in zip(self.rec_word, self.rec_block, self.rec_data):
            flags = w & fm
            if flags & PAGE_KINDS:
                kind = "page" if flags & RAM_SAVE_FLAG_PAGE else (
                    "zero" if flags & RAM_SAVE_FLAG_ZERO else
                    "xbzrle" if flags & RAM_SAVE_FLAG_XBZRLE else "compressed")
                rows.append((self.blocks[b].idstr, w & am, kind,
                             None if kind == "zero" else d))
        return rows

    def page_kinds(self) -> dict[str, int]:
        """How many page records of each kind: zero, page, compressed, xbzrle."""
        out: dict[str, int] = {}
        for _, _, kind, _ in self.page_index():
            out[kind] = out.get(kind, 0) + 1
        return out

    def read_page(self, block: str, addr: int, upto: int | None = None) -> bytes:
        """The last content a stream gave for this page (zeros if none);
        ``upto``: only the records before that record index."""
        bi = self.block_index(block)
        found: bytes | None = None
        for w, b, d in zip(self.rec_word[:upto], self.rec_block[:upto], self.rec_data[:upto]):
            if b == bi and (w & self.addr_mask) == addr and w & PAGE_KINDS:
                found = page_bytes(self, w, d, found)
        return found if found is not None else bytes(self.page_size)


# ---------------------------------------------------------------------------
# Writing (ram_save_setup / ram_save_iterate / ram_save_complete)
# ---------------------------------------------------------------------------

def _leaf(tr: Any, ev: str, f: QEMUFile, o: int, what: str, info: str, value: Any,
          raw: bool = True) -> None:
    if tr is not None and tr.leaves:
        end = f.tell()
        tr.leaf("frame" if what != "page data" else "field", ev, what, None, info, o, end - o,
                value, f.slice(o, end) if raw else None)


def _put_word(f: QEMUFile, tr: Any, word: int, fm: int) -> None:
    o = f.tell()
    f.put_be64(word)
    _leaf(tr, "frame_put", f, o, "ram record", "uint64",
          (word & ~fm & 0xFFFFFFFFFFFFFFFF, flag_names(word & fm)))


def _put_name(f: QEMUFile, tr: Any, name: str) -> None:
    raw = name.encode("latin-1")
    o = f.tell()
    f.put_byte(len(raw))
    f.put_buffer(raw)
    _leaf(tr, "frame_put", f, o, "ram block name", "string", name)


def ram_save_mem_size(f: QEMUFile, state: RAMState) -> None:
    tr = _trace.ACTIVE
    _put_word(f, tr, state.total() | RAM_SAVE_FLAG_MEM_SIZE, state.flag_mask)
    for b in state.blocks:
        _put_name(f, tr, b.idstr)
        o = f.tell()
        f.put_be64(b.used_length)
        _leaf(tr, "frame_put", f, o, "ram block length", "uint64", b.used_length)


def ram_save_page(f: QEMUFile, state: RAMState, bi: int, addr: int) -> None:
    """``save_zero_page`` or ``save_normal_page`` for one page."""
    tr = _trace.ACTIVE
    block = state.blocks[bi]
    data = block.data[addr:addr + state.page_size] if block.data is not None else None
    zero = data is None or not any(data)
    flags = RAM_SAVE_FLAG_ZERO if zero else RAM_SAVE_FLAG_PAGE
    same = bi == state._last_block
    _put_word(f, tr, addr | flags | (RAM_SAVE_FLAG_CONTINUE if same else 0), state.flag_mask)
    if not same:
        _put_name(f, tr, block.idstr)
        state._last_block = bi
    o = f.tell()
    if zero:
        f.put_byte(0)
        _leaf(tr, "frame_put", f, o, "zero page fill", "uint8", 0)
    else:
        f.put_buffer(data)
        _leaf(tr, "frame_put", f, o, "page data", "buffer", f"{block.idstr}@0x{addr:x}",
              raw=False)


def _put_eos(f: QEMUFile) -> None:
    _put_word(f, _trace.ACTIVE, RAM_SAVE_FLAG_EOS, 0xFFF)  # (EOS carries no address)


class RAMSaveHandlers(SaveVMHandlers):
    """The ``ram`` handler of the teaching machine: every page is dirty at
    the start; each iteration sends ``pages_per_iteration`` of them."""

    def save_setup(self, f: QEMUFile, state: RAMState) -> int:
        state._dirty = [(bi, a) for bi, b in enumerate(state.blocks)
                        for a in range(0, b.used_length, state.page_size)]
        state._last_block = -1
        ram_save_mem_size(f, state)
        _put_eos(f)
        return 0

    def save_live_iterate(self, f: QEMUFile, state: RAMState) -> int:
        batch, state._dirty = (state._dirty[:state.pages_per_iteration],
                               state._dirty[state.pages_per_iteration:])
        state._last_block = -1
        for bi, addr in batch:
            ram_save_page(f, state, bi, addr)
        _put_eos(f)
        return 0 if state._dirty else 1

    def save_live_complete_precopy(self, f: QEMUFile, state: RAMState) -> int:
        state._last_block = -1
        for bi, addr in state._dirty or []:
            ram_save_page(f, state, bi, addr)
        state._dirty = []
        _put_eos(f)
        return 0

    def load_state(self, f: QEMUFile, state: RAMState, version_id: int) -> int:
        return ram_load(f, state, version_id)


# ---------------------------------------------------------------------------
# Reading (ram_load_precopy)
# ---------------------------------------------------------------------------

def ram_load(f: QEMUFile, state: RAMState, version_id: int) -> int:
    """Read one section piece of RAM records up to EOS, indexing each page."""
    tr = _trace.ACTIVE
    leaves = tr is not None and tr.leaves and state.trace_leaves
    if version_id != 4:
        raise VMStateError(f"ram: unsupported version {version_id} (QEMU uses 4)",
                           offset=f.tell())
    if state.source is None:
        state.source = f
    first = len(state.rec_word)
    psize = state.page_size
    fm, am = state.flag_mask, state.addr_mask
    last = state._last_block
    while True:
        if not leaves and last >= 0 and not (state.materialize and
                                             state.blocks[last].data is not None):
            _scan_continue_run(f, state, last)
        o = f.tell()
        word = f.get_be64()
        flags = word & fm
        addr = word & am
        if leaves:
            _leaf(tr, "frame_get", f, o, "ram record", "uint64", (addr, flag_names(flags)))
        if flags & RAM_SAVE_FLAG_EOS:
            state.rec_word.append(word)
            state.rec_block.append(-1)
            state.rec_data.append(-1)
            break
        if flags & RAM_SAVE_FLAG_MEM_SIZE:
            blocks = []
            total = addr
            got = 0
            while got < total:
                if len(blocks) > 4096:
                    raise LimitExceeded("more than 4096 RAM blocks", offset=f.tell(), path="ram")
                no = f.tell()
                name = f.get_counted_string()
                if leaves:
                    _leaf(tr, "frame_get", f, no, "ram block name", "string", name)
                lo = f.tell()
                length = f.get_be64()
                if leaves:
                    _leaf(tr, "frame_get", f, lo, "ram block length", "uint64", length)
                if length == 0 or length > total - got:
                    raise SectionError(f"RAM block {name!r} length {length} does not fit the "
                                       f"total {total}", offset=lo, path="ram")
                got += length
                extra = b""
                if state.ignore_shared:
                    ao = f.tell()
                    gpa = f.get_be64()
                    if leaves:
                        _leaf(tr, "frame_get", f, ao, "ram block address", "uint64", gpa)
                    extra = gpa.to_bytes(8, "big")
                blocks.append((name, length, extra))
                if not any(b.idstr == name for b in state.blocks):
                    state.blocks.append(RAMBlock(name, length))
            state.mem_size.append((word, blocks))
            state.rec_word.append(word)
            state.rec_block.append(-2)
            state.rec_data.append(len(state.mem_size) - 1)
            continue
        if flags == RAM_SAVE_FLAG_MULTIFD_FLUSH:
            state.rec_word.append(word)
            state.rec_block.append(-1)
            state.rec_data.append(-1)
            continue
        if flags & RAM_SAVE_FLAG_HOOK:
            raise SectionError(f"ram: {flag_names(flags)} records are not supported "
                               "(RDMA hooks)", offset=o, path="ram")
        if not flags & PAGE_KINDS:
            raise SectionError(f"ram: unknown record flags 0x{flags:x}", offset=o, path="ram")
        if flags & RAM_SAVE_FLAG_CONTINUE:
            if last < 0:
                raise SectionError("ram: CONTINUE record without a previous block", offset=o,
                                   path="ram")
        else:
            no = f.tell()
            name = f.get_counted_string()
            if leaves:
                _leaf(tr, "frame_get", f, no, "ram block name", "string", name)
            try:
                last = state.block_index(name)
            except KeyError:
                raise SectionError(f"ram: unknown block {name!r}", offset=no,
                                   path="ram") from None
        block = state.blocks[last]
        if addr + psize > block.used_length:
            raise SectionError(f"ram: page 0x{addr:x} outside block {block.idstr!r} "
                               f"({block.used_length} bytes)", offset=o, path="ram")
        do = f.tell()
        if flags & RAM_SAVE_FLAG_ZERO:
            fill = f.get_byte()
            if leaves:
                _leaf(tr, "frame_get", f, do, "zero page fill", "uint8", fill)
            data_ref = fill
            if state.materialize and block.data is not None:
                block.data[addr:addr + psize] = bytes([fill]) * psize
        elif flags & (RAM_SAVE_FLAG_XBZRLE | RAM_SAVE_FLAG_COMPRESS_PAGE):
            # the xbzrle capability (a delta to the page) or QEMU <= 9.0's compress one
            xb = flags & RAM_SAVE_FLAG_XBZRLE
            f.skip(_encoded_length(f, xb, psize, do))
            if leaves:
                _leaf(tr, "frame_get", f, do, "xbzrle page" if xb else "compressed page",
                      "u8 + be16 + delta" if xb else "be32 + zlib", f"{block.idstr}@0x{addr:x}",
                      raw=False)
            data_ref = do
            if state.materialize and block.data is not None:
                block.data[addr:addr + psize] = page_bytes(
                    state, word, do, bytes(block.data[addr:addr + psize]))
        else:
            f.skip(psize)
            if leaves:
                _leaf(tr, "frame_get", f, do, "page data", "buffer", f"{block.idstr}@0x{addr:x}",
                      raw=False)
            data_ref = do
            if state.materialize and block.data is not None:
                block.data[addr:addr + psize] = f.view(do, do + psize)
        state.rec_word.append(word)
        state.rec_block.append(last)
        state.rec_data.append(data_ref)
        if len(state.rec_word) > LIMITS.max_elements * 4:
            raise LimitExceeded("too many RAM records", offset=o, path="ram")
    state._last_block = last
    state.pieces.append((first, len(state.rec_word)))
    return 0


_ZERO_CONT = RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_CONTINUE
_PAGE_CONT = RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_CONTINUE


_HIGH_FLAG_BITS = {bits: bytes(b & ((1 << (bits - 8)) - 1) for b in range(256))
                   for bits in range(9, 17)}  # flag bits 8.. of byte 6, per page size
_NATIVE_BE = sys.byteorder == "big"


def _strided_run(buf: Any, pos: int, k: int, stride: int, flag_byte: int, psize: int,
                 used: int, am: int) -> array:
    """Decode up to ``k`` records of one kind at ``pos``, ``stride`` bytes
    apart (9 for ``ZERO|CONTINUE``: word + fill; 8 + page size for
    ``PAGE|CONTINUE``), with byte-slice arithmetic instead of a Python loop
    per record: the words come from eight strided slices (byte ``j`` of
    every word). Returns the words of the leading records whose flags are
    ``flag_byte`` and whose page lies inside the block (possibly none); the
    caller goes on from the first record that is not."""
    end = pos + stride * k
    bits = psize.bit_length() - 1
    if bits not in _HIGH_FLAG_BITS:  # pages under 512 B or over 64 KiB: the record loop
        return array("Q")
    flags_lo = bytes(buf[pos + 7:end:stride])                       # flag bits 0-7
    flags_hi = bytes(buf[pos + 6:end:stride]).translate(_HIGH_FLAG_BITS[bits])  # bits 8..
    m = min(k - len(flags_lo.lstrip(bytes([flag_byte]))), k - len(flags_hi.lstrip(b"\x00")))
    if m == 0:
        return array("Q")
    packed = bytearray(8 * m)
    for j in range(8):
        packed[j::8] = bytes(buf[pos + j:pos + stride * m:stride])
    words = array("Q", packed)
    if not _NATIVE_BE:
        words.byteswap()
    if (max(words) & am) + psize > used:   # some page lies outside: keep those before it
        m = next(i for i, w in enumerate(words) if (w & am) + psize > used)
        del words[m:]
    return words


def _scan_continue_run(f: QEMUFile, state: RAMState, bi: int) -> None:
    """The common case, fast: a run of ``ZERO|CONTINUE`` / ``PAGE|CONTINUE``
    records in block ``bi``, indexed exactly as the record loop would (no
    tracing, nothing materialised). Runs of either kind are decoded up to
    thousands at a time by :func:`_strided_run`. Stops before the first
    record that is anything else, is cut short, or lies outside the block;
    the general loop then reads (or refuses) it with its own checks."""
    buf = f._rbuf
    n = len(buf)
    pos = f._pos
    base = f.base
    psize = state.page_size
    used = state.blocks[bi].used_length
    fm, am = state.flag_mask, state.addr_mask
    words = array("Q")
    datas = array("q")
    room = LIMITS.max_elements * 4 - len(state.rec_word)
    unpack = _BE64.unpack_from
    # records looked at per _strided_run: the window grows while runs fill it,
    # so long runs go in big strides and short ones cost no more than they hold
    window = 16
    while pos + 9 <= n and len(words) < room:
        flags = unpack(buf, pos)[0] & fm
        if flags == _ZERO_CONT:
            stride = 9
        elif flags == _PAGE_CONT:
            stride = 8 + psize
        else:
            break
        k = min((n - pos) // stride, window, room - len(words))
        run = _strided_run(buf, pos, k, stride, flags, psize, used, am) if k else array("Q")
        if not run:
            break  # cut short, or its page lies outside the block: the general loop says so
        m = len(run)
        words.extend(run)
        if stride == 9:
            datas.extend(bytes(buf[pos + 8:pos + 9 * m:9]))   # the fill bytes
        else:
            datas.extend(range(base + pos + 8, base + pos + 8 + stride * m, stride))
        pos += stride * m
        window = min(window * 4, 1 << 16) if m == k else 16
    if words:
        state.rec_word.extend(words)
        state.rec_block.extend(array("i", [bi]) * len(words))
        state.rec_data.extend(datas)
        f._pos = pos


def ram_write_piece(f: QEMUFile, state: RAMState, piece: tuple[int, int]) -> None:
    """Write the records of one loaded piece again, exactly as they were read."""
    tr = _trace.ACTIVE
    src = state.source
    psize = state.page_size
    for k in range(*piece):
        word = state.rec_word[k]
        b = state.rec_block[k]
        d = state.rec_data[k]
        _put_word(f, tr, word, state.flag_mask)
        if b == -2:
            for name, length, extra in state.mem_size[d][1]:
                _put_name(f, tr, name)
                o = f.tell()
                f.put_be64(length)
                _leaf(tr, "frame_put", f, o, "ram block length", "uint64", length)
                if extra:  # x-ignore-shared: the block's guest-physical address
                    o = f.tell()
                    f.put_buffer(extra)
                    _leaf(tr, "frame_put", f, o, "ram block address", "uint64",
                          int.from_bytes(extra, "big"))
            continue
        if b < 0:
            continue
        if not word & RAM_SAVE_FLAG_CONTINUE:
            _put_name(f, tr, state.blocks[b].idstr)
        o = f.tell()
        if word & RAM_SAVE_FLAG_ZERO:
            f.put_byte(d)
            _leaf(tr, "frame_put", f, o, "zero page fill", "uint8", d)
        elif word & RAM_SAVE_FLAG_XBZRLE:
            n = int.from_bytes(src.view(d + 1, d + 3), "big")
            f.put_buffer(src.view(d, d + 3 + n))
            _leaf(tr, "frame_put", f, o, "xbzrle page", "u8 + be16 + delta",
                  f"{state.blocks[b].idstr}@0x{word & state.addr_mask:x}", raw=False)
        elif word & RAM_SAVE_FLAG_COMPRESS_PAGE:
            n = int.from_bytes(src.view(d, d + 4), "big")
            f.put_buffer(src.view(d, d + 4 + n))
            _leaf(tr, "frame_put", f, o, "compressed page", "be32 + zlib",
                  f"{state.blocks[b].idstr}@0x{word & state.addr_mask:x}", raw=False)
        else:
            f.put_buffer(src.view(d, d + psize))
            _leaf(tr, "frame_put", f, o, "page data", "buffer",
                  f"{state.blocks[b].idstr}@0x{word & state.addr_mask:x}", raw=False)
