"""Errors raised by the engine: every one names a stream offset and a field path.

QEMU reports failures with ``error_report()`` and negative errno values
(``migration/vmstate.c``, ``migration/savevm.c``); we raise one exception
type, :class:`VMStateError`, with a subclass per cause.
"""

from __future__ import annotations

import errno as _errno


class VMStateError(Exception):
    """A save or load failed. ``offset`` is the absolute stream offset,
    ``path`` the field path (``cpu/env.gpr[3]``), ``errno`` QEMU's code."""

    errno: int = _errno.EINVAL

    def __init__(self, message: str, offset: int | None = None, path: str | None = None,
                 errno: int | None = None):
        self.message = message
        self.offset = offset
        self._parts: list[tuple[str, str]] = [("section", path)] if path else []
        if errno is not None:
            self.errno = errno
        super().__init__(message)

    # The engine adds path components while the exception travels outwards:
    # kind "section" (an idstr), "sub" (a subsection's own name) or "field".
    def add_context(self, component: str, kind: str = "field") -> None:
        if self._parts and self._parts[0] == (kind, component) and kind == "section":
            return  # a handler already named its own section
        self._parts.insert(0, (kind, component))

    @property
    def path(self) -> str:
        out, prev = "", ""
        for kind, text in self._parts:
            if not out:
                out = text
            elif kind == "field" and prev == "field":
                out += "." + text
            else:
                out += "/" + text
            prev = kind
        return out

    def __str__(self) -> str:
        where = []
        if self.offset is not None:
            where.append(f"at offset {self.offset} (0x{self.offset:x})")
        if self._parts:
            where.append(f"in {self.path}")
        return self.message + (" " + " ".join(where) if where else "")


class StreamTruncated(VMStateError):
    """The stream ended before a value could be read (QEMU: -EIO from qemu_file)."""

    errno = _errno.EIO


class VersionError(VMStateError):
    """Incoming version too new or too old (``vmstate_load_state``)."""


class ValidationError(VMStateError):
    """A loaded value was refused: an ``_equal`` check, ``int32 le``, a post_load hook."""


class SectionError(VMStateError):
    """Stream framing is wrong: bad magic, unknown section, footer mismatch."""


class LimitExceeded(VMStateError):
    """A value read from the stream asks for more than the configured bound."""

    errno = _errno.ENOMEM


class HookError(VMStateError):
    """A pre_save/post_save/pre_load/post_load hook returned an error."""
