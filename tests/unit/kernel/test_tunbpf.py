"""The TUN fast path's pure parts: the packed state tables against the
core's, the map entry layouts, the option word, the object file reader (on
an object clang compiles, when clang is here), and the daemon's sweep over
a flow table (with a stand-in for the kernel's map)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pylvs.core import sctpstate, tcpstate
from pylvs.dataplane.kernel.ruleset import Timeouts
from pylvs.dataplane.kernel.tunbpf import build, elfobj, records, states
from pylvs.dataplane.kernel.tunbpf.bpfsys import BPF_NOEXIST, BpfError
from pylvs.dataplane.kernel.tunbpf.fastpath import NS, TunFastPath

TCP, UDP, SCTP = 6, 17, 132


def _defines() -> dict[str, int]:
    out = {}
    for line in states.render_header().splitlines():
        if line.startswith("#define ") and len(line.split()) == 3:
            _d, name, value = line.split()
            out[name] = int(value.removesuffix("ULL"), 0)
    return out


def test_packed_rows_give_the_cores_input_only_tables() -> None:
    rows = _defines()
    events = {"SYN": tcpstate.EV_SYN, "FIN": tcpstate.EV_FIN}
    events |= {"ACK": tcpstate.EV_ACK, "RST": tcpstate.EV_RST}
    for name, ev in events.items():
        for prefix, table in (
            ("TCP_ROW_", tcpstate.TABLE),
            ("TCP_SECURE_ROW_", tcpstate.SECURE_TABLE),
        ):
            row = rows[prefix + name]
            for state in range(len(tcpstate.STATE_NAMES)):
                assert states.next_state(row, state) == table[tcpstate.DIR_INPUT_ONLY][ev][state]
    sctp_events = {
        "DATA": sctpstate.EV_DATA,
        "INIT": sctpstate.EV_INIT,
        "INIT_ACK": sctpstate.EV_INIT_ACK,
        "COOKIE_ECHO": sctpstate.EV_COOKIE_ECHO,
        "COOKIE_ACK": sctpstate.EV_COOKIE_ACK,
        "SHUTDOWN": sctpstate.EV_SHUTDOWN,
        "SHUTDOWN_ACK": sctpstate.EV_SHUTDOWN_ACK,
        "SHUTDOWN_COMPLETE": sctpstate.EV_SHUTDOWN_COMPLETE,
        "ERROR": sctpstate.EV_ERROR,
        "ABORT": sctpstate.EV_ABORT,
    }
    for name, ev in sctp_events.items():
        row = rows["SCTP_ROW_" + name]
        for state in range(len(sctpstate.SCTP_STATE_NAMES)):
            expected = sctpstate.SCTP_TABLE[tcpstate.DIR_INPUT_ONLY][ev][state]
            assert states.next_state(row, state) == expected
    assert rows["TCP_S_CLOSE"] == tcpstate.CLOSE
    assert rows["TCP_S_TIME_WAIT"] == tcpstate.TIME_WAIT
    assert rows["SCTP_S_CLOSED"] == sctpstate.CLOSED


def test_pack_row_refuses_what_does_not_fit() -> None:
    assert states.pack_row([1, 2, 3]) == 0x321
    with pytest.raises(ValueError):
        states.pack_row([16])
    with pytest.raises(ValueError):
        states.pack_row([1] * 17)


def test_state_names_activity_and_timeouts() -> None:
    t = Timeouts(established=800, fin_wait=100, udp=200)
    assert states.state_name(TCP, tcpstate.SYN_RECV) == "SYN_RECV"
    assert states.state_name(UDP, 0) == "UDP"
    assert states.state_name(SCTP, sctpstate.COOKIE_ECHOED) == "C-ECHOED"
    assert states.is_active(TCP, tcpstate.SYN_RECV)
    assert not states.is_active(TCP, tcpstate.TIME_WAIT)
    assert not states.is_active(UDP, 0)
    assert states.is_active(SCTP, sctpstate.ESTABLISHED)
    assert states.state_timeout(TCP, tcpstate.ESTABLISHED, t) == 800
    assert states.state_timeout(TCP, tcpstate.FIN_WAIT, t) == 100
    assert states.state_timeout(TCP, tcpstate.SYN_RECV, t) == 60
    assert states.state_timeout(TCP, tcpstate.NONE, t) == 2
    assert states.state_timeout(TCP, tcpstate.LISTEN, t) == 120
    assert states.state_timeout(UDP, 0, t) == 200
    assert states.state_timeout(SCTP, sctpstate.ESTABLISHED, t) == 900
    assert states.state_timeout(SCTP, sctpstate.INIT1, t) == 4
    assert states.state_timeout(SCTP, sctpstate.COOKIE_WAIT, t) == 61


def test_layouts_match_the_c_structs() -> None:
    assert records.FLOW_KEY.size == 16
    assert records.FLOW.size == 16
    assert records.DEST.size == 32
    key = records.pack_key("10.0.0.1", 0x0A000064, 40000, 80, TCP)
    assert key == bytes([10, 0, 0, 1, 10, 0, 0, 100, 0x9C, 0x40, 0, 80, 6, 0, 0, 0])
    assert records.unpack_key(key) == (0x0A000001, 0x0A000064, 40000, 80, TCP)
    dest = records.pack_dest(
        "10.0.0.11", b"\x0a\0\0\x0a", 3, "02:00:00:00:00:0a", "02:00:00:00:00:0b", 1500, 1
    )
    assert dest[:8] == bytes([10, 0, 0, 11, 10, 0, 0, 10])
    assert struct.unpack_from("=IHH", dest, 8) == (3, 1500, 1)
    assert dest[16:22] == bytes.fromhex("02000000000b"), "the next hop's MAC first"
    assert dest[22:28] == bytes.fromhex("02000000000a")


@pytest.mark.parametrize("bad", ["10.0.0", "1", "300.1.1.1", b"\x01\x02", -1, 1 << 32])
def test_bad_addresses_are_refused(bad: str | bytes | int) -> None:
    with pytest.raises(ValueError):
        records.addr_bytes(bad)


def test_bad_macs_and_mtus_are_refused() -> None:
    with pytest.raises(ValueError):
        records.mac_bytes("02:00:00:00:00")
    with pytest.raises(ValueError):
        records.pack_dest(1, 2, 3, "02:00:00:00:00:0a", "02:00:00:00:00:0b", 67)


def test_option_word_from_the_sysctls() -> None:
    f = records.conf_flags
    assert f(pmtu_disc=True, secure_tcp=False, conn_reuse_mode=1) == 0, "0 is IPVS's defaults"
    assert f(pmtu_disc=False, secure_tcp=False, conn_reuse_mode=1) == records.CONF_F_NO_PMTU
    assert f(pmtu_disc=True, secure_tcp=True, conn_reuse_mode=1) == records.CONF_F_SECURE_TCP
    assert f(pmtu_disc=True, secure_tcp=False, conn_reuse_mode=0) == records.CONF_F_NO_REUSE
    assert f(pmtu_disc=True, secure_tcp=False, conn_reuse_mode=3) == records.CONF_F_REUSE_FW


# --- the object file -----------------------------------------------------------------


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if build.compiler() is None:
        pytest.skip("clang is not installed")
    cache = tmp_path_factory.mktemp("tunbpf")
    return {p: build.build(p, cache) for p in ("tun_encap", "tun_decap")}


def test_objects_build_once_per_source_version(objects: dict[str, Path]) -> None:
    path = objects["tun_encap"]
    assert path.name.startswith("tun_encap-") and path.suffix == ".o"
    mtime = path.stat().st_mtime_ns
    assert build.build("tun_encap", path.parent) == path
    assert path.stat().st_mtime_ns == mtime, "cached, not compiled again"
    assert build.missing("tun_encap", path.parent) == ""


def test_object_reader_finds_maps_license_and_relocations(objects: dict[str, Path]) -> None:
    obj = elfobj.parse(objects["tun_encap"].read_bytes(), "tc")
    assert obj.license == "Apache-2.0"
    by_name = {m.name: m for m in obj.maps}
    assert set(by_name) == {"tun_flows", "tun_dests", "tun_counts", "tun_config", "tun_stats"}
    assert (by_name["tun_flows"].key_size, by_name["tun_flows"].value_size) == (16, 16)
    assert by_name["tun_dests"].value_size == records.DEST.size
    assert by_name["tun_stats"].max_entries == len(records.STAT_NAMES)
    assert {name for _off, name in obj.relocations} == set(by_name)
    fds = {name: 100 + i for i, name in enumerate(sorted(by_name))}
    code = obj.relocated(fds)
    for off, name in obj.relocations:
        assert code[off] == elfobj.LD_IMM64
        assert code[off + 1] >> 4 == elfobj.BPF_PSEUDO_MAP_FD
        assert struct.unpack_from("<i", code, off + 4)[0] == fds[name]
    assert len(code) == len(obj.insns) and len(code) % 8 == 0
    decap = elfobj.parse(objects["tun_decap"].read_bytes(), "tc")
    assert decap.maps == [] and decap.relocations == []


def test_object_reader_refuses_what_it_cannot_load(objects: dict[str, Path]) -> None:
    data = objects["tun_encap"].read_bytes()
    with pytest.raises(elfobj.ElfError):
        elfobj.parse(data, "xdp")
    with pytest.raises(elfobj.ElfError):
        elfobj.parse(b"\x7fELF\x01" + data[5:], "tc")


# --- the sweep, over a stand-in map ----------------------------------------------------


class FakeMap:
    """What TunFastPath uses of a hash map; ``race`` changes an entry
    between the sweep's read and its delete, as a packet would."""

    def __init__(self) -> None:
        self.d: dict[bytes, bytes] = {}
        self.race: dict[bytes, bytes] = {}

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self.d.items())

    def keys(self) -> list[bytes]:
        return list(self.d)

    def update(self, key: bytes, value: bytes, flags: int = 0) -> None:
        if flags == BPF_NOEXIST and key in self.d:
            raise BpfError(17, "exists")
        self.d[key] = value

    def delete(self, key: bytes) -> bool:
        return self.d.pop(key, None) is not None

    def lookup_and_delete(self, key: bytes) -> bytes | None:
        if key in self.race:
            self.d[key] = self.race.pop(key)
        return self.d.pop(key, None)


