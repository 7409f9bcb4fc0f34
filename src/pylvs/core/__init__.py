"""The pure IPVS core: no sockets, no clock, no asyncio, no subprocess.

Everything here is driven by explicit arguments (``now`` in seconds, an
injected ``random.Random``) and returns values; the layers above perform I/O.
"""
