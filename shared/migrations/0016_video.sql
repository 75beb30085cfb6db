-- Owner: ratings. An asset's file may be a video (MP4) as well as a PDF: a PDF has pages,
-- a video a length (docs/viewer.md).
ALTER TABLE asset_files DROP CONSTRAINT asset_files_content_type_check;
ALTER TABLE asset_files ADD CONSTRAINT asset_files_content_type_check
    CHECK (content_type IN ('application/pdf', 'video/mp4'));
ALTER TABLE asset_files ALTER COLUMN pages DROP NOT NULL;
ALTER TABLE asset_files ADD COLUMN duration_ms integer CHECK (duration_ms > 0);
ALTER TABLE asset_files ADD CONSTRAINT asset_files_kind_check CHECK (
    (content_type = 'application/pdf' AND pages IS NOT NULL AND duration_ms IS NULL)
    OR (content_type = 'video/mp4' AND pages IS NULL AND duration_ms IS NOT NULL));

-- Owner: aggregator. One row per play of a video (the play event's id), folded from the
-- play event and its watch slices exactly once (the events table de-duplicates them).
-- watched is the play's coverage, one bit per 1% of the video, merged by OR.
CREATE TABLE video_plays (
    play_id      uuid PRIMARY KEY,
    asset_id     text NOT NULL,
    view_id      uuid,
    day          date NOT NULL,
    device_class text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer NOT NULL DEFAULT 0,
    watched_ms   bigint NOT NULL DEFAULT 0,
    watched      bit(100) NOT NULL DEFAULT repeat('0', 100)::bit(100)
);
CREATE INDEX video_plays_asset_day ON video_plays (asset_id, day);
COMMENT ON TABLE video_plays IS 'owner: aggregator; read by: ratings';