def _fast_path_over(flows: FakeMap) -> TunFastPath:
    fp = TunFastPath.__new__(TunFastPath)
    fp._flows = flows  # type: ignore[assignment]
    return fp


def _flow(seen_s: float, dest: int, state: int) -> bytes:
    return records.FLOW.pack(int(seen_s * NS), dest, state, 0)


def test_sweep_ends_idle_flows_and_counts_the_rest() -> None:
    m = FakeMap()
    k = [records.pack_key("10.0.0.1", "10.0.0.100", 1000 + i, 80, TCP) for i in range(4)]
    u = records.pack_key("10.0.0.1", "10.0.0.100", 2000, 53, UDP)
    m.d[k[0]] = _flow(100, 1, tcpstate.ESTABLISHED)  # 900 s
    m.d[k[1]] = _flow(100, 1, tcpstate.SYN_RECV)  # 60 s
    m.d[k[2]] = _flow(50, 2, tcpstate.TIME_WAIT)  # 120 s
    m.d[k[3]] = _flow(100, 2, tcpstate.SYN_RECV)  # raced: refreshed to ESTABLISHED
    m.d[u] = _flow(100, 2, 0)  # 300 s
    m.race[k[3]] = _flow(200, 2, tcpstate.ESTABLISHED)
    fp = _fast_path_over(m)
    sweep = fp.expire(now=200.5, timeouts=Timeouts())
    assert sweep.ended == {1: 1, 2: 1}
    assert sweep.counts == {1: (1, 0), 2: (1, 1)}
    assert k[3] in m.d, "the raced flow was put back"
    rows = {f.cport: f for f in fp.flows(now=200.5, timeouts=Timeouts())}
    assert rows[1000].state == "ESTABLISHED" and rows[1000].expires == pytest.approx(799.5)
    assert rows[1003].expires == pytest.approx(899.5)
    assert rows[2000].state == "UDP" and not rows[2000].active
    assert fp.flush() == 3 and m.d == {}
