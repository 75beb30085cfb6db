-- Owner: ratings. Which person read which alert, written only by the ratings app's inbox,
-- so that ratings no longer writes the notifier's `alerts` table (each table has one writer).

-- Alerts name their owner by `owner_email` (as `users.email`, lower case), and only the
-- owner may mark an alert read, so today an alert has at most one row here; the key still
-- says "this person read this alert". The first read time is kept: marking again changes
-- nothing.
CREATE TABLE alert_reads (
    alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at  timestamptz NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
COMMENT ON TABLE alert_reads IS 'owner: ratings';

-- The marks made so far. A read_at on an alert whose owner has no user row can only have
-- been written by hand: it has no one to belong to and is left behind.
INSERT INTO alert_reads (alert_id, user_id, read_at)
SELECT a.id, u.id, a.read_at
FROM alerts a JOIN users u ON u.email = lower(a.owner_email)
WHERE a.read_at IS NOT NULL;

-- alerts.read_at stays, unused from here on: the notifier owns the alerts table and its
-- migration 0004 created the column, so ratings neither drops it nor writes it any more.
