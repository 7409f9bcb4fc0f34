"""The control protocol: versioned JSON messages over a Unix socket
(docs/control-protocol.md)."""

# Kept here (not in protocol.py) so that clients import nothing of the core.
PROTOCOL_VERSION = 1
# A request line longer than this is refused and the connection closed.
MAX_MESSAGE = 64 * 1024 * 1024
