"""One-tap rating links as email-safe markup, to put under content or in an email. Pure:
the markup is ``templates/rating_links.html``, loaded once."""

from __future__ import annotations

from shared.web.templating import make_environment

__all__ = ["LINK_LIFETIME_SECONDS", "rating_links_html"]

# The rating context's own templates, beside it: the snippet is API output, not a web page.
_SNIPPET = make_environment("services.ratings.rating").get_template("rating_links.html")

#: Long enough for an email to be read late; short enough that a leaked link dies.
LINK_LIFETIME_SECONDS = 30 * 24 * 3600


def rating_links_html(title: str, urls: list[str]) -> str:
    """Email-safe markup: plain links, inline styles, no script, readable without CSS."""
    return _SNIPPET.render(title=title, urls=urls).strip()
