"""Bounds on what a stream may make the reader do.

QEMU trusts its peer; a teaching and analysis tool cannot. Every count or
length read from a stream is checked against these before it is used, and
exceeding one raises :class:`~vmstate_edu.errors.LimitExceeded` naming the
field and the value.
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
