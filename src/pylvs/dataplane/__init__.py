"""Data planes: the only code that moves packets (design: Data planes)."""
