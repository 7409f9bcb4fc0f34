"""The bpf(2) system call through ctypes: maps, programs, object ids.

Only what the fast path uses: create a map, load a program, look up,
update, delete and walk map elements (one by one or in batches), and find
the maps of a program that is already attached (by id), so that a restarted
daemon adopts the flows the kernel kept forwarding.

Each :class:`BpfMap` keeps its own key, value and attribute buffers, so an
element operation is one ``memmove`` or two and one syscall: a few
microseconds from Python.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

__all__ = [
    "BPF_ANY",
    "BPF_EXIST",
    "BPF_NOEXIST",
    "BpfError",
    "BpfMap",
    "MapInfo",
    "enable_stats",
    "map_create",
    "map_fd_by_id",
    "map_info",
    "possible_cpus",
    "prog_fd_by_id",
    "prog_load",
    "prog_map_ids",
    "prog_run_stats",
]

# bpf(2) commands (include/uapi/linux/bpf.h).
MAP_CREATE, MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM = 0, 1, 2, 3
MAP_GET_NEXT_KEY, PROG_LOAD = 4, 5
PROG_GET_FD_BY_ID, MAP_GET_FD_BY_ID, OBJ_GET_INFO_BY_FD = 13, 14, 15
MAP_LOOKUP_AND_DELETE_ELEM = 21
MAP_LOOKUP_BATCH = 24
ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0
PROG_INFO_SIZE = 232  # up to attach_btf_id (kernel 5.x+); a smaller kernel takes less
BPF_ANY, BPF_NOEXIST, BPF_EXIST = 0, 1, 2
BPF_PROG_TYPE_SCHED_CLS = 3
# Map types whose values are per CPU.
PERCPU_TYPES = frozenset({5, 6, 10})  # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH
OBJ_NAME_LEN = 16
LOG_SIZE = 1 << 20

_NR_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "riscv64": 280, "ppc64le": 361}
_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_long)


class BpfError(OSError):
    """A bpf() call failed; ``log`` holds the verifier's words for a load."""

    def __init__(self, err: int, what: str, log: str = "") -> None:
        super().__init__(err, f"{what}: {os.strerror(err)}")
        self.log = log


_NR = _NR_BPF.get(os.uname().machine, -1)


def _call(cmd: int, attr: ctypes.Array[ctypes.c_char], size: int | None = None) -> int:
    return _call_at(cmd, ctypes.addressof(attr), len(attr) if size is None else size)


def _call_at(cmd: int, attr: int, size: int) -> int:
    """bpf(cmd, attr, size) with attr an address: the per-element path."""
    r = int(_syscall(_NR, cmd, attr, size))
    if r < 0:
        if _NR < 0:
            raise BpfError(errno.ENOSYS, f"bpf() on {os.uname().machine}")
        raise BpfError(ctypes.get_errno(), f"bpf({cmd})")
    return r


def _name(name: str) -> bytes:
    return name.encode()[: OBJ_NAME_LEN - 1]


def map_create(
    map_type: int, key_size: int, value_size: int, max_entries: int, flags: int, name: str
) -> int:
    attr = ctypes.create_string_buffer(
        struct.pack(
            "=IIIIIII16s",
            map_type,
            key_size,
            value_size,
            max_entries,
            flags,
            0,
            0,
            _name(name),
        )
    )
    try:
        return _call(MAP_CREATE, attr, 44)
    except BpfError as e:
        raise BpfError(e.errno or errno.EIO, f"creating map {name}") from None


def prog_load(
    insns: bytes, license: str, name: str, prog_type: int = BPF_PROG_TYPE_SCHED_CLS
) -> int:
    """Load a program; the verifier's log comes with a failure."""
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(license.encode())
    for level in (0, 1):
        log = ctypes.create_string_buffer(LOG_SIZE if level else 0)
        attr = ctypes.create_string_buffer(
            struct.pack(
                "=IIQQIIQII16sII",
                prog_type,
                len(insns) // 8,
                ctypes.addressof(code),
                ctypes.addressof(lic),
                level,
                LOG_SIZE if level else 0,
                ctypes.addressof(log) if level else 0,
                0,
                0,
                _name(name),
                0,
                0,
            )
        )
        try:
            return _call(PROG_LOAD, attr, 72)
        except BpfError as e:
            if level:
                text = log.value.decode(errors="replace")
                raise BpfError(
                    e.errno or errno.EIO, f"loading program {name}", text[-4000:]
                ) from None
    raise AssertionError("unreachable")


