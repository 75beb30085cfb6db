"""Settings read from the environment once, then passed down explicitly."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .topics import Topics

__all__ = [
    "DEV_SECRET",
    "IngestUrlSettings",
    "MetricsServerSettings",
    "RatingsUrlSettings",
    "ScoringSettings",
    "ServiceSettings",
    "Settings",
    "SigningSettings",
    "SmtpSettings",
]

#: The only secret allowed outside production; refused when GLASSBOARD_ENV=production.
DEV_SECRET = "dev-insecure-signing-secret-change-me"


class ServiceSettings(BaseSettings):
    """What every service reads: where Kafka and PostgreSQL are, and how it logs. Each
    service's own class adds its fields on top (``services/<svc>/settings.py``)."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", frozen=True, populate_by_name=True
    )

    env: str = Field("development", alias="GLASSBOARD_ENV")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/glassboard", alias="DATABASE_URL"
    )
    #: Namespaces every topic and consumer group, so stacks can share a cluster.
    topic_prefix: str = Field("", alias="KAFKA_TOPIC_PREFIX")
    #: A consumer-group member silent this long is dropped from its group. Joining a group
    #: waits about half of it on tansu, so tests and `glassboard dev` shorten it.
    kafka_session_timeout_ms: int = Field(
        10_000, ge=1_000, le=300_000, alias="KAFKA_SESSION_TIMEOUT_MS")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    #: "json": one object per line (production, log shippers); "text": for a terminal.
    log_format: str = Field("json", pattern="^(json|text)$", alias="LOG_FORMAT")

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def production(self) -> bool:
        return self.env == "production"


class SigningSettings(ServiceSettings):
    """The key of sessions, magic links and rating links (ingest checks what ratings signs)."""

    signing_secret: SecretStr = Field(SecretStr(DEV_SECRET), alias="GLASSBOARD_SIGNING_SECRET")

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> SigningSettings:
        if self.production and self.signing_secret.get_secret_value() == DEV_SECRET:
            raise ValueError("GLASSBOARD_SIGNING_SECRET must be set in production")
        return self


class IngestUrlSettings(ServiceSettings):
    """Where ingest listens and how the public reaches it (embed snippets, links)."""

    ingest_host: str = Field("127.0.0.1", alias="INGEST_HOST")
    ingest_port: int = Field(8000, alias="INGEST_PORT")
    #: Public base URL of ingest, used in embed snippets.
    public_ingest_url: str = Field("", alias="PUBLIC_INGEST_URL")

    @property
    def ingest_base_url(self) -> str:
        return self.public_ingest_url or f"http://{self.ingest_host}:{self.ingest_port}"


class RatingsUrlSettings(ServiceSettings):
    """Where the ratings app listens and how people reach it (links in emails)."""

    ratings_host: str = Field("127.0.0.1", alias="RATINGS_HOST")
    ratings_port: int = Field(8001, alias="RATINGS_PORT")
    #: Public base URL of the ratings app, used in emailed links.
    public_ratings_url: str = Field("", alias="PUBLIC_RATINGS_URL")

    @property
    def ratings_base_url(self) -> str:
        return self.public_ratings_url or f"http://{self.ratings_host}:{self.ratings_port}"


class MetricsServerSettings(ServiceSettings):
    """/metrics, /healthz and /readyz of the consumers, which have no HTTP port of their own
    (0: not served)."""

    metrics_host: str = Field("127.0.0.1", alias="METRICS_HOST")
    metrics_port: int = Field(0, ge=0, le=65535, alias="METRICS_PORT")


class ScoringSettings(ServiceSettings):
    """Read by the aggregator, which scores, and the ratings app, which shows the score API."""

    #: Weight of the catalog-wide mean in each asset's Bayesian average (in votes).
    rating_prior_weight: float = Field(5.0, ge=0, alias="RATING_PRIOR_WEIGHT")


