"""The pytest layer: hooks (the pytest11 entry point is plugin.hooks), options and the one
settings object built from them, the items, and the per-session Kit with its reporting.

The only subpackage that imports pytest."""
