# pylvs as extra configurations of ../shared/bench-anchors/run_anchors.sh:
#   sudo ../shared/bench-anchors/run_anchors.sh -x bench/anchors/pylvs.sh \
#        -c direct,haproxy,nginx,pyproxy,pylvsproxy
# PYLVS_BIN: the folder holding pylvs and pylvsadm (default: this checkout's .venv/bin).
PYLVS_BIN=${PYLVS_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin}
PYLVS_PROXY_ARGS=${PYLVS_PROXY_ARGS:-}
EXTRA_CONFIGS+=" pylvsproxy"

pylvs_setup() {  # the harness's service, as ipvsadm commands
    local adm="$PYLVS_BIN/pylvsadm"
    pb_nx "$NS_LB" env PYLVS_SOCKET="$PB_WORK/pylvs.sock" bash -c "
        $adm -A -t $VIP:$HTTP_PORT -s rr &&
        $adm -a -t $VIP:$HTTP_PORT -r $BE1_IP:80 -m &&
        $adm -a -t $VIP:$HTTP_PORT -r $BE2_IP:80 -m &&
        $adm -A -t $VIP:$BULK_PORT -s rr &&
        $adm -a -t $VIP:$BULK_PORT -r $BE1_IP:$BULK_PORT -m"
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
