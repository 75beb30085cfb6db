"""The ratings app's settings: the shared base, the signing key of sessions and links, SMTP
for sign-in links, both public URLs, and the alert defaults it shows beside overrides."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.alert_rules import AlertRuleSettings
from shared.rate_limits import LimitNotation
from shared.settings import (
    FileStoreSettings,
    IngestUrlSettings,
    OpsAccessSettings,
    RatingsUrlSettings,
    ScoringSettings,
    SigningSettings,
    SmtpSettings,
)

__all__ = ["RatingsSettings"]


class RatingsSettings(AlertRuleSettings, ScoringSettings, SigningSettings, SmtpSettings,
                      RatingsUrlSettings, IngestUrlSettings, OpsAccessSettings,
                      FileStoreSettings):
    #: Each webhook receiver's secret derives from it (shared/webhooks.py): the same value
    #: as the notifier's, which signs with it. Production refuses to register webhooks
    #: without a strong one; development falls back to a built-in one.
    webhook_signing_secret: SecretStr = Field(SecretStr(""), alias="WEBHOOK_SIGNING_SECRET")
    #: Seconds between keep-alive comments on an idle score stream (SSE).
    sse_heartbeat_seconds: float = Field(15.0, gt=0, alias="SSE_HEARTBEAT_SECONDS")
    #: Largest request body; larger answers 413 before anything parses it. The largest real
    #: body is a bulk of 500 share links with names and companies (~130 KiB); an asset or a
    #: rating with a 2,000-character comment stays under 16 KiB even as \uXXXX escapes.
    #: 256 KiB leaves 2x room. (Ingest has its own: INGEST_MAX_BODY_BYTES; a file upload,
    #: POST /v1/assets/{id}/files, has FILES_MAX_BYTES instead.)
    ratings_max_body_bytes: int = Field(262_144, ge=1_024, le=16_777_216,
                                        alias="RATINGS_MAX_BODY_BYTES")
    #: Open score streams (SSE) per user; one more answers 429. A browser holds at most 6
    #: connections per host over HTTP/1.1, and a person has the board, the app and an asset
    #: page open at most: 3 tabs on a laptop and 3 on a phone make 6; 8 leaves room.
    streams_per_user: int = Field(8, ge=1, le=1_000, alias="STREAMS_PER_USER")
    #: How often an open score stream re-checks its session or token (revoked, expired,
    #: user deactivated) and closes when it ended. At most 5 minutes; one indexed query per
    #: stream each time: 1,000 open streams at 120 s are 8 queries a second.
    stream_session_recheck_seconds: float = Field(120.0, gt=0, le=300,
                                                  alias="STREAM_SESSION_RECHECK_SECONDS")
    # Sign-in (docs/security.md). Requests for a sign-in link, in the `limits` notation;
    # over a limit → 429 with Retry-After, and no mail.
    #: Per address from one client, whether or not it has an account: a person who
    #: mistypes or misses the mail asks 2 or 3 times; 5 in 10 minutes is room for that.
    #: Counted per client too, so one client asking for your address never locks you out.
    sign_in_rate_limit_address: LimitNotation = Field(
        "5/10minutes;20/day", alias="SIGN_IN_RATE_LIMIT_ADDRESS")
    #: Per address from all clients together: nobody's mailbox gets more than this many
    #: links a day from us, however many addresses ask.
    sign_in_rate_limit_address_total: LimitNotation = Field(
        "50/day", alias="SIGN_IN_RATE_LIMIT_ADDRESS_TOTAL")
    #: Per client (a keyed hash of the IP). An office of 500 behind one NAT where everyone
    #: signs in during the hour a rollout is announced: 500 / 6 = 84 per 10 minutes.
    sign_in_rate_limit_client: LimitNotation = Field(
        "100/10minutes;1000/day", alias="SIGN_IN_RATE_LIMIT_CLIENT")
    #: Where sign-in counters live. ``async+memory://``: each replica counts on its own (N
    #: replicas allow N× the limit); ``async+redis://host:6379/0`` shares them.
    sign_in_rate_limit_storage_uri: str = Field(
        "async+memory://", alias="SIGN_IN_RATE_LIMIT_STORAGE_URI")
    #: How long a session lasts from sign-in (a month: sales should not sign in every day).
    #: Logout, an admin, or deactivating the user ends it sooner, on the server.
    session_max_age_seconds: int = Field(30 * 24 * 3600, ge=300, le=400 * 24 * 3600,
                                         alias="SESSION_MAX_AGE_SECONDS")
    #: The furthest expiry an API token may be given (POST /v1/tokens ``expires_at``).
    api_token_max_days: int = Field(365, ge=1, le=3650, alias="API_TOKEN_MAX_DAYS")

    @property
    def secure_cookies(self) -> bool:
        return self.production
