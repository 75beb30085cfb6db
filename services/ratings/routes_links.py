"""Hand a signed-in rater their one-tap rating links for an asset, to put under content
or in an email. The links are personal: they rate as the user they were made for."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Request

from shared.signing import rating_link_url

from .auth import current_user
from .routes_ratings import rateable_asset
from .users import User

__all__ = ["LINK_LIFETIME_SECONDS", "rating_links_html", "router"]

router = APIRouter()

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


@router.get("/v1/assets/{asset_id}/rating-links")
async def rating_links(asset_id: str, request: Request,
                       user: User = Depends(current_user)) -> dict[str, Any]:
    """Your five one-tap links (1 to 5 stars) for this asset, valid for 30 days."""
    asset = await rateable_asset(request, asset_id, user)
    settings = request.app.state.settings
    expires_at = int(time.time()) + LINK_LIFETIME_SECONDS
    secret = settings.signing_secret.get_secret_value()
    urls = [rating_link_url(settings.ingest_base_url, secret, asset_id, user.id, n, expires_at)
            for n in range(1, 6)]
    return {
        "asset_id": asset_id,
        "user_id": user.id,
        "expires_at": datetime.fromtimestamp(expires_at, timezone.utc).isoformat(),
        "links": [{"stars": n, "url": url} for n, url in enumerate(urls, start=1)],
        "html": rating_links_html(asset["title"], urls),
    }
