"""keepalived mode: ``pylvs run -f keepalived.conf``.

- :mod:`~pylvs.keepalived.identity` — which servers are "the same" across a
  reload (keepalived's vs_iseq / rs_iseq), as keys;
- :mod:`~pylvs.keepalived.adapter` — the loaded configuration as the health
  engine's parameters and a :class:`~pylvs.keepalived.servermap.ServerMap`;
- :mod:`~pylvs.keepalived.servermap` — where each server sits in the table;
- :mod:`~pylvs.keepalived.tableops` — the engine's table actions as core ops;
- :mod:`~pylvs.keepalived.gate` — which configuration errors stop a start
  or a reload;
- :mod:`~pylvs.keepalived.signums` — ``--signum``;
- :mod:`~pylvs.keepalived.dumps` — the SIGUSR1/SIGUSR2 files;
- :mod:`~pylvs.keepalived.fifo` — the notify FIFOs;
- :mod:`~pylvs.keepalived.director` — the part of the daemon that owns the
  table from the configuration (asyncio).

All but the last two are pure.  Nothing is imported here, so they load without
asyncio.
"""
