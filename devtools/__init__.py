"""Tools for a developer's machine: ``glassboard dev``, the demo data and the SMTP sink.

Outside ``services/`` on purpose: devtools may import the services (it runs them), a
service never imports devtools, and the container image does not ship it.
"""
