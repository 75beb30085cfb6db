-- Owner: ratings (assets). Deleting an asset marks it deleted instead of removing its row
-- (docs/security.md, "Ownership").
--
-- In the same transaction the ratings app withdraws every rating of the asset through the
-- rating outbox, so the aggregator takes them out of rating_daily, the catalog prior and
-- the score state the way any withdrawal does: ratings never writes the aggregator's
-- tables. The row stays so that those withdrawals still name a known asset when the
-- aggregator applies them, and so the id is never reused: a new asset under an old id
-- would inherit the old one's usage and alerts.
--
-- Every read of the catalog leaves deleted assets out: the ratings API and pages (404),
-- the board, ingest (no redirect, hits refused as unknown_asset) and the notifier (no
-- alerts). The aggregator keeps reading them as known, for the withdrawals.
ALTER TABLE assets ADD COLUMN deleted_at timestamptz;

COMMENT ON COLUMN assets.deleted_at IS
    'set when the asset was deleted (its ratings withdrawn); every catalog read filters it';