class SmtpSettings(ServiceSettings):
    """The SMTP server of alert emails (notifier) and sign-in links (ratings)."""

    #: Empty: development prints the mails instead.
    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(587, ge=1, le=65535, alias="SMTP_PORT")
    smtp_username: str = Field("", alias="SMTP_USERNAME")
    smtp_password: SecretStr = Field(SecretStr(""), alias="SMTP_PASSWORD")
    smtp_from: str = Field("Glassboard <glassboard@localhost>", alias="SMTP_FROM")
    #: None: STARTTLS when the server offers it; true: required; false: never.
    smtp_starttls: bool | None = Field(None, alias="SMTP_STARTTLS")
    #: Implicit TLS from the first byte (usually port 465); excludes SMTP_STARTTLS.
    smtp_tls: bool = Field(False, alias="SMTP_TLS")
    smtp_timeout_seconds: float = Field(15.0, gt=0, le=300, alias="SMTP_TIMEOUT_SECONDS")


class Settings(BaseSettings):
    """One settings object for every service; each reads the fields it needs."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", frozen=True, populate_by_name=True
    )

    env: str = Field("development", alias="GLASSBOARD_ENV")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/glassboard", alias="DATABASE_URL"
    )
    ingest_host: str = Field("127.0.0.1", alias="INGEST_HOST")
    ingest_port: int = Field(8000, alias="INGEST_PORT")
    ratings_host: str = Field("127.0.0.1", alias="RATINGS_HOST")
    ratings_port: int = Field(8001, alias="RATINGS_PORT")
    #: Public base URL of ingest, used in embed snippets.
    public_ingest_url: str = Field("", alias="PUBLIC_INGEST_URL")
    #: Public base URL of the ratings app, used in emailed links.
    public_ratings_url: str = Field("", alias="PUBLIC_RATINGS_URL")
    #: Weight of the catalog-wide mean in each asset's Bayesian average (in votes).
    rating_prior_weight: float = Field(5.0, ge=0, alias="RATING_PRIOR_WEIGHT")
    signing_secret: SecretStr = Field(SecretStr(DEV_SECRET), alias="GLASSBOARD_SIGNING_SECRET")
    #: How often ingest refreshes its cached copy of the asset catalog.
    catalog_refresh_seconds: float = Field(2.0, alias="CATALOG_REFRESH_SECONDS")
    #: Upper bound on one POST /v1/events body; larger answers 413.
    max_body_bytes: int = Field(1_048_576, alias="INGEST_MAX_BODY_BYTES")
    #: Aggregator batch size: bigger batches amortise one transaction over more events.
    aggregator_max_records: int = Field(5000, alias="AGGREGATOR_MAX_RECORDS")
    #: Seconds between keep-alive comments on an idle score stream (SSE).
    sse_heartbeat_seconds: float = Field(15.0, gt=0, alias="SSE_HEARTBEAT_SECONDS")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    #: "json": one object per line (production, log shippers); "text": for a terminal.
    log_format: str = Field("json", pattern="^(json|text)$", alias="LOG_FORMAT")
    #: /metrics, /healthz and /readyz of the aggregator and the notifier (0: not served).
    #: ingest and ratings serve them on their own port.
    metrics_host: str = Field("127.0.0.1", alias="METRICS_HOST")
    metrics_port: int = Field(0, ge=0, le=65535, alias="METRICS_PORT")
    #: Namespaces every topic and consumer group, so stacks can share a cluster.
    topic_prefix: str = Field("", alias="KAFKA_TOPIC_PREFIX")

    # --- Alerts (issue 5): email, webhooks, rule defaults, delivery. docs/alerts.md -----
    #: SMTP server for alert emails and sign-in links; empty: development prints them.
    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(587, ge=1, le=65535, alias="SMTP_PORT")
    smtp_username: str = Field("", alias="SMTP_USERNAME")
    smtp_password: SecretStr = Field(SecretStr(""), alias="SMTP_PASSWORD")
    smtp_from: str = Field("Glassboard <glassboard@localhost>", alias="SMTP_FROM")
    #: None: STARTTLS when the server offers it; true: required; false: never.
    smtp_starttls: bool | None = Field(None, alias="SMTP_STARTTLS")
    #: Implicit TLS from the first byte (usually port 465); excludes SMTP_STARTTLS.
    smtp_tls: bool = Field(False, alias="SMTP_TLS")
    smtp_timeout_seconds: float = Field(15.0, gt=0, le=300, alias="SMTP_TIMEOUT_SECONDS")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=60, alias="WEBHOOK_TIMEOUT_SECONDS")
    #: Signs every webhook body (X-Glassboard-Signature); required in production.
    webhook_signing_secret: SecretStr = Field(SecretStr(""), alias="WEBHOOK_SIGNING_SECRET")
    #: The score window the rating and score rules read ("7d", "30d", "90d", "120d").
    alert_window: str = Field("30d", alias="ALERT_WINDOW")
    alert_rating_threshold: float = Field(3.0, ge=1, le=5, alias="ALERT_RATING_THRESHOLD")
    alert_rating_rearm_margin: float = Field(0.25, ge=0, le=2, alias="ALERT_RATING_REARM_MARGIN")
    alert_rating_min_ratings: int = Field(5, ge=1, alias="ALERT_RATING_MIN_RATINGS")
    alert_score_drop_points: int = Field(10, ge=1, le=100, alias="ALERT_SCORE_DROP_POINTS")
    alert_score_rearm_points: int = Field(5, ge=0, le=100, alias="ALERT_SCORE_REARM_POINTS")
    alert_score_min_ratings: int = Field(5, ge=1, alias="ALERT_SCORE_MIN_RATINGS")
    alert_score_min_views: int = Field(50, ge=1, alias="ALERT_SCORE_MIN_VIEWS")
    alert_comment_max_stars: int = Field(2, ge=1, le=4, alias="ALERT_COMMENT_MAX_STARS")
    #: Older rating events (a replayed history, a long outage) never page anyone.
    alert_comment_max_age_hours: float = Field(12.0, gt=0, alias="ALERT_COMMENT_MAX_AGE_HOURS")
    alert_comment_cooldown_minutes: float = Field(
        60.0, ge=1, alias="ALERT_COMMENT_COOLDOWN_MINUTES")
    alert_collapse_percent: float = Field(50.0, gt=0, lt=100, alias="ALERT_COLLAPSE_PERCENT")
    alert_collapse_rearm_percent: float = Field(
        15.0, ge=0, le=100, alias="ALERT_COLLAPSE_REARM_PERCENT")
    alert_collapse_min_weekly_views: int = Field(
        20, ge=1, alias="ALERT_COLLAPSE_MIN_WEEKLY_VIEWS")
    alert_cooldown_hours: float = Field(24.0, ge=0, alias="ALERT_COOLDOWN_HOURS")
    #: A level rule fires only once its condition has held this long (0: at once).
    alert_confirm_minutes: float = Field(10.0, ge=0, alias="ALERT_CONFIRM_MINUTES")
    alert_max_attempts: int = Field(8, ge=1, le=50, alias="ALERT_MAX_ATTEMPTS")
    alert_retry_base_seconds: float = Field(5.0, gt=0, alias="ALERT_RETRY_BASE_SECONDS")
    alert_retry_max_seconds: float = Field(3600.0, gt=0, alias="ALERT_RETRY_MAX_SECONDS")
    #: UTC hour at which daily digests go out.
    alert_digest_hour: int = Field(8, ge=0, le=23, alias="ALERT_DIGEST_HOUR")

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.env == "production" and self.signing_secret.get_secret_value() == DEV_SECRET:
            raise ValueError("GLASSBOARD_SIGNING_SECRET must be set in production")
        return self

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def ingest_base_url(self) -> str:
        return self.public_ingest_url or f"http://{self.ingest_host}:{self.ingest_port}"

    @property
    def ratings_base_url(self) -> str:
        return self.public_ratings_url or f"http://{self.ratings_host}:{self.ratings_port}"

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production"
