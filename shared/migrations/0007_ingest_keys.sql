-- Ingest API keys: what a server-side integration sends to POST /v1/events as
-- "Authorization: Bearer gbk_...". Only the SHA-256 of the token is kept; the token is shown
-- once, when an admin creates the key. A revoked key keeps its row, so ingest can answer
-- 403 "revoked" instead of 401 "unknown".
CREATE TABLE ingest_keys (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_sha256  bytea NOT NULL UNIQUE,
    -- What the key may do; "events:write" is the one scope today (docs/tracking.md).
    scopes        text[] NOT NULL,
    -- NULL: every asset; else the only asset ids the key may send events for.
    asset_ids     text[],
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

COMMENT ON TABLE ingest_keys IS 'owner: ratings; read by: ingest';
