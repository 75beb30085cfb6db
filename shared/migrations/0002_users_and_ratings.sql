-- Users and roles, the full catalog, individual ratings (owned by the ratings service),
-- and the rating aggregates the aggregator keeps.

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    name        text NOT NULL DEFAULT '',
    role        text NOT NULL CHECK (role IN ('sales', 'marketing', 'executive', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Integration tokens: only a SHA-256 of the token is stored; the token is shown once.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    token_sha256  bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);

-- Magic links are single use: a link's nonce is recorded when it signs someone in.
CREATE TABLE magic_links_used (
    nonce    text PRIMARY KEY,
    used_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE assets
    ADD COLUMN owner_id bigint REFERENCES users (id),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN stage text CHECK (stage IN ('awareness', 'consideration', 'decision', 'onboarding'));

-- One rating per rater and asset; rating again replaces it, withdrawing deletes it.
CREATE TABLE ratings (
    asset_id    text NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stars       smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment     text CHECK (length(comment) <= 2000),
    context     jsonb NOT NULL DEFAULT '{}',
    rated_at    timestamptz NOT NULL,
    PRIMARY KEY (asset_id, user_id)
);
CREATE INDEX ratings_asset_time ON ratings (asset_id, rated_at DESC);

-- Transactional outbox: a rating change and its event are written together, then a relay
-- publishes the events in order. No change is ever published without being committed.
CREATE TABLE rating_outbox (
    id            bigserial PRIMARY KEY,
    event         jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX rating_outbox_pending ON rating_outbox (id) WHERE published_at IS NULL;

-- Rating commands from one-tap links, applied once each.
CREATE TABLE rating_commands_applied (
    command_id  uuid PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recently_viewed (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    asset_id   text NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    viewed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, asset_id)
);

-- Aggregator-owned: how many current ratings of each star value were given on each day.
-- A re-rating moves one unit from (old day, old stars) to (new day, new stars).
CREATE TABLE rating_daily (
    asset_id  text NOT NULL,
    day       date NOT NULL,
    stars     smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    ratings   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, day, stars)
);
