"""SQL of users, sessions, API tokens, ingest keys and used magic-link nonces (tables ratings
owns)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import asyncpg

from .models import ApiToken, IngestKey, Role, Scope, User

__all__ = [
    "INGEST_KEY_PREFIX",
    "TOKEN_DEFAULT_DAYS",
    "activate_user",
    "add_user",
    "create_ingest_key",
    "create_session",
    "create_token",
    "deactivate_user",
    "end_sessions",
    "find_or_create_user",
    "issue_token",
    "list_ingest_keys",
    "list_tokens",
    "list_users",
    "nonce_used",
    "record_nonce",
    "revoke_ingest_key",
    "revoke_session",
    "revoke_token",
    "token_holder",
    "user_by_email",
    "user_by_id",
    "user_by_session",
]

#: Marks our tokens, so a stray string is refused without a database round trip.
TOKEN_PREFIX = "gbt_"
#: Ingest keys' prefix: ingest tells a key from a user's API token by it.
INGEST_KEY_PREFIX = "gbk_"
#: A token made without an expiry (the CLI's, or an API request that names none) works
#: this long: a quarter, so a forgotten token does not work forever.
TOKEN_DEFAULT_DAYS = 90

_COLUMNS = "id, email, name, role, deactivated_at"
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
_TOKEN_COLUMNS = "id, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at"
INSERT_TOKEN = f"""
INSERT INTO api_tokens (user_id, name, token_sha256, scopes, expires_at)
VALUES ($1, $2, $3, $4, coalesce($5, now() + make_interval(days => $6)))
RETURNING {_TOKEN_COLUMNS}
"""
# One round trip: the token, its user and whether it still works; last_used_at moves only
# for a token that does (a data-modifying CTE runs whether or not it is read).
SELECT_TOKEN_HOLDER = """
WITH held AS (
    SELECT t.id, t.user_id, t.name, t.scopes, t.created_at, t.expires_at, t.last_used_at,
           t.revoked_at, t.expires_at <= now() AS expired,
           u.email, u.name AS user_name, u.role, u.deactivated_at
    FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1
), used AS (
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = (SELECT id FROM held WHERE revoked_at IS NULL AND NOT expired
                AND deactivated_at IS NULL)
)
SELECT * FROM held
"""
LIST_TOKENS = f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id"
REVOKE_TOKEN = f"""
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)
RETURNING {_TOKEN_COLUMNS}
"""
REVOKE_TOKENS_OF_USER = """
UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
"""
# A sign-in also drops the user's dead sessions, so the table stays about as large as the
# live ones (sign-ins are rare: a session lasts a month).
INSERT_SESSION = """
WITH dead AS (
    DELETE FROM sessions WHERE user_id = $2 AND (revoked_at IS NOT NULL OR expires_at <= now())
)
INSERT INTO sessions (token_sha256, user_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
"""
SELECT_BY_SESSION = """
SELECT u.id, u.email, u.name, u.role, u.deactivated_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
  AND u.deactivated_at IS NULL
"""
REVOKE_SESSION = """
UPDATE sessions SET revoked_at = now() WHERE token_sha256 = $1 AND revoked_at IS NULL
"""
END_SESSIONS = """
UPDATE sessions SET revoked_at = now()
WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
"""
DEACTIVATE_USER = f"""
UPDATE users SET deactivated_at = coalesce(deactivated_at, now()) WHERE id = $1
RETURNING {_COLUMNS}
"""
ACTIVATE_USER = f"UPDATE users SET deactivated_at = NULL WHERE id = $1 RETURNING {_COLUMNS}"
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
# A nonce needs keeping only while its link could still verify (MAGIC_LINK_MAX_AGE_SECONDS,
# 15 minutes); each use drops those older than an hour, so the table stays small.
RECORD_NONCE = """
WITH old AS (DELETE FROM magic_links_used WHERE used_at < now() - interval '1 hour')
INSERT INTO magic_links_used (nonce) VALUES ($1) ON CONFLICT DO NOTHING RETURNING nonce
"""
NONCE_USED = "SELECT EXISTS (SELECT 1 FROM magic_links_used WHERE nonce = $1)"


def _user(row: asyncpg.Record | None) -> User | None:
    if row is None:
        return None
    return User(row["id"], row["email"], row["name"], Role(row["role"]), row["deactivated_at"])


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


def _count(status: str) -> int:
    """The row count of an ``UPDATE n`` status."""
    return int(status.rsplit(" ", 1)[-1])


def _token(row: asyncpg.Record) -> ApiToken:
    return ApiToken(row["id"], row["user_id"], row["name"],
                    tuple(Scope(s) for s in row["scopes"]), row["created_at"],
                    row["expires_at"], row["last_used_at"], row["revoked_at"])


async def issue_token(
    pool: asyncpg.Pool, user: User, name: str = "", scopes: tuple[Scope, ...] = tuple(Scope),
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for ``user`` and its secret. Only a hash of the secret is stored (256
    random bits: a plain hash is enough), so it is shown once. Without ``expires_at`` it
    works TOKEN_DEFAULT_DAYS; without ``scopes``, it may do all its user may (the CLI's)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = await pool.fetchrow(INSERT_TOKEN, user.id, name, _digest(token),
                              [s.value for s in dict.fromkeys(scopes)], expires_at,
                              TOKEN_DEFAULT_DAYS)
    return _token(row), token


async def create_token(pool: asyncpg.Pool, user: User, name: str = "") -> str:
    """A new API token with every scope and the default lifetime; the secret only."""
    return (await issue_token(pool, user, name))[1]


async def token_holder(pool: asyncpg.Pool, token: str) -> tuple[User, ApiToken, bool] | None:
    """Who holds ``token``, the token and whether it has expired; None for no such token.
    Revoked, expired and deactivated are the caller's to refuse; the use is recorded only
    when none applies."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = await pool.fetchrow(SELECT_TOKEN_HOLDER, _digest(token))
    if row is None:
        return None
    user = User(row["user_id"], row["email"], row["user_name"], Role(row["role"]),
                row["deactivated_at"])
    return user, _token(row), row["expired"]


async def list_tokens(pool: asyncpg.Pool, user_id: int) -> list[ApiToken]:
    return [_token(r) for r in await pool.fetch(LIST_TOKENS, user_id)]


async def revoke_token(pool: asyncpg.Pool, token_id: int, owner_id: int | None) -> ApiToken | None:
    """Revoke a token (again is a no-op): ``owner_id``'s only, or anyone's when None."""
    row = await pool.fetchrow(REVOKE_TOKEN, token_id, owner_id)
    return _token(row) if row else None


async def create_session(pool: asyncpg.Pool, user: User, max_age_seconds: float) -> str:
    """A new server-side session for ``user``; the cookie carries the returned id, the table
    only its hash."""
    session_id = secrets.token_urlsafe(32)
    await pool.execute(INSERT_SESSION, _digest(session_id), user.id, float(max_age_seconds))
    return session_id


async def user_by_session(pool: asyncpg.Pool, session_id: str) -> User | None:
    """The active user of a live session (not revoked, not expired); else None."""
    return _user(await pool.fetchrow(SELECT_BY_SESSION, _digest(session_id)))


async def revoke_session(pool: asyncpg.Pool, session_id: str) -> bool:
    return _count(await pool.execute(REVOKE_SESSION, _digest(session_id))) > 0


async def end_sessions(conn: asyncpg.Pool | asyncpg.Connection, user_id: int) -> int:
    """End every live session of a user; how many there were."""
    return _count(await conn.execute(END_SESSIONS, user_id))


async def deactivate_user(pool: asyncpg.Pool, user_id: int) -> User | None:
    """Deactivate a user, end their sessions and revoke their tokens, together. Reactivating
    restores neither: a copied cookie or token stays dead."""
    async with pool.acquire() as conn, conn.transaction():
        user = _user(await conn.fetchrow(DEACTIVATE_USER, user_id))
        if user is not None:
            await end_sessions(conn, user_id)
            await conn.execute(REVOKE_TOKENS_OF_USER, user_id)
        return user


async def activate_user(pool: asyncpg.Pool, user_id: int) -> User | None:
    return _user(await pool.fetchrow(ACTIVATE_USER, user_id))


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


async def nonce_used(pool: asyncpg.Pool, nonce: str) -> bool:
    """Whether a magic link was used, without using it (its landing page's GET)."""
    return bool(await pool.fetchval(NONCE_USED, nonce))
