-- Owner: ratings (alert_preferences). Each webhook receiver gets its own signing secret
-- (docs/security.md, "Webhooks").
--
-- The secret is derived, never stored: HMAC-SHA256 under WEBHOOK_SIGNING_SECRET of this
-- random key id (shared/webhooks.py, receiver_secret). The ratings app shows it to the
-- owner when they set a new URL or rotate it; the notifier derives it again to sign. A
-- copy of the database alone therefore signs nothing. A new URL gets a new key id.
--
-- Rows made before this migration get a key id too: their receivers must take the new
-- secret (POST /v1/me/alert-preferences/webhook-secret), as the signature now also covers
-- a timestamp.
ALTER TABLE alert_preferences ADD COLUMN webhook_key_id uuid NOT NULL DEFAULT gen_random_uuid();

COMMENT ON COLUMN alert_preferences.webhook_key_id IS
    'names the webhook receiver''s secret, derived from WEBHOOK_SIGNING_SECRET; new per URL';
