"""Glassboard's four services and the ``glassboard`` command line."""
