"""What a request for a sign-in link does once it is well formed: it counts against the
limits of its address and of its client, and its mail goes out in the background.

The request is answered before anyone looks the address up, so the answer, and the time it
takes, are the same whether or not the address has an account; only the background task
finds out, and it tells nobody but the mailbox. The task is detached from the request
(not Starlette's BackgroundTasks, which run before the connection takes its next request,
so a keep-alive client could time them).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from shared.rate_limits import RateLimits, Spend

from .magic_links import MAGIC_LINK_MAX_AGE_SECONDS, MagicLinks
from .mailer import Mailer
from .store import user_by_email

__all__ = ["LinkSender", "SignInLimits"]

log = logging.getLogger("glassboard.sign_in")

#: Sign-in mails being sent (or waiting for an SMTP connection) at most; a request beyond
#: that answers 503, whatever its address. At the default per-client limit a single
#: client fills 100 of them; 4 connections at ~0.2 s a mail send 20 a second.
MAX_PENDING = 500
SMTP_CONNECTIONS = 4


class SignInLimits:
    """Per-address and per-client limits on sign-in link requests."""

    def __init__(self, *, per_address: str, per_address_total: str, per_client: str,
                 storage_uri: str, links: MagicLinks) -> None:
        self._per_address = per_address
        self._per_address_total = per_address_total
        self._per_client = per_client
        self._limits = RateLimits(storage_uri)
        self._links = links

    async def retry_after(self, address: str, client: str) -> int | None:
        """None when every limit allows one more request (and it is counted), else the
        seconds to wait. The address counts whether or not it has an account: per client
        (so nobody else's requests lock its owner out) and, more loosely, in all."""
        address = address.strip().lower()
        return await self._limits.retry_after([
            Spend(self._per_address, "sign-in-address",
                  self._links.limit_key("address", f"{address}\x00{client}")),
            Spend(self._per_address_total, "sign-in-address-total",
                  self._links.limit_key("address", address)),
            Spend(self._per_client, "sign-in-client", self._links.limit_key("client", client)),
        ])


class LinkSender:
    """Mails sign-in links from detached tasks, a few SMTP connections at a time."""

    def __init__(self, pool: asyncpg.Pool, mailer: Mailer | None, links: MagicLinks,
                 base_url: str) -> None:
        self._pool = pool
        self._mailer = mailer
        self._links = links
        self._base_url = base_url
        self._slots = asyncio.Semaphore(SMTP_CONNECTIONS)
        self._pending: set[asyncio.Task[None]] = set()

    def send_later(self, address: str, next_path: str) -> bool:
        """Queue the link for ``address`` (if it has an active account); False when too many
        are pending already."""
        if len(self._pending) >= MAX_PENDING:
            return False
        task = asyncio.create_task(self._send(address, next_path), name="sign-in-mail")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def _send(self, address: str, next_path: str) -> None:
        async with self._slots:
            try:
                user = await user_by_email(self._pool, address)
                if user is None or not user.active or self._mailer is None:
                    return
                url = self._links.url_for(self._base_url, user.email, next_path)
                minutes = MAGIC_LINK_MAX_AGE_SECONDS // 60
                await self._mailer.send(
                    user.email, "Your Glassboard sign-in link",
                    f"Open this link to sign in (valid {minutes} minutes, once):\n{url}\n\n"
                    "If you did not ask to sign in, ignore this email.",
                )
            except Exception:  # noqa: BLE001 - nobody waits for this task; the log must say
                log.warning("a sign-in email was not sent", exc_info=True)

    async def stop(self) -> None:
        """Cancel what is still pending (a stopping service does not wait for SMTP)."""
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
