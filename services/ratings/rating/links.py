"""One-tap rating links as email-safe markup, to put under content or in an email. Pure."""

from __future__ import annotations

from html import escape

__all__ = ["LINK_LIFETIME_SECONDS", "rating_links_html"]

#: Long enough for an email to be read late; short enough that a leaked link dies.
LINK_LIFETIME_SECONDS = 30 * 24 * 3600


def rating_links_html(title: str, urls: list[str]) -> str:
    """Email-safe markup: plain links, inline styles, no script, readable without CSS."""
    stars = " ".join(
        f'<a href="{escape(url)}" title="{n} of 5" aria-label="Rate {n} of 5 stars" '
        'style="display:inline-block;min-width:40px;padding:8px 4px;margin:0 2px;'
        'border:1px solid #767676;border-radius:6px;text-align:center;color:#1a1a1a;'
        f'text-decoration:none;font-size:18px">{n}&#9733;</a>'
        for n, url in enumerate(urls, start=1)
    )
    return (
        '<p style="margin:16px 0 4px;font:15px/1.4 sans-serif;color:#1a1a1a">'
        f"How useful is <strong>{escape(title)}</strong> for your deals? Tap to rate:</p>"
        f'<p style="margin:0;font:15px/1.4 sans-serif">{stars}</p>'
        '<p style="margin:4px 0 16px;font:12px/1.4 sans-serif;color:#555">'
        "1 = not useful, 5 = very useful. These links rate as you: do not forward them.</p>"
    )
