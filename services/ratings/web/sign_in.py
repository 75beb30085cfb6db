"""The sign-in pages other contexts answer with, so that identity needs no templates: the
page a magic link opens when it cannot sign anyone in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from .routes import HTML_HEADERS, templates

__all__ = ["magic_link_error"]


def magic_link_error(request: Request, reason: str) -> Response:
    """400, in the sign-in page's look: why the link failed (``reason``, lower case, as
    ``MagicLinks.redeem`` words it) and a way back to /login."""
    return templates.TemplateResponse(request, "magic_link_error.html", {"message": reason},
                                      status_code=400, headers=HTML_HEADERS)
