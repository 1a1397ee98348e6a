"""Runs a command under the kernel's memory-deny-write-execute rule (prctl
PR_SET_MDWE, Linux 6.3+): what systemd's MemoryDenyWriteExecute=yes enforces,
so a mapping can never gain execute permission once writable. A shared object
that needs an executable stack, or code that writes then runs memory, fails.
usage: mdwe_exec.py PROGRAM ARGS..."""
import ctypes
import os
import sys

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit("mdwe_exec: prctl(PR_SET_MDWE): " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
