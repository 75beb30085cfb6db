-- Which service owns each table: the only one that writes it. Others only read it, each
-- through services/<reader>/reads/<owner>.py; docs/architecture.md lists them.
--
-- Stated here and not at each CREATE TABLE because the runner checksums applied files
-- (shared/migrate.py): editing 0001-0004 would stop every existing database. As table
-- comments the owner also shows in psql (\dt+) and pg_description. COMMENT ON replaces
-- the previous comment, so a later migration can restate any line of this one.
-- alert_reads (0005) states its owner in its own migration.

-- ratings
COMMENT ON TABLE assets IS 'owner: ratings; read by: aggregator, ingest, notifier';
COMMENT ON TABLE users IS 'owner: ratings; read by: notifier';
COMMENT ON TABLE api_tokens IS 'owner: ratings';
COMMENT ON TABLE magic_links_used IS 'owner: ratings';
COMMENT ON TABLE ratings IS 'owner: ratings; read by: notifier';
COMMENT ON TABLE rating_outbox IS 'owner: ratings';
COMMENT ON TABLE rating_commands_applied IS 'owner: ratings';
COMMENT ON TABLE recently_viewed IS 'owner: ratings';
COMMENT ON TABLE alert_preferences IS 'owner: ratings; read by: notifier';
COMMENT ON TABLE alert_rule_overrides IS 'owner: ratings; read by: notifier';

-- aggregator
COMMENT ON TABLE events IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE rejected_events IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE usage_daily IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE viewer_days IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE view_dwell IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE asset_totals IS 'owner: aggregator';
COMMENT ON TABLE asset_viewers IS 'owner: aggregator';
COMMENT ON TABLE hit_guard IS 'owner: aggregator';
COMMENT ON TABLE rating_daily IS 'owner: aggregator; read by: ratings';
COMMENT ON TABLE asset_score_state IS 'owner: aggregator; read by: ratings';
COMMENT ON SEQUENCE score_revisions IS 'owner: aggregator (revisions of asset_score_state)';

-- ingest
COMMENT ON TABLE daily_salts IS 'owner: ingest';

-- notifier
COMMENT ON TABLE notifier_offsets IS 'owner: notifier';
COMMENT ON TABLE alert_asset_state IS 'owner: notifier';
COMMENT ON TABLE alert_rule_state IS 'owner: notifier';
COMMENT ON TABLE alerts IS 'owner: notifier; read by: ratings';
COMMENT ON TABLE alert_deliveries IS 'owner: notifier; read by: ratings';
COMMENT ON TABLE alert_delivery_items IS 'owner: notifier; read by: ratings';
