"""``pylvs lab``: the seed guide's network in network namespaces (design: The lab).

- ``topology`` -- the network per mode, as pure data
- ``builder`` -- applies a topology (pyroute2, sysctl, ethtool) and removes it
- ``state`` -- what a lab made, under /run/pylvs-lab/
- ``procs`` -- background processes in a namespace: start, check, stop by pid
- ``survey`` -- reads back what exists, for ``lab status``
- ``httpd`` -- the real servers' web server (answers with its name)
- ``ipipd`` -- userspace IPIP decapsulation for TUN real servers without ``ipip``
"""
