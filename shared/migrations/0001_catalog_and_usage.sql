-- Asset catalog (minimal; grows in issue 3) and the usage model the aggregator maintains.

CREATE TABLE assets (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,79}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    type        text NOT NULL CHECK (type IN ('product_sheet', 'case_study', 'blog_post', 'video', 'deck', 'other')),
    url         text NOT NULL CHECK (url ~ '^https?://'),
    owner_email text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every accepted event once (the de-duplication table). Never holds an IP or a raw UA.
CREATE TABLE events (
    event_id      uuid PRIMARY KEY,
    type          text NOT NULL,
    asset_id      text NOT NULL,
    viewer_key    text,
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    device_class  text NOT NULL,
    os            text,
    browser       text,
    page          integer,
    referrer_host text,
    source        text NOT NULL,
    view_id       uuid,
    engaged_ms    integer,
    wall_ms       integer,
    -- Why a stored event did not count (e.g. 'double_click'); NULL when it counted.
    suppressed    text
);
CREATE INDEX events_asset_time ON events (asset_id, occurred_at);

-- Snowplow-style failed events: everything refused, with its reason.
CREATE TABLE rejected_events (
    event_id    uuid PRIMARY KEY,
    reason      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    asset_id    text,
    source      text,
    received_at timestamptz NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX rejected_events_reason_time ON rejected_events (reason, received_at);

-- Per asset, UTC day and device class. device_class 'all' holds the exact cross-device
-- figures (a viewer on two devices is one unique viewer there).
CREATE TABLE usage_daily (
    asset_id       text NOT NULL,
    day            date NOT NULL,
    device_class   text NOT NULL,
    views          bigint NOT NULL DEFAULT 0,
    unique_viewers bigint NOT NULL DEFAULT 0,
    downloads      bigint NOT NULL DEFAULT 0,
    engaged_ms     bigint NOT NULL DEFAULT 0,
    wall_ms        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, day, device_class)
);

-- Who viewed an asset on a day, per device class (and 'all'): makes unique counts exact.
CREATE TABLE viewer_days (
    asset_id     text NOT NULL,
    day          date NOT NULL,
    device_class text NOT NULL,
    viewer_key   text NOT NULL,
    PRIMARY KEY (asset_id, day, device_class, viewer_key)
);

-- Time on page per page view (from the JS beacon), for the median per view.
CREATE TABLE view_dwell (
    view_id      uuid PRIMARY KEY,
    asset_id     text NOT NULL,
    day          date NOT NULL,
    device_class text NOT NULL,
    engaged_ms   bigint NOT NULL DEFAULT 0,
    wall_ms      bigint NOT NULL DEFAULT 0
);
CREATE INDEX view_dwell_asset_day ON view_dwell (asset_id, day);

CREATE TABLE asset_totals (
    asset_id       text PRIMARY KEY,
    views          bigint NOT NULL DEFAULT 0,
    unique_viewers bigint NOT NULL DEFAULT 0,
    downloads      bigint NOT NULL DEFAULT 0,
    engaged_ms     bigint NOT NULL DEFAULT 0,
    wall_ms        bigint NOT NULL DEFAULT 0,
    last_event_at  timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE asset_viewers (
    asset_id   text NOT NULL,
    viewer_key text NOT NULL,
    PRIMARY KEY (asset_id, viewer_key)
);

-- COUNTER double-click rule: when each (asset, viewer, type) last counted.
CREATE TABLE hit_guard (
    asset_id        text NOT NULL,
    viewer_key      text NOT NULL,
    type            text NOT NULL,
    last_counted_at timestamptz NOT NULL,
    PRIMARY KEY (asset_id, viewer_key, type)
);

-- Plausible-style daily salts for anonymous unique viewers; deleted after two days so
-- yesterday's hashes can never be recomputed.
CREATE TABLE daily_salts (
    day  date PRIMARY KEY,
    salt bytea NOT NULL
);
