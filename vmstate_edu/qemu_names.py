"""Facts about QEMU's own descriptions that a stream's JSON does not carry.

``DUPLICATE_FIELD_NAMES``: descriptions in which two fields share one C
name, so QEMU's JSON writes them as ``x[0]`` / ``x[1]`` (``vmfield_name_num``)
and its trace prints plain ``x``. Generated from the QEMU 7.2 and 10.0
source trees by ``scripts/qemu_duplicate_names.py``; everywhere else an
``x[n]`` in the JSON is taken for the C expression it looks like.
"""

DUPLICATE_FIELD_NAMES: dict[str, list[str]] = {
    'PCIDevice': ['config'],
    'VFIOPCIDevice': ['pdev'],
    'aspeed.rtc': ['offset'],
    'cpu': ['env.xmm_regs'],
    'cpu/avx512': ['env.xmm_regs'],
    'e1000': ['mac_reg'],
    'e1000e': ['parent_obj'],
    'eeprom': ['size'],
    'esp': ['mig_cmdbuf'],
    'fw_cfg': ['cur_offset'],
    'igb': ['parent_obj'],
    'ipmi-interface': ['kcs'],
    'ivshmem-doorbell': ['parent_obj'],
    'megasas': ['parent_obj'],
    'megasas-gen2': ['parent_obj'],
    'menelaus_tm': ['tm_min'],
    'pl080': ['tc_int'],
    'sb16': ['csp_param'],
    'virtio-net-device': ['VirtIONet'],
    'vmxnet3': ['parent_obj'],
    'xhci': ['parent_obj'],
}
