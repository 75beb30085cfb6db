-- Owner: aggregator. Indexes for the retention job (services/aggregator/retention.py) and the
-- per-asset filtered summary (GET /v1/rejected-events/summary?asset=, the asset page).
--
-- The job deletes rows by received_at in batches of a few thousand. A B-tree on it stays
-- exact however the heap is laid out (a BRIN index would blur once autovacuum lets new rows
-- fill the space of deleted ones), and costs little on insert: received_at only grows, so
-- every insert lands on the index's rightmost, cached page.
CREATE INDEX events_received_at ON events (received_at);
CREATE INDEX rejected_events_received_at ON rejected_events (received_at);

-- The asset page reads one asset's refused hits per reason over its window.
CREATE INDEX rejected_events_asset_time ON rejected_events (asset_id, received_at);
