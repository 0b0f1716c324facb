"""vmstate-edu: QEMU's VMState save/load machinery in Python, traced field by field.

The public names are QEMU's (``VMStateDescription``, ``VMSTATE_UINT32``,
``vmstate_save_state``, ``qemu_savevm_state`` …). pandas and matplotlib are
imported only when a DataFrame or a figure is asked for.
"""

from . import fields as _fields
from .errors import (
    HookError,
    LimitExceeded,
    SectionError,
    StreamTruncated,
    ValidationError,
    VersionError,
    VMStateError,
)
from .fields import *  # noqa: F401,F403  VMSTATE_* constructors, VMS_* flags
from .fields import VMStateDescription, VMStateField
from .info import *  # noqa: F401,F403
from .info import INFOS, VMStateInfo
from .limits import LIMITS, Limits
from .qemufile import QEMUFile
from .savevm import (
    SaveStateEntry,
    SaveVMHandlers,
    SaveVMState,
    qemu_loadvm_state,
    qemu_savevm_state,
    register_savevm_live,
    vmstate_load,
    vmstate_register,
    vmstate_save,
)
from .tracing import Tracer, trace
from .vmdesc import JSONWriter, vmsd_from_json
from .vmstate import (
    vmstate_field_exists,
    vmstate_load_state,
    vmstate_n_elems,
    vmstate_save_state,
    vmstate_save_state_v,
    vmstate_save_state_with_err,
    vmstate_section_needed,
    vmstate_size,
)

Registry = SaveVMState

__version__ = "0.1.0"


def load_stream(path, **kwargs):
    """Read any real QEMU migration stream (see :mod:`vmstate_edu.stream`)."""
    from .stream import load_stream as _load

    return _load(path, **kwargs)


__all__ = [
    "QEMUFile", "VMStateDescription", "VMStateField", "VMStateInfo", "INFOS",
    "VMStateError", "StreamTruncated", "VersionError", "ValidationError", "SectionError",
    "LimitExceeded", "HookError", "LIMITS", "Limits",
    "SaveStateEntry", "SaveVMHandlers", "SaveVMState", "Registry", "vmstate_register",
    "register_savevm_live", "vmstate_save", "vmstate_load", "qemu_savevm_state",
    "qemu_loadvm_state", "vmstate_save_state", "vmstate_save_state_v",
    "vmstate_save_state_with_err", "vmstate_load_state", "vmstate_field_exists",
    "vmstate_n_elems", "vmstate_size", "vmstate_section_needed", "trace", "Tracer",
    "JSONWriter", "vmsd_from_json", "load_stream",
] + [n for n in _fields.__all__ if n.startswith(("VMSTATE_", "VMS_"))] + [
    n for n in dir() if n.startswith("vmstate_info_")]