def prog_fd_by_id(prog_id: int) -> int:
    return _call(PROG_GET_FD_BY_ID, ctypes.create_string_buffer(struct.pack("=III", prog_id, 0, 0)))


def map_fd_by_id(map_id: int) -> int:
    return _call(MAP_GET_FD_BY_ID, ctypes.create_string_buffer(struct.pack("=III", map_id, 0, 0)))


def _info(fd: int, buf: ctypes.Array[ctypes.c_char]) -> None:
    attr = ctypes.create_string_buffer(struct.pack("=IIQ", fd, len(buf), ctypes.addressof(buf)))
    _call(OBJ_GET_INFO_BY_FD, attr)


def prog_map_ids(fd: int) -> list[int]:
    """The ids of the maps a loaded program uses (bpf_prog_info.map_ids)."""
    ids = ctypes.create_string_buffer(4 * 64)
    info = ctypes.create_string_buffer(PROG_INFO_SIZE)
    struct.pack_into("=IQ", info, 52, 64, ctypes.addressof(ids))
    _info(fd, info)
    n = struct.unpack_from("=I", info, 52)[0]
    return list(struct.unpack_from(f"={min(n, 64)}I", ids))


def prog_run_stats(fd: int) -> tuple[int, int]:
    """(run_time_ns, run_cnt) of a program: counted only while some process
    holds :func:`enable_stats` open (or kernel.bpf_stats_enabled is 1)."""
    info = ctypes.create_string_buffer(PROG_INFO_SIZE)
    _info(fd, info)
    ns, cnt = struct.unpack_from("=QQ", info, 192)
    return int(ns), int(cnt)


def enable_stats() -> int:
    """An fd that keeps the kernel timing every BPF program until closed."""
    return _call(ENABLE_STATS, ctypes.create_string_buffer(struct.pack("=I", BPF_STATS_RUN_TIME)))


class MapInfo(NamedTuple):
    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    name: str


def map_info(fd: int) -> MapInfo:
    info = ctypes.create_string_buffer(40)
    _info(fd, info)
    t, i, k, v, m, f, name = struct.unpack_from("=IIIIII16s", info)
    return MapInfo(t, i, k, v, m, f, name.rstrip(b"\0").decode(errors="replace"))


@cache
def possible_cpus() -> int:
    """How many values a per-CPU map returns (possible, not online, CPUs)."""
    try:
        with open("/sys/devices/system/cpu/possible") as f:
            text = f.read().strip()
    except OSError:
        return os.cpu_count() or 1
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n = max(n, int(hi or lo) + 1)
    return n


