"""IPVS connection synchronisation: message codec (pure) and, later, transport."""
