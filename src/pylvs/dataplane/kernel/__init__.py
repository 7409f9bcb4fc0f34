"""The kernel data plane: nftables and conntrack forward; Python schedules
the first packet of each new flow (design: Data planes)."""
