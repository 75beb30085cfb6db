"""The sign-in pages other contexts answer with, so that identity needs no templates: the
page an emailed magic link opens (it signs in only when its button is pressed), and the
page that says why a link cannot sign anyone in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from .routes import HTML_HEADERS, templates

__all__ = ["magic_link_error", "magic_link_page"]

#: The URL of these pages carries the sign-in token: never cache them, never index them,
#: and send only the origin as Referer (not "no-referrer", which makes browsers send
#: "Origin: null" with the page's own form, and the app refuses a foreign Origin).
_LINK_HEADERS = {
    **HTML_HEADERS,
    "Cache-Control": "no-store",
    "Referrer-Policy": "strict-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


def magic_link_page(request: Request, *, email: str, token: str, next_path: str, csrf: str,
                    notice: str = "", status_code: int = 200) -> Response:
    """The landing page of a magic link: whom it signs in, and the button that does."""
    context = {"email": email, "token": token, "next": next_path, "csrf": csrf,
               "notice": notice}
    return templates.TemplateResponse(request, "magic_link.html", context,
                                      status_code=status_code, headers=_LINK_HEADERS)


def magic_link_error(request: Request, reason: str) -> Response:
    """400, in the sign-in page's look: why the link failed (``reason``, lower case, as
    ``MagicLinks.redeem`` words it) and a way back to /login."""
    return templates.TemplateResponse(request, "magic_link_error.html", {"message": reason},
                                      status_code=400, headers=_LINK_HEADERS)
