"""The daemon: asyncio loop, control socket, timers, signals."""
