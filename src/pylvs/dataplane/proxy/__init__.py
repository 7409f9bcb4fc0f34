"""The proxy data plane: asyncio listeners on VIP:port relaying to real servers."""
