"""Takes the network away from a query worker: a second layer behind the SERVICE check.

pyoxigraph (0.5) has no option to turn SERVICE off, and its HTTP client is Rust code, so
patching Python's ``socket`` module would not stop it. Two kernel mechanisms do:

- a seccomp filter that makes ``socket(AF_INET | AF_INET6, ...)`` fail with EACCES. It needs no
  privilege (only ``no_new_privs``), is inherited by every thread the worker starts and cannot be
  lifted again by the process;
- a new, empty network namespace (``unshare(CLONE_NEWNET)``), where even 127.0.0.1 is
  unreachable. It needs CAP_SYS_ADMIN, so it is applied when the worker runs as root.

Either one is enough; a worker where neither works logs a warning and relies on the check alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import platform
import socket
import struct

log = logging.getLogger(__name__)

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_CLONE_NEWNET = 0x40000000

# BPF opcodes: load a word of seccomp_data, jump if equal, return.
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_RET_K = 0x06
# offsets in struct seccomp_data: nr, arch, args[0] (low word, little-endian)
_NR, _ARCH, _ARG0 = 0, 4, 16


class _Arch:
    """What the filter needs to know about one machine: its audit id and syscall numbers."""

    def __init__(self, audit: int, socket_nr: int, seccomp_nr: int) -> None:
        self.audit = audit
        self.socket_nr = socket_nr
        self.seccomp_nr = seccomp_nr


_ARCHES = {
    "x86_64": _Arch(audit=0xC000003E, socket_nr=41, seccomp_nr=317),
    "aarch64": _Arch(audit=0xC00000B7, socket_nr=198, seccomp_nr=277),
}


def deny_network() -> list[str]:
    """Applies every layer this process may use; returns their names (empty: none worked)."""
    applied = []
    if _filter_inet_sockets():
        applied.append("seccomp")
    if _unshare_network():
        applied.append("netns")
    if applied:
        log.debug("query worker %d: network denied by %s", os.getpid(), " and ".join(applied))
    else:
        log.warning(
            "query worker %d: could not take its network away (no seccomp for %s, and "
            "unshare(CLONE_NEWNET) needs root); only the SERVICE check guards against SSRF",
            os.getpid(),
            platform.machine(),
        )
    return applied


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _filter_inet_sockets() -> bool:
    """Installs the seccomp filter on every thread of this process; False when it cannot."""
    arch = _ARCHES.get(platform.machine())
    libc = _libc()
    if arch is None or libc is None:
        return False
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    # jt / jf count instructions to skip after the jump
    program = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 0, 5, arch.audit),  # another ABI: allow (it is not what pyoxigraph uses)
        (_LD_W_ABS, 0, 0, _NR),
        (_JEQ_K, 0, 3, arch.socket_nr),
        (_LD_W_ABS, 0, 0, _ARG0),
        (_JEQ_K, 2, 0, socket.AF_INET),
        (_JEQ_K, 1, 0, socket.AF_INET6),
        (_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
        (_RET_K, 0, 0, deny),
    ]
    code = b"".join(struct.pack("=HBBI", *op) for op in program)
    filters = ctypes.create_string_buffer(code, len(code))

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = _Program(len(program), ctypes.cast(filters, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    result = libc.syscall(
        ctypes.c_long(arch.seccomp_nr),
        ctypes.c_uint(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_uint(_SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(fprog),
    )
    if result != 0:
        log.debug("seccomp filter refused: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def _unshare_network() -> bool:
    """Moves this process into a new network namespace with no interfaces up (root only)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "unshare"):
        return False
    if libc.unshare(_CLONE_NEWNET) != 0:
        log.debug("unshare(CLONE_NEWNET) refused: %s", os.strerror(ctypes.get_errno()))
        return False
    return True
