"""Settings read from the environment once, then passed down explicitly."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .topics import Topics

__all__ = [
    "DEV_SECRET",
    "IngestUrlSettings",
    "MetricsServerSettings",
    "RatingsUrlSettings",
    "ScoringSettings",
    "ServiceSettings",
    "SettingsError",
    "load_settings",
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


class SettingsError(SystemExit):
    """Settings that cannot work: ``glassboard <service>`` prints this one message and exits
    with status 1, no traceback."""


S = TypeVar("S", bound=ServiceSettings)


def load_settings(cls: type[S], service: str, **values: Any) -> S:
    """``cls`` from the environment (and ``values``), every problem named in one message."""
    try:
        return cls(**values)
    except ValidationError as exc:
        problems = "; ".join(_describe(cls, error) for error in exc.errors())
        raise SettingsError(f"the {service} cannot start: {problems}") from None


def _describe(cls: type[ServiceSettings], error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    field = error["loc"][0] if error["loc"] else ""
    alias = getattr(cls.model_fields.get(str(field)), "alias", None)
    return f"{alias or str(field).upper()}: {message}" if field else message
