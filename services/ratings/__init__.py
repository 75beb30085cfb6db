"""The ratings service."""
