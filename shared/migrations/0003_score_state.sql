-- The latest published content-score state per asset (issue 4), kept by the aggregator.
-- Revisions come from one sequence, taken under a transaction-level advisory lock, so they
-- are handed out in commit order: "revision > N" is a complete change feed, which the
-- score streams use to resume.

CREATE SEQUENCE score_revisions;

CREATE TABLE asset_score_state (
    asset_id    text PRIMARY KEY,
    revision    bigint NOT NULL,
    message     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_score_state_revision ON asset_score_state (revision);
