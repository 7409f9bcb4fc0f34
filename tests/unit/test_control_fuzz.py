"""The control protocol's dispatcher never raises and never changes the table
on a refused request, whatever it is sent (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import make_ipvs
from pylvs.api.protocol import Dispatcher
from pylvs.core.diff import snapshot

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    ["protocol", "addr", "port", "fwmark", "af", "scheduler", "flags", "timeout", "netmask", "pe"]
)
services = st.dictionaries(
    keys,
    st.sampled_from(["tcp", "udp", "10.0.0.1", "::1", 80, -1, 2**40, "rr", None, 0]),
    max_size=6,
)
dest_keys = st.sampled_from(
    [
        "addr",
        "port",
        "fwd",
        "weight",
        "u_threshold",
        "l_threshold",
        "tun_type",
        "tun_port",
        "tun_flags",
    ]
)
dests = st.dictionaries(
    dest_keys,
    st.sampled_from(["10.0.0.2", "masq", "gue", 80, -1, 0, 65536, None, True]),
    max_size=6,
)
ops = st.fixed_dictionaries(
    {
        "op": st.sampled_from(
            [
                "new-service",
                "set-service",
                "del-service",
                "flush",
                "new-dest",
                "set-dest",
                "del-dest",
                "zero",
                "set-timeouts",
                "new-daemon",
                "del-daemon",
                "bogus",
            ]
        )
    },
    optional={
        "service": services | json_values,
        "dest": dests | json_values,
        "daemon": json_values,
        "state": json_values,
        "tcp": json_values,
    },
)
requests = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "cmd": st.sampled_from(
                [
                    "apply",
                    "get-services",
                    "get-conns",
                    "get-info",
                    "get-timeouts",
                    "get-daemons",
                    "x",
                ]
            )
        },
        optional={
            "v": st.sampled_from([1, 2, None]),
            "id": json_values,
            "ops": st.lists(ops, max_size=4) | json_values,
            "atomic": json_values,
            "service": services,
        },
    ),
)


@settings(max_examples=400, deadline=None)
@given(request=requests)
def test_dispatcher_never_raises(request: Any) -> None:
    ipvs = make_ipvs()
    d = Dispatcher(ipvs, lambda: 0.0)
    d.handle(
        {
            "cmd": "apply",
            "ops": [
                {
                    "op": "new-service",
                    "service": {"protocol": "tcp", "addr": "10.0.0.1", "port": 80},
                }
            ],
        }
    )
    before = snapshot(ipvs.table)
    reply = d.handle(request)
    assert isinstance(reply, dict) and reply["v"] == 1
    if not reply["ok"]:
        assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]
        if not (isinstance(request, dict) and request.get("atomic") is False):
            assert snapshot(ipvs.table) == before
