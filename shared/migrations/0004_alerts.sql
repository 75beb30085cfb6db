-- Owner alerts (issue 5): the notifier's position, rule states, decisions and deliveries,
-- and each person's alert settings. docs/alerts.md explains the state machines.

-- Where the notifier is in each partition it reads. Written in the same transaction as
-- the rule states and alerts those records caused; the consumer seeks here whenever it
-- is assigned a partition, so Kafka's own committed offsets are only a hint.
CREATE TABLE notifier_offsets (
    group_id    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- The newest asset-scores state the notifier applied per asset: older revisions arriving
-- later are ignored, and the confirmation sweep re-reads the state from here.
CREATE TABLE alert_asset_state (
    asset_id   text PRIMARY KEY,
    revision   bigint NOT NULL,
    message    jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per asset and rule: armed, pending (condition holds, waiting for confirmation
-- or the cooldown) or firing (alerted; re-armed only past the threshold plus a margin).
CREATE TABLE alert_rule_state (
    asset_id      text NOT NULL,
    rule          text NOT NULL,
    status        text NOT NULL DEFAULT 'armed' CHECK (status IN ('armed', 'pending', 'firing')),
    episode       integer NOT NULL DEFAULT 0,
    pending_since timestamptz,
    last_fired_at timestamptz,
    suppressed    integer NOT NULL DEFAULT 0,
    last_source   text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, rule)
);
CREATE INDEX alert_rule_state_pending ON alert_rule_state (pending_since) WHERE status = 'pending';

-- Each alert decision once: (asset, rule, episode) is its key.
CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    asset_id    text NOT NULL,
    rule        text NOT NULL,
    episode     integer NOT NULL,
    revision    bigint,
    owner_email text NOT NULL,
    title       text NOT NULL,
    summary     text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    fired_at    timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (asset_id, rule, episode)
);
CREATE INDEX alerts_owner ON alerts (owner_email, id DESC);

-- The delivery outbox: one message to one recipient on one channel, carrying one alert
-- (immediate) or a day's alerts (digest). pending -> sending (attempt_id) -> sent, or
-- back to pending with a later due_at, or failed after the last attempt.
CREATE TABLE alert_deliveries (
    id              bigserial PRIMARY KEY,
    message_key     uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    recipient_email text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    target          text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('immediate', 'digest')),
    digest_day      date,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    due_at          timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    attempt_id      uuid,
    claimed_at      timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (due_at) WHERE state IN ('pending', 'sending');
CREATE UNIQUE INDEX alert_deliveries_open_digest
    ON alert_deliveries (recipient_email, channel, target, digest_day)
    WHERE kind = 'digest' AND state = 'pending';

CREATE TABLE alert_delivery_items (
    delivery_id bigint NOT NULL REFERENCES alert_deliveries (id) ON DELETE CASCADE,
    alert_id    bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    PRIMARY KEY (delivery_id, alert_id)
);
CREATE INDEX alert_delivery_items_alert ON alert_delivery_items (alert_id);

-- How each person hears about alerts; no row means email, immediately.
CREATE TABLE alert_preferences (
    user_id     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email       boolean NOT NULL DEFAULT true,
    webhook_url text CHECK (length(webhook_url) <= 2000),
    mode        text NOT NULL DEFAULT 'immediate' CHECK (mode IN ('immediate', 'digest')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An owner's own rule settings over the global defaults: only the fields they changed.
CREATE TABLE alert_rule_overrides (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rule       text NOT NULL,
    params     jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, rule)
);
