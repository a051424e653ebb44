"""A small seccomp filter for the process that runs student code (x86-64 Linux only).

Defence in depth under bubblewrap, and the only kernel-level restriction in the
no-bubblewrap fallback. The child installs it just before it runs the first cell
(after ``PR_SET_NO_NEW_PRIVS``; it cannot be removed afterwards, and every
process the student starts inherits it). It denies, with ``EPERM``:

* sockets other than ``AF_UNIX`` (no network even without a network namespace);
* namespaces and mounts (``unshare``, ``setns``, ``clone``/``clone3`` with
  namespace flags, ``mount``, ``pivot_root``, ``chroot``, the new mount API);
* looking into or controlling other processes (``ptrace``,
  ``process_vm_readv/writev``, ``pidfd_getfd``, ``kcmp``);
* kernel attack surface a notebook never needs (``bpf``, ``perf_event_open``,
  ``userfaultfd``, ``io_uring_*``, ``keyctl``, module loading, ``kexec``,
  ``reboot``, ``swapon``, clock setting, ``syslog``, ...);
* System V IPC and POSIX message queues, which would outlive the submission
  inside the worker's IPC namespace (a channel to the next submission);
* ``kill(-1, ...)`` (signal every process we may signal: in the fallback,
  possibly the whole machine).

``clone3`` answers ``ENOSYS`` (its flags live in memory the filter cannot read),
so the C library falls back to ``clone``, whose flags the filter checks. Foreign
system-call ABIs (i386, x32) are refused outright so the numbers below cannot be
bypassed.
"""
from __future__ import annotations

import ctypes
import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

# BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06

# offsets in struct seccomp_data
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16

AF_UNIX = 1
CLONE_NS_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)

# x86-64 system call numbers denied outright
DENIED = {
    "shmget": 29, "semget": 64, "msgget": 68, "ptrace": 101, "syslog": 103, "uselib": 134,
    "pivot_root": 155, "adjtimex": 159, "chroot": 161, "acct": 163,
    "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169,
    "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "clock_settime": 227, "mq_open": 240,
    "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
    "perf_event_open": 298, "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304,
    "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
}
NR_CLONE, NR_SOCKET, NR_KILL, NR_CLONE3 = 56, 41, 62, 435

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def supported() -> bool:
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


def program() -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions."""
    denied = sorted(set(DENIED.values()))
    # Layout: arch check; load nr; x32 check; one jeq per denied number; dispatch to the
    # argument checks (clone, socket, kill) and clone3; allow; the argument checks; deny; enosys.
    head = [
        (LD_W_ABS, 0, 0, OFF_ARCH),
        (JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        (RET_K, 0, 0, RET_ERRNO | errno.EPERM),
        (LD_W_ABS, 0, 0, OFF_NR),
    ]
    n_dispatch = 1 + len(denied) + 4  # x32, denied..., clone, socket, kill, clone3
    allow_at = len(head) + n_dispatch
    clone_at = allow_at + 1   # ld arg0; jset ns -> deny; ret allow
    socket_at = clone_at + 3  # ld arg0; jeq AF_UNIX ? allow : deny
    kill_at = socket_at + 3   # ld arg0; jeq -1 ? deny : allow
    deny_at = kill_at + 3
    enosys_at = deny_at + 1
    insns = list(head)

    def jump(target: int) -> int:
        offset = target - len(insns) - 1
        assert 0 <= offset < 256, offset
        return offset

    insns.append((JGE_K, jump(deny_at), 0, X32_SYSCALL_BIT))
    for nr in denied:
        insns.append((JEQ_K, jump(deny_at), 0, nr))
    insns.append((JEQ_K, jump(clone_at), 0, NR_CLONE))
    insns.append((JEQ_K, jump(socket_at), 0, NR_SOCKET))
    insns.append((JEQ_K, jump(kill_at), 0, NR_KILL))
    insns.append((JEQ_K, jump(enosys_at), 0, NR_CLONE3))
    assert len(insns) == allow_at
    insns.append((RET_K, 0, 0, RET_ALLOW))
    assert len(insns) == clone_at
    insns.append((LD_W_ABS, 0, 0, OFF_ARG0))
    insns.append((JSET_K, jump(deny_at), 0, CLONE_NS_FLAGS))
    insns.append((RET_K, 0, 0, RET_ALLOW))
    assert len(insns) == socket_at
    insns.append((LD_W_ABS, 0, 0, OFF_ARG0))
    insns.append((JEQ_K, 0, jump(deny_at) - 0, AF_UNIX))
    insns.append((RET_K, 0, 0, RET_ALLOW))
    assert len(insns) == kill_at
    insns.append((LD_W_ABS, 0, 0, OFF_ARG0))
    insns.append((JEQ_K, jump(deny_at), 0, 0xFFFFFFFF))  # kill(-1, ...): every process we may signal
    insns.append((RET_K, 0, 0, RET_ALLOW))
    assert len(insns) == deny_at
    insns.append((RET_K, 0, 0, RET_ERRNO | errno.EPERM))
    insns.append((RET_K, 0, 0, RET_ERRNO | errno.ENOSYS))
    return insns


def install() -> str:
    """Install the filter in this process; returns "" or why it was not installed."""
    if not supported():
        return f"seccomp filter not available on {platform.system()} {platform.machine()}"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        insns = program()
        arr = (_SockFilter * len(insns))(*[_SockFilter(*i) for i in insns])
        prog = _SockFprog(len(insns), ctypes.cast(arr, ctypes.POINTER(_SockFilter)))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"PR_SET_NO_NEW_PRIVS failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
            return f"PR_SET_SECCOMP failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
    except Exception as exc:  # noqa: BLE001 - report, never crash the child over it
        return f"seccomp filter not installed: {exc}"
    return ""


def packed() -> bytes:
    """The filter in the kernel's binary layout (for bwrap --seccomp, if ever wanted)."""
    return b"".join(struct.pack("=HBBI", *i) for i in program())
