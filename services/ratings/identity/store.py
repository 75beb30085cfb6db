"""SQL of users, API tokens, ingest keys and used magic-link nonces (tables ratings owns)."""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from .models import IngestKey, Role, User

__all__ = [
    "INGEST_KEY_PREFIX",
    "add_user",
    "create_ingest_key",
    "create_token",
    "find_or_create_user",
    "list_ingest_keys",
    "list_users",
    "record_nonce",
    "revoke_ingest_key",
    "user_by_email",
    "user_by_id",
    "user_by_token",
]

#: Marks our tokens, so a stray string is refused without a database round trip.
TOKEN_PREFIX = "gbt_"
#: Ingest keys' prefix: ingest tells a key from a user's API token by it.
INGEST_KEY_PREFIX = "gbk_"

_COLUMNS = "id, email, name, role"
INSERT_USER = f"""
INSERT INTO users (email, name, role) VALUES (lower($1), $2, $3)
ON CONFLICT (email) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN users.name
                                              ELSE excluded.name END,
                                  role = excluded.role
RETURNING {_COLUMNS}
"""
FIND_OR_CREATE_USER = f"""
WITH ins AS (
    INSERT INTO users (email, role) VALUES (lower($1), $2)
    ON CONFLICT (email) DO NOTHING RETURNING {_COLUMNS}
)
SELECT {_COLUMNS} FROM ins UNION ALL SELECT {_COLUMNS} FROM users WHERE email = lower($1)
LIMIT 1
"""
SELECT_BY_EMAIL = f"SELECT {_COLUMNS} FROM users WHERE email = lower($1)"
SELECT_BY_ID = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
LIST_USERS = f"SELECT {_COLUMNS} FROM users ORDER BY email"
INSERT_TOKEN = "INSERT INTO api_tokens (user_id, name, token_sha256) VALUES ($1, $2, $3)"
SELECT_BY_TOKEN = """
UPDATE api_tokens t SET last_used_at = now()
FROM users u WHERE t.token_sha256 = $1 AND u.id = t.user_id
RETURNING u.id, u.email, u.name, u.role
"""
_KEY_COLUMNS = "id, name, scopes, asset_ids, created_at, revoked_at"
INSERT_INGEST_KEY = f"""
INSERT INTO ingest_keys (name, token_sha256, scopes, asset_ids, created_by)
VALUES ($1, $2, $3, $4, $5) RETURNING {_KEY_COLUMNS}
"""
LIST_INGEST_KEYS = f"SELECT {_KEY_COLUMNS} FROM ingest_keys ORDER BY id"
REVOKE_INGEST_KEY = f"""
UPDATE ingest_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING {_KEY_COLUMNS}
"""
RECORD_NONCE = """
INSERT INTO magic_links_used (nonce) VALUES ($1) ON CONFLICT DO NOTHING RETURNING nonce
"""


def _user(row: asyncpg.Record | None) -> User | None:
    return User(row["id"], row["email"], row["name"], Role(row["role"])) if row else None


async def add_user(pool: asyncpg.Pool, email: str, role: Role, name: str = "") -> User:
    """Create a user, or update the role (and name, if given) of an existing one."""
    user = _user(await pool.fetchrow(INSERT_USER, email, name, role.value))
    assert user is not None
    return user


async def find_or_create_user(conn: asyncpg.Connection | asyncpg.Pool, email: str,
                              role: Role) -> User:
    user = _user(await conn.fetchrow(FIND_OR_CREATE_USER, email, role.value))
    assert user is not None
    return user


async def user_by_email(pool: asyncpg.Pool, email: str) -> User | None:
    return _user(await pool.fetchrow(SELECT_BY_EMAIL, email))


async def user_by_id(pool: asyncpg.Pool, user_id: int) -> User | None:
    return _user(await pool.fetchrow(SELECT_BY_ID, user_id))


async def list_users(pool: asyncpg.Pool) -> list[User]:
    return [u for r in await pool.fetch(LIST_USERS) if (u := _user(r))]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_token(pool: asyncpg.Pool, user: User, name: str = "") -> str:
    """A new API token for ``user``; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await pool.execute(INSERT_TOKEN, user.id, name, _digest(token))
    return token


async def user_by_token(pool: asyncpg.Pool, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return _user(await pool.fetchrow(SELECT_BY_TOKEN, _digest(token)))


def _ingest_key(row: asyncpg.Record) -> IngestKey:
    assets = row["asset_ids"]
    return IngestKey(row["id"], row["name"], tuple(row["scopes"]),
                     None if assets is None else tuple(assets),
                     row["created_at"], row["revoked_at"])


async def create_ingest_key(
    pool: asyncpg.Pool, name: str, scopes: list[str], asset_ids: list[str] | None,
    created_by: User | None = None,
) -> tuple[IngestKey, str]:
    """A new ingest key and its token. Only the token's SHA-256 is stored (256 random bits:
    a plain hash is enough, no salt or slow hash), so the token is shown once."""
    token = INGEST_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await pool.fetchrow(INSERT_INGEST_KEY, name, _digest(token), scopes, asset_ids,
                              created_by.id if created_by else None)
    return _ingest_key(row), token


async def list_ingest_keys(pool: asyncpg.Pool) -> list[IngestKey]:
    return [_ingest_key(r) for r in await pool.fetch(LIST_INGEST_KEYS)]


async def revoke_ingest_key(pool: asyncpg.Pool, key_id: int) -> IngestKey | None:
    """Revoke a key (again is a no-op); None when there is no such key. Ingest refuses it
    once its key cache refreshes (``INGEST_KEY_REFRESH_SECONDS``)."""
    row = await pool.fetchrow(REVOKE_INGEST_KEY, key_id)
    return _ingest_key(row) if row else None


async def record_nonce(pool: asyncpg.Pool, nonce: str) -> bool:
    """Mark a magic link's nonce used; False when it already was (a link works once)."""
    return await pool.fetchval(RECORD_NONCE, nonce) is not None
