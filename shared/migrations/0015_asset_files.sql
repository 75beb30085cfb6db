-- Owner: ratings. The files of assets (docs/viewer.md): marketing uploads a PDF to an
-- asset, and later new versions; the asset's links stay the same and show the latest.
-- The bytes live in the file store (a local folder, or S3-compatible storage in
-- production: shared/files.py) under storage_key; this table says what each version is.
CREATE TABLE asset_files (
    asset_id     text NOT NULL REFERENCES assets (id),
    version      integer NOT NULL CHECK (version >= 1),
    storage_key  text NOT NULL CHECK (length(storage_key) <= 300),
    content_type text NOT NULL CHECK (content_type = 'application/pdf'),
    bytes        bigint NOT NULL CHECK (bytes > 0),
    pages        integer NOT NULL CHECK (pages >= 1),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    filename     text CHECK (length(filename) <= 255),
    uploaded_by  bigint REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, version)
);
COMMENT ON TABLE asset_files IS 'owner: ratings; read by: ingest';
