"""Ingest keys, checked against a cached copy of their hashes: no database round trip per
request. The copy is reloaded every ``INGEST_KEY_REFRESH_SECONDS``, so a key an admin
revokes (or creates) in the ratings app is refused (or accepted) within that interval.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from shared.observability import db_timer
from shared.periodic import Periodic

from .reads.ratings import ingest_keys

__all__ = ["KEY_PREFIX", "WRITE_SCOPE", "IngestKeys", "Key", "KeyRefusal", "key_from_header"]

log = logging.getLogger(__name__)

#: The ratings app's ingest keys start with this (services/ratings/identity/store.py).
KEY_PREFIX = "gbk_"
WRITE_SCOPE = "events:write"


class KeyRefusal(StrEnum):
    """Why a request's key is not good enough: the ``reason`` of its 401 or 403."""

    MISSING = "missing_key"
    UNKNOWN = "unknown_key"
    REVOKED = "revoked_key"
    OUT_OF_SCOPE = "out_of_scope"

    @property
    def status(self) -> int:
        """401 when there is no usable key; 403 when the key is real but not for this."""
        return 403 if self in (KeyRefusal.REVOKED, KeyRefusal.OUT_OF_SCOPE) else 401


@dataclass(frozen=True)
class Key:
    id: int
    scopes: frozenset[str]
    #: None: every asset.
    asset_ids: frozenset[str] | None
    revoked: bool


def key_from_header(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None without one."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class IngestKeys(Periodic):
    """Every key by the SHA-256 of its token, reloaded on a clock."""

    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float) -> None:
        super().__init__("ingest-key-refresh", refresh_seconds, self.reload)
        self._pool = pool
        self._by_digest: dict[bytes, Key] = {}

    async def reload(self) -> None:
        with db_timer("ingest", "ingest_key_refresh"):
            rows = await ingest_keys(self._pool)
        self._by_digest = {
            bytes(r["token_sha256"]): Key(
                r["id"], frozenset(r["scopes"]),
                None if r["asset_ids"] is None else frozenset(r["asset_ids"]), r["revoked"],
            )
            for r in rows
        }

    def find(self, token: str) -> Key | KeyRefusal:
        """The key a token names, or why it is refused (unknown or revoked)."""
        if not token.startswith(KEY_PREFIX):
            return KeyRefusal.UNKNOWN
        # Looked up by the token's hash: a timing difference could only tell how much of a
        # SHA-256 matched, which says nothing about the token.
        key = self._by_digest.get(_digest(token))
        if key is None:
            return KeyRefusal.UNKNOWN
        return KeyRefusal.REVOKED if key.revoked else key
