"""Signing in as a person's browser does: ask for a magic link, take it from the mail, open
it (a page that signs nobody in by itself) and press its button (a POST of the page's form).

Clients from ``browser`` send ``Origin`` like a browser, so the app's CSRF check sees what
it would see from its own pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from harness.stack import RunningServer, eventually

__all__ = ["MAGIC_LINK", "browser", "form_of", "land", "link_in", "mailed_link", "signed_in"]

MAGIC_LINK = re.compile(r"https?://\S+/auth/magic\?\S+")
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def browser(base_url: str, **kwargs: Any) -> httpx.AsyncClient:
    """A client of ``base_url`` that keeps cookies and sends its Origin, as a browser on one
    of the app's pages does."""
    headers = {"origin": base_url, **kwargs.pop("headers", {})}
    return httpx.AsyncClient(base_url=base_url, headers=headers, **kwargs)


def link_in(text: str) -> str:
    match = MAGIC_LINK.search(text)
    assert match, text
    return match.group(0)


async def mailed_link(server: RunningServer, to: str, sent_before: int,
                      timeout: float = 10.0) -> str:
    """The sign-in link in the first mail to ``to`` after the mailer's ``sent_before``-th
    (it goes out in the background, after the request was answered)."""
    mailer = server.app.state.mailer

    async def mails() -> list[tuple[str, str, str]]:
        return [m for m in mailer.sent[sent_before:] if m[0] == to]

    found = await eventually(mails, lambda m: len(m) > 0, timeout=timeout)
    return link_in(found[0][2])


def form_of(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the landing page's sign-in form."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}


async def land(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open ``link`` and press "Sign in": the answer to the POST (303 on success; a client
    that follows redirects gets where it leads)."""
    page = await client.get(link)
    assert page.status_code == 200, page.text
    assert 'action="/auth/magic"' in page.text and "Sign in" in page.text
    origin = f"{page.url.scheme}://{page.url.netloc.decode()}"
    return await client.post(f"{origin}/auth/magic", data=form_of(page),
                             headers={"origin": origin})


@asynccontextmanager
async def signed_in(server: RunningServer, email: str, next_path: str = "/app/",
                    **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the ratings app, signed in as ``email`` (who must have an
    active account) by the whole magic-link flow."""
    async with browser(server.url, **kwargs) as client:
        sent_before = len(server.app.state.mailer.sent)
        asked = await client.post("/v1/auth/magic-link",
                                  json={"email": email, "next": next_path})
        assert asked.status_code == 202, asked.text
        landed = await land(client, await mailed_link(server, email.lower(), sent_before))
        assert landed.status_code in (200, 303), landed.text
        yield client
