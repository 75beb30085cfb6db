"""The ratings app's web front: its HTML pages (``routes.router``), their Jinja2 templates
and their static files (``routes.static_app``, mounted at /static). No tables of its own:
it reads through the other contexts' stores and ``reads``."""
