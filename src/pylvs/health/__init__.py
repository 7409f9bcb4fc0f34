"""keepalived-compatible health checking for the director.

- :mod:`pylvs.health.params` — what to check and how (plain, resolved values);
- :mod:`pylvs.health.policy` — keepalived's up/down engine, pure: results in,
  table actions / log lines / scripts / FIFO lines out;
- :mod:`pylvs.health.checkers` — the probes, by keepalived block name;
- :mod:`pylvs.health.runner` — the asyncio driver the daemon starts.

Nothing is imported here, so the pure modules load without asyncio.
"""