class BpfMap:
    """One map by its fd, with preallocated buffers for element calls.

    The fast way in: pack a key into :attr:`key` (and a value into
    :attr:`value`) with ``struct.pack_into`` and call the ``*_packed``
    method: one syscall, no copies (about 3 µs from Python)."""

    def __init__(self, fd: int, info: MapInfo) -> None:
        self.fd = fd
        self.info = info
        self.key_size = info.key_size
        self.percpu = info.type in PERCPU_TYPES
        self.ncpu = possible_cpus() if self.percpu else 1
        self.slot = (info.value_size + 7) & ~7 if self.percpu else info.value_size
        self.value_size = self.slot * self.ncpu
        self.key = ctypes.create_string_buffer(max(self.key_size, 8))
        self.value = ctypes.create_string_buffer(max(self.value_size, 8))
        self._next = ctypes.create_string_buffer(max(self.key_size, 8))
        kp, vp, np = (ctypes.addressof(b) for b in (self.key, self.value, self._next))
        # Element attributes (map_fd, key, value or next_key, flags), packed once.
        self._attr = ctypes.create_string_buffer(struct.pack("=IxxxxQQQ", fd, kp, vp, 0))
        self._attr_next = ctypes.create_string_buffer(struct.pack("=IxxxxQQQ", fd, kp, np, 0))
        self._attr_first = ctypes.create_string_buffer(struct.pack("=IxxxxQQQ", fd, 0, np, 0))
        self._attr_del = ctypes.create_string_buffer(struct.pack("=IxxxxQQQ", fd, kp, 0, 0))
        self._ap = ctypes.addressof(self._attr)
        self._dp = ctypes.addressof(self._attr_del)
        self._kfmt = struct.Struct(f"{self.key_size}s")

    @classmethod
    def from_fd(cls, fd: int) -> BpfMap:
        return cls(fd, map_info(fd))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            for attr in (self._attr, self._attr_next, self._attr_first, self._attr_del):
                struct.pack_into("=i", attr, 0, -1)  # EBADF, never a reused fd

    def _set(self, key: bytes, value: bytes | None = None) -> None:
        self._kfmt.pack_into(self.key, 0, key)
        if value is not None:
            struct.pack_into(f"{len(value)}s", self.value, 0, value)

    # --- on what is in the key/value buffers -----------------------------------
    def update_packed(self, flags: int = BPF_ANY) -> None:
        if not flags:
            _call_at(MAP_UPDATE_ELEM, self._ap, 32)
            return
        struct.pack_into("=Q", self._attr, 24, flags)
        try:
            _call_at(MAP_UPDATE_ELEM, self._ap, 32)
        finally:
            struct.pack_into("=Q", self._attr, 24, 0)  # lookups need 0

    def lookup_packed(self) -> bool:
        """True with the value in :attr:`value`, False if there is none."""
        try:
            _call_at(MAP_LOOKUP_ELEM, self._ap, 32)
        except BpfError as e:
            if e.errno == errno.ENOENT:
                return False
            raise
        return True

    def delete_packed(self) -> bool:
        try:
            _call_at(MAP_DELETE_ELEM, self._dp, 32)  # nothing after the key
        except BpfError as e:
            if e.errno == errno.ENOENT:
                return False
            raise
        return True

    # --- on bytes ------------------------------------------------------------------
    def update(self, key: bytes, value: bytes, flags: int = BPF_ANY) -> None:
        self._set(key, value)
        self.update_packed(flags)

    def lookup(self, key: bytes) -> bytes | None:
        self._set(key)
        return self.value.raw[: self.value_size] if self.lookup_packed() else None

    def delete(self, key: bytes) -> bool:
        self._set(key)
        return self.delete_packed()

    def lookup_and_delete(self, key: bytes) -> bytes | None:
        self._set(key)
        try:
            _call_at(MAP_LOOKUP_AND_DELETE_ELEM, self._ap, 32)
        except BpfError as e:
            if e.errno == errno.ENOENT:
                return None
            raise
        return self.value.raw[: self.value_size]

    def per_cpu(self, value: bytes) -> list[bytes]:
        return [
            value[i * self.slot : i * self.slot + self.info.value_size] for i in range(self.ncpu)
        ]

    def keys(self) -> Iterator[bytes]:
        """Every key, by BPF_MAP_GET_NEXT_KEY (entries may change meanwhile)."""
        attr = self._attr_first
        while True:
            try:
                _call(MAP_GET_NEXT_KEY, attr, 32)
            except BpfError as e:
                if e.errno == errno.ENOENT:
                    return
                raise
            key = self._next.raw[: self.key_size]
            self._kfmt.pack_into(self.key, 0, key)
            attr = self._attr_next
            yield key

    def items(self, batch: int = 4096) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value): in batches where the kernel can, else one by one."""
        try:
            yield from self._batches(batch)
        except BpfError as e:
            if e.errno not in (errno.EINVAL, errno.ENOTSUP, 524):  # 524: ENOTSUPP
                raise
            for key in self.keys():
                value = self.lookup(key)
                if value is not None:
                    yield key, value

    def _batches(self, count: int) -> Iterator[tuple[bytes, bytes]]:
        keys = ctypes.create_string_buffer(self.key_size * count)
        values = ctypes.create_string_buffer(self.value_size * count)
        tokens = ctypes.create_string_buffer(16)  # in_batch, out_batch: a u32 bucket
        attr = ctypes.create_string_buffer(56)
        tp = ctypes.addressof(tokens)
        first = True
        while True:
            struct.pack_into(
                "=QQQQIIQQ",
                attr,
                0,
                0 if first else tp,
                tp + 8,
                ctypes.addressof(keys),
                ctypes.addressof(values),
                count,
                self.fd,
                0,
                0,
            )
            done = False
            try:
                _call(MAP_LOOKUP_BATCH, attr)
            except BpfError as e:
                if e.errno == errno.ENOSPC and count < 1 << 16:
                    count *= 4  # one bucket held more than a batch: retry larger
                    keys = ctypes.create_string_buffer(self.key_size * count)
                    values = ctypes.create_string_buffer(self.value_size * count)
                    continue
                if e.errno != errno.ENOENT:
                    raise
                done = True
            n = struct.unpack_from("=I", attr, 32)[0]
            kraw, vraw = keys.raw, values.raw
            ks, vs = self.key_size, self.value_size
            for i in range(n):
                yield kraw[i * ks : (i + 1) * ks], vraw[i * vs : (i + 1) * vs]
            if done:
                return
            ctypes.memmove(tp, tp + 8, 8)
            first = False
