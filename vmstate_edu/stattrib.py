"""``s390-storage_attributes``: the CMMA storage attributes of an s390x
guest, an iterative section like RAM (``hw/s390x/s390-stattrib.c``,
``cmma_save`` / ``cmma_load``).

Each section piece is a list of records ended by ``EOS``: a be64 word
``address | flags`` (flags in the low 12 bits); a ``MORE`` record is followed
by a be64 byte count and that many attribute bytes, one per page; ``DONE``
(only in the final piece) says pre-copy is over. A stream reader keeps the
records to write them again exactly."""

from __future__ import annotations

from . import tracing as _trace
from .errors import LimitExceeded, SectionError, VMStateError
from .limits import LIMITS
from .qemufile import QEMUFile
from .ram import _leaf

STATTR_FLAG_EOS = 0x01
STATTR_FLAG_MORE = 0x02
STATTR_FLAG_ERROR = 0x04
STATTR_FLAG_DONE = 0x08
IDSTR = "s390-storage_attributes"


class StAttribState:
    """The pieces of a loaded stream: per piece, its records
    ``(word, count, data offset)`` (count and offset 0 unless ``MORE``)."""

    def __init__(self) -> None:
        self.pieces: list[list[tuple[int, int, int]]] = []
        self.source: QEMUFile | None = None
        self.cursor = 0

    @property
    def n_pieces(self) -> int:
        return len(self.pieces)


def stattrib_load_piece(f: QEMUFile, st: StAttribState, version_id: int) -> int:
    """``cmma_load``: read records up to EOS."""
    tr = _trace.ACTIVE
    if version_id != 0:
        raise VMStateError(f"storage attributes: unknown version {version_id}",
                           offset=f.tell(), path=IDSTR)
    st.source = st.source or f
    recs: list[tuple[int, int, int]] = []
    while True:
        o = f.tell()
        word = f.get_be64()
        flags = word & 0xFFF
        _leaf(tr, "frame_get", f, o, "stattr record", "uint64", word)
        if flags == STATTR_FLAG_EOS:
            recs.append((word, 0, 0))
            break
        if flags == STATTR_FLAG_MORE:
            co = f.tell()
            count = f.get_be64()
            _leaf(tr, "frame_get", f, co, "stattr count", "uint64", count)
            do = f.tell()
            f.skip(count)  # checked against the stream's length
            if tr is not None and tr.leaves and count:
                tr.leaf("field", "field_get", "storage attributes", word >> 12, "buffer", do,
                        count, f"{count} pages from gfn 0x{word >> 12:x}", f.slice(do, do + count))
            recs.append((word, count, do))
        elif flags == STATTR_FLAG_DONE:
            recs.append((word, 0, 0))
        elif flags == STATTR_FLAG_ERROR:
            raise SectionError("Storage attributes data is incomplete", offset=o, path=IDSTR)
        else:
            raise SectionError(f"Unexpected storage attribute flag data: 0x{flags:x}",
                               offset=o, path=IDSTR)
        if len(recs) > LIMITS.max_elements:
            raise LimitExceeded("too many storage attribute records", offset=o, path=IDSTR)
    st.pieces.append(recs)
    return 0


def stattrib_write_piece(f: QEMUFile, st: StAttribState, k: int) -> None:
    """Write piece ``k`` again, record for record."""
    tr = _trace.ACTIVE
    for word, count, do in st.pieces[k]:
        o = f.tell()
        f.put_be64(word)
        _leaf(tr, "frame_put", f, o, "stattr record", "uint64", word)
        if word & 0xFFF == STATTR_FLAG_MORE:
            o = f.tell()
            f.put_be64(count)
            _leaf(tr, "frame_put", f, o, "stattr count", "uint64", count)
            o = f.tell()
            f.put_buffer(st.source.view(do, do + count))
            if tr is not None and tr.leaves and count:
                tr.leaf("field", "field_put", "storage attributes", word >> 12, "buffer", o,
                        count, f"{count} pages from gfn 0x{word >> 12:x}", f.slice(o, o + count))


def stattrib_iterate_ret(st: StAttribState, k: int) -> int:
    """``cmma_save`` returns 1 once its loop ran (it always does here)."""
    return 1
