-- Share links (docs/share-links.md): a rep sends an asset to a named recipient through a
-- link of its own, /s/{id} on ingest, and sees who opened, read and forwarded it.
--
-- Owner: ratings. The link and who it was sent to. The recipient's identity lives only
-- here: erasing a recipient clears these columns, and the visits (below) keep no name, no
-- address and no IP, so they are anonymised with it and their counts stay.
CREATE TABLE share_links (
    -- 22 url-safe random characters (128 bits): unguessable, the whole of the link.
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
    asset_id        text NOT NULL REFERENCES assets (id),
    creator_id      bigint NOT NULL REFERENCES users (id),
    recipient_email text CHECK (length(recipient_email) <= 254),
    recipient_name  text CHECK (length(recipient_name) <= 200),
    company         text CHECK (length(company) <= 200),
    crm_contact_id  text CHECK (length(crm_contact_id) <= 200),
    -- Ask the visitor for an email before showing the content (never verified).
    email_gate      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    -- Set when the recipient was erased on request: the columns above are cleared.
    erased_at       timestamptz
);
CREATE INDEX share_links_by_creator ON share_links (creator_id, created_at DESC);
CREATE INDEX share_links_by_asset ON share_links (asset_id);
COMMENT ON TABLE share_links IS 'owner: ratings; read by: ingest, aggregator, notifier';

-- Owner: ratings. Who manages whom: a manager sees their reps' recipients and visits.
ALTER TABLE users ADD COLUMN manager_id bigint REFERENCES users (id);
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('sales', 'marketing', 'executive', 'manager', 'admin'));

-- Owner: aggregator. One row per counted open of a share link (an open is a view event
-- with source 'share' and a link_id), applied exactly once by event_id like every event.
-- browser_key: a random first-party id ingest keeps in a cookie on /s/, hashed; the
-- recipient is the browser of the link's first counted open, every other browser (or a
-- different email at the gate) is a forward. No name, address or IP is kept here.
CREATE TABLE link_visits (
    event_id     uuid PRIMARY KEY,
    link_id      text NOT NULL,
    asset_id     text NOT NULL,
    opened_at    timestamptz NOT NULL,
    browser_key  text NOT NULL,
    device_class text NOT NULL,
    os           text,
    browser      text,
    forwarded    boolean NOT NULL,
    -- Which forwarded browser this is (1, 2, ...), null for the recipient.
    forward_no   integer,
    -- Gate email, hashed with the link id, when the link asked for one.
    gate_email_hash text,
    -- Summed from the page script's dwell slices that carry this visit's event_id.
    engaged_ms   bigint NOT NULL DEFAULT 0,
    pages        integer[] NOT NULL DEFAULT '{}'
);
CREATE INDEX link_visits_by_link ON link_visits (link_id, opened_at DESC);
CREATE INDEX link_visits_by_asset ON link_visits (asset_id, opened_at);
COMMENT ON TABLE link_visits IS 'owner: aggregator; read by: ratings';

-- Owner: notifier. Which hot-engagement rule already fired for which link: each fires at
-- most once per link and rule.
CREATE TABLE link_alert_state (
    link_id  text NOT NULL,
    rule     text NOT NULL,
    fired_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (link_id, rule)
);
COMMENT ON TABLE link_alert_state IS 'owner: notifier';

-- Owner: ratings. Each rep's hot-engagement alert settings (defaults when absent).
CREATE TABLE share_alert_preferences (
    user_id          bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    first_open       boolean NOT NULL DEFAULT true,
    reopen_after_days integer NOT NULL DEFAULT 7 CHECK (reopen_after_days BETWEEN 0 AND 365),
    forward          boolean NOT NULL DEFAULT true,
    -- A visit with at least this much engaged time is a long read (0: off).
    long_read_seconds integer NOT NULL DEFAULT 120 CHECK (long_read_seconds BETWEEN 0 AND 86400),
    -- No alert between these UTC hours (equal: none); held until the quiet hours end.
    quiet_from_hour  integer NOT NULL DEFAULT 0 CHECK (quiet_from_hour BETWEEN 0 AND 23),
    quiet_to_hour    integer NOT NULL DEFAULT 0 CHECK (quiet_to_hour BETWEEN 0 AND 23)
);
COMMENT ON TABLE share_alert_preferences IS 'owner: ratings; read by: notifier';
