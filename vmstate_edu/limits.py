"""Bounds on what a stream may make the reader do.

QEMU trusts its peer; a teaching and analysis tool cannot. Every count or
length read from a stream is checked against these before it is used, and
exceeding one raises :class:`~vmstate_edu.errors.LimitExceeded` naming the
field and the value.

What is bounded, and where:

* **Reads never allocate more than the stream holds.** ``QEMUFile.get_buffer``,
  ``skip`` and every ``get_*`` check the bytes left first (``_need``): a
  length of 2**40 on a 1 KB stream is a ``StreamTruncated``, not an
  allocation. Counted strings (idstr, subsection and RAM block names) are at
  most 255 bytes.
* **Array counts** (``VMS_VARRAY_*`` counts read from the stream,
  ``array_len`` in the JSON) above ``max_elements`` raise ``LimitExceeded``
  (``vmstate_n_elems``). Below it, the elements' minimum size (fixed-width
  types, buffers) is checked against the bytes left *before* a list is
  built; a list whose element size is not known ahead (structs, capability
  strings) grows element by element as the stream delivers them.
* **Buffer sizes** (``VMS_VBUFFER`` sizes read from the stream, JSON
  ``size``) above ``max_alloc`` raise ``LimitExceeded`` (``vmstate_size``);
  ``VMS_ALLOC`` buffers are allocated only once the stream is known to hold
  them. So no single allocation driven by a stream value exceeds
  ``max_alloc``, nor the stream's own size.
* **Nesting**: a JSON description nesting deeper than ``max_depth``
  (structs, subsections) is refused before it is turned into descriptions,
  as is one describing more than ``max_elements`` elements in all (elements
  of zero bytes would otherwise ask for unbounded work); a traced load or
  save deeper than ``max_depth`` raises too.
* **The JSON description** may be at most ``max_json`` bytes (its be32
  length is checked before it is read) and must have the shape the readers
  rely on (``vmdesc.validate_vmdesc``).
* **Sections**: at most ``max_sections`` section pieces per stream; RAM:
  at most 4096 blocks per ``MEM_SIZE`` record and ``4 * max_elements`` page
  records; each block length must fit the announced total.

Change a bound by assigning to a field of ``LIMITS`` (``LIMITS.max_alloc = 1 << 30``);
the engine reads the fields at every check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """Configurable bounds (change ``vmstate_edu.limits.LIMITS``' fields)."""

    max_elements: int = 1 << 24      # elements in one array field
    max_alloc: int = 256 << 20       # bytes one value read from a stream may allocate
    max_depth: int = 64              # nested structs/subsections
    max_json: int = 64 << 20         # bytes of the trailing JSON description
    max_sections: int = 1 << 20      # sections in one stream


LIMITS = Limits()
