"""The kit's version, apart from the package's __init__ so that any module can read it
without importing the public API (and so without an import cycle)."""

__version__ = "0.1.0"
