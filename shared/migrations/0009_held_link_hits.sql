-- Owner: aggregator. Tracked-link hits held back until the burst rule has judged them
-- (services/aggregator/link_hold.py, shared/scanners.py): a mail scanner follows every link
-- of a message within seconds, so a link hit counts, or is kept as suspect, only once the
-- hits around it have arrived.
--
-- A row stays after its decision, until retention deletes it with the raw events: a
-- redelivered hit then finds its row and is neither held nor judged again.
CREATE TABLE held_link_hits (
    event_id    uuid PRIMARY KEY,
    -- The hit's viewer key (a named viewer, or the daily-salted hash of IP and User-Agent).
    client      text NOT NULL,
    asset_id    text NOT NULL,
    received_at timestamptz NOT NULL,
    held_at     timestamptz NOT NULL DEFAULT now(),
    envelope    jsonb NOT NULL,
    decision    text CHECK (decision IN ('counted', 'suspect')),
    decided_at  timestamptz
);
CREATE INDEX held_link_hits_due ON held_link_hits (held_at) WHERE decision IS NULL;
CREATE INDEX held_link_hits_client_time ON held_link_hits (client, received_at);
CREATE INDEX held_link_hits_received_at ON held_link_hits (received_at);
COMMENT ON TABLE held_link_hits IS 'owner: aggregator';
