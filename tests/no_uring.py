#!/usr/bin/env python3
"""Run a command where io_uring is refused, as a container's seccomp
profile refuses it: python3 tests/no_uring.py COMMAND [ARG...]

io_uring_setup, io_uring_enter and io_uring_register fail with EPERM in
COMMAND and everything it starts (a seccomp filter is inherited across fork
and exec); every other system call is allowed. This is how the book checks
that chapter 06's programs say why in one line and its tests skip, on a
machine where io_uring works:

    python3 tests/no_uring.py python3 tests/run.py -k 06_completion

Exit status: COMMAND's, or 125 if the filter cannot be installed (no
seccomp here).
"""
import ctypes
import errno
import os
import platform
import struct
import sys

# The same numbers on every Linux architecture (the unified table, 5.1).
IO_URING_CALLS = (425, 426, 427)

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
BPF_LD_W_ABS = 0x20   # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15      # BPF_JMP | BPF_JEQ | BPF_K
BPF_RET_K = 0x06      # BPF_RET | BPF_K


def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def install():
    """Install the filter in this process (and so in what it execs)."""
    prog = [insn(BPF_LD_W_ABS, 0, 0, 0)]          # seccomp_data.nr
    for i, nr in enumerate(IO_URING_CALLS):
        left = len(IO_URING_CALLS) - i - 1        # compares after this one
        prog.append(insn(BPF_JEQ_K, left + 1, 0, nr))
    prog.append(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    prog.append(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM))
    code = b"".join(prog)
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                       ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__.splitlines()[1].strip() + "\n")
        return 2
    if platform.system() != "Linux":
        sys.stderr.write("no_uring: Linux only\n")
        return 125
    try:
        install()
    except OSError as e:
        sys.stderr.write("no_uring: cannot install the seccomp filter: %s\n"
                         % e.strerror)
        return 125
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as e:
        sys.stderr.write("no_uring: %s: %s\n" % (sys.argv[1], e.strerror))
        return 127


if __name__ == "__main__":
    sys.exit(main())
