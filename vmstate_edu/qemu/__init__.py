"""Tools that drive a real QEMU: capturing migration streams and trace logs."""
