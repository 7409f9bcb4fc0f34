# pylvs as extra configurations of ../shared/bench-anchors/run_anchors.sh:
#   sudo ../shared/bench-anchors/run_anchors.sh -x bench/anchors/pylvs.sh \
#        -c direct,haproxy,nginx,pyproxy,pylvsproxy
#   sudo ../shared/bench-anchors/run_anchors.sh -x bench/anchors/pylvs.sh \
#        -c direct,nftdnat,haproxy,pylvsnat,pylvsnatq,nftfwd,pylvsdr,pylvsdrq,pylvsproxy
# Kernel plane: pylvsnat (rr: the cycle is laid out in nftables, no upcall),
# pylvsnatq (wlc: every new connection goes through the daemon's core),
# pylvsdr / pylvsdrq the same with Direct Routing, and nftfwd, the stateless
# netdev-forward anchor DR is compared with. The DR configurations make the
# backends real LVS-DR servers (VIP on lo) that answer the client over their
# direct veth, so replies never pass pb-lb.
# PYLVS_BIN: the folder holding pylvs and pylvsadm (default: this checkout's .venv/bin).
PYLVS_BIN=${PYLVS_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin}
PYLVS_PROXY_ARGS=${PYLVS_PROXY_ARGS:-}
EXTRA_CONFIGS+=" pylvsproxy pylvsnat pylvsnatq nftfwd pylvsdr pylvsdrq"

pylvs_setup() {  # pylvs_setup [SCHED [METHOD]]: the harness's service, as ipvsadm commands
    local adm="$PYLVS_BIN/pylvsadm" sched=${1:-rr} m=${2:--m}
    pb_nx "$NS_LB" env PYLVS_SOCKET="$PB_WORK/pylvs.sock" bash -c "
        $adm -A -t $VIP:$HTTP_PORT -s $sched &&
        $adm -a -t $VIP:$HTTP_PORT -r $BE1_IP:80 $m &&
        $adm -a -t $VIP:$HTTP_PORT -r $BE2_IP:80 $m &&
        $adm -A -t $VIP:$BULK_PORT -s $sched &&
        $adm -a -t $VIP:$BULK_PORT -r $BE1_IP:$BULK_PORT $m"
}

pylvs_kernel_up() {  # pylvs_kernel_up NAME SCHED METHOD
    rm -f "$PB_WORK/pylvs.sock" "$PB_WORK/pylvs.sock.kernel-state.json"
    pb_spawn_lb "$NS_LB" "$1" "$PYLVS_BIN/pylvs" run --dataplane kernel --socket "$PB_WORK/pylvs.sock"
    pylvs_wait || return 1
    pylvs_setup "$2" "$3"
}
pylvs_kernel_down() {
    pb_kill_lb
    pb_nx "$NS_LB" nft delete table inet pylvs 2>/dev/null
    pb_nx "$NS_LB" nft delete table netdev pylvs 2>/dev/null
    rm -f "$PB_WORK/pylvs.sock" "$PB_WORK/pylvs.sock.kernel-state.json"
    return 0
}

# Direct Routing: the backends hold the VIP on lo, do not answer ARP for it, and
# reach the client over their direct veth (pb-lb would drop replies whose
# source is its own VIP as martians).
dr_backends_up() {
    local ns cli
    for ns in $NS_BE1 $NS_BE2; do
        pb_nx "$ns" ip addr add "$VIP/32" dev lo 2>/dev/null
        pb_nx "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
    done
    pb_nx $NS_BE1 ip route replace 10.99.1.0/24 via $CLI_D_IP
    pb_nx $NS_BE2 ip route replace 10.99.1.0/24 via $CLI_D2_IP
}
dr_backends_down() {
    local ns
    for ns in $NS_BE1 $NS_BE2; do
        pb_nx "$ns" ip addr del "$VIP/32" dev lo 2>/dev/null
        pb_nx "$ns" ip route del 10.99.1.0/24 2>/dev/null
    done
    return 0
}

pylvs_wait() {
    local i
    for i in $(seq 1 100); do
        [ -S "$PB_WORK/pylvs.sock" ] && return 0
        sleep 0.1
    done
    return 1
}

cfg_pylvsproxy_desc="pylvs --dataplane proxy (asyncio + uvloop, IPVS core per connection)"
cfg_pylvsproxy_up() {
    rm -f "$PB_WORK/pylvs.sock"
    pb_spawn_lb "$NS_LB" pylvsproxy "$PYLVS_BIN/pylvs" run --dataplane proxy \
        --socket "$PB_WORK/pylvs.sock" $PYLVS_PROXY_ARGS
    pylvs_wait || return 1
    pylvs_setup
}
cfg_pylvsproxy_down() {
    pb_kill_lb
    rm -f "$PB_WORK/pylvs.sock"
    return 0
}

cfg_pylvsnat_desc="pylvs --dataplane kernel, NAT, rr: the IPVS cycle laid out in nftables (no upcall), conntrack DNAT"
cfg_pylvsnat_up() { pylvs_kernel_up pylvsnat rr -m; }
cfg_pylvsnat_down() { pylvs_kernel_down; }

cfg_pylvsnatq_desc="pylvs --dataplane kernel, NAT, wlc: each new connection's first packet scheduled by the daemon (NFQUEUE), conntrack DNAT"
cfg_pylvsnatq_up() { pylvs_kernel_up pylvsnatq wlc -m; }
cfg_pylvsnatq_down() { pylvs_kernel_down; }

cfg_nftfwd_desc="stateless DR anchor: nft netdev ingress, jhash(saddr . sport) -> backend MAC, fwd (no conntrack, no routing)"
cfg_nftfwd_up() {
    dr_backends_up
    local m1 m2 l1 l2
    m1=$(pb_nx $NS_BE1 cat /sys/class/net/b1-lb/address); m2=$(pb_nx $NS_BE2 cat /sys/class/net/b2-lb/address)
    l1=$(pb_nx $NS_LB cat /sys/class/net/lb-b1/address); l2=$(pb_nx $NS_LB cat /sys/class/net/lb-b2/address)
    pb_nft_lb <<NFT
table netdev pb_fwd {
    chain b1 { ether saddr set $l1 ether daddr set $m1 fwd to "lb-b1"; }
    chain b2 { ether saddr set $l2 ether daddr set $m2 fwd to "lb-b2"; }
    chain in {
        type filter hook ingress device "lb-c" priority 0; policy accept;
        ip daddr $VIP tcp dport $HTTP_PORT jhash ip saddr . tcp sport mod 2 seed 0x5eed vmap { 0 : jump b1, 1 : jump b2 }
        ip daddr $VIP tcp dport $BULK_PORT jump b1
    }
}
NFT
}
cfg_nftfwd_down() { pb_nx "$NS_LB" nft delete table netdev pb_fwd 2>/dev/null; dr_backends_down; }

cfg_pylvsdr_desc="pylvs --dataplane kernel, DR, rr: cycle and connection map in nft netdev ingress, fwd to the backend MAC"
cfg_pylvsdr_up() { dr_backends_up; pylvs_kernel_up pylvsdr rr -g; }
cfg_pylvsdr_down() { pylvs_kernel_down; dr_backends_down; }

cfg_pylvsdrq_desc="pylvs --dataplane kernel, DR, wlc: first packet scheduled by the daemon and sent by AF_PACKET, the rest in the netdev map"
cfg_pylvsdrq_up() { dr_backends_up; pylvs_kernel_up pylvsdrq wlc -g; }
cfg_pylvsdrq_down() { pylvs_kernel_down; dr_backends_down; }
