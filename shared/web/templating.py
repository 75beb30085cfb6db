"""Jinja2 templates for every service: its own ``templates/`` first, then the shared ones.

The shared ones are ``base.html`` (doctype, head, viewport, the ``css`` and ``js`` blocks)
and ``_header.html`` (the Glassboard top bar). A page::

    {% extends "base.html" %}
    {% block title %}Alerts{% endblock %}
    {% block css %}<link rel="stylesheet" href="{{ static_url('alerts/alerts.css') }}">{% endblock %}
    {% block body %}...{% endblock %}

Autoescape is on for every template, and an undefined name is an error rather than an
empty string, so a typo cannot blank a piece of a page unnoticed.

Markup that is not a page answering a request (an email body, a snippet an API returns)
comes from a plain ``jinja2.Environment`` with the same loader and settings (no request,
no static files)::

    EMAILS = make_environment("services.notifier")  # services/notifier/templates/
    body = EMAILS.get_template("alerts_email.html").render(alerts=...)
"""

from __future__ import annotations

import jinja2
from fastapi.templating import Jinja2Templates

from .static import HashedStaticFiles

__all__ = ["make_environment", "make_templates"]


def make_environment(package: str) -> jinja2.Environment:
    """A plain Jinja2 environment over ``<package>/templates/`` and then
    ``shared/web/templates/``: autoescaped, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.PackageLoader(package, "templates"),
            jinja2.PackageLoader("shared.web", "templates"),
        ]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def make_templates(package: str, static: HashedStaticFiles) -> Jinja2Templates:
    """Templates from ``<package>/templates/`` and ``shared/web/templates/``, with
    ``static_url(name)`` giving ``static``'s content-hashed URLs."""
    env = make_environment(package)
    env.globals["static_url"] = static.url
    return Jinja2Templates(env=env)
