"""Record an edit-and-resume run with real QEMU, for machines without QEMU
(notebook 08 shows it there). Usage: python data/record_edit_resume.py"""

from vmstate_edu.resume import record

if __name__ == "__main__":
    print(record("7.2", "riscv64-virt-running"))
