-- Owner: ratings. Sessions kept on the server, API tokens that expire and carry scopes, and
-- users an admin can deactivate (docs/security.md, "Sessions and API tokens").
--
-- The session cookie only names a row here (a random id, signed by the session middleware);
-- only the id's SHA-256 is stored, as for API tokens. Logout and an admin's "end sessions"
-- set revoked_at, so a copied cookie stops working at once.
-- Cookies made before this migration (they held the user id) no longer sign anyone in.
CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    token_sha256  bytea NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
-- Ending a user's sessions finds them by user, and so does the clean-up at each sign-in
-- (it deletes that user's expired and revoked rows, so the table holds about the live ones).
CREATE INDEX sessions_by_user ON sessions (user_id);

COMMENT ON TABLE sessions IS 'owner: ratings';

-- Tokens made before this migration could do everything and never expired: they keep every
-- scope, and expire 90 days from now (the default lifetime of a new token).
ALTER TABLE api_tokens
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,write,admin}'
        CHECK (scopes <@ '{read,write,admin}'::text[] AND cardinality(scopes) > 0),
    ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '90 days',
    ADD COLUMN revoked_at timestamptz;
ALTER TABLE api_tokens ALTER COLUMN scopes DROP DEFAULT, ALTER COLUMN expires_at DROP DEFAULT;
-- Listing a user's tokens.
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- A deactivated user signs in no more, and their sessions and tokens stop working.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
