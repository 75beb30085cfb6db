"""Settings read from the environment once, then passed down explicitly."""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .topics import Topics

__all__ = [
    "DEV_SECRET",
    "ENVIRONMENTS",
    "MIN_SECRET_BYTES",
    "Environment",
    "FileStoreSettings",
    "IngestUrlSettings",
    "MetricsServerSettings",
    "OpsAccess",
    "OpsAccessSettings",
    "PLACEHOLDER_MARKS",
    "RatingsUrlSettings",
    "ScoringSettings",
    "ServiceSettings",
    "SettingsError",
    "load_settings",
    "SigningSettings",
    "SmtpSettings",
    "secret_problem",
]

#: The signing secret of development; production refuses it (it holds a placeholder mark).
DEV_SECRET = "dev-insecure-signing-secret-change-me"

#: The two modes. Anything else stops every service: a typo must not fail open into
#: development (the development secret, cookies without Secure, sign-in links in the log,
#: no webhook address checks).
Environment = Literal["development", "production"]
ENVIRONMENTS: tuple[Environment, ...] = get_args(Environment)

#: The least a production secret may be, in bytes: HMAC-SHA256's own key size, so a
#: secret is never easier to guess than the signature is to forge. `openssl rand -hex 32`
#: gives 64 characters (256 random bits).
MIN_SECRET_BYTES = 32
#: Marks of a value copied from an example instead of generated, looked for in the secret
#: lower-cased with everything but letters and digits removed ("CHANGE-ME", "change_me",
#: "changeme"; and "dev-insecure", the start of both development values).
PLACEHOLDER_MARKS = ("changeme", "replaceme", "devinsecure")

_GENERATE = "generate one with `openssl rand -hex 32`"


def secret_problem(value: str) -> str | None:
    """Why ``value`` cannot be a production secret (None when it can): empty, a known
    placeholder, or shorter than MIN_SECRET_BYTES. The value itself is never quoted."""
    if not value:
        return f"must be set in production ({_GENERATE})"
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    if any(mark in folded for mark in PLACEHOLDER_MARKS):
        return f"is a placeholder (CHANGE-ME or a development value); {_GENERATE}"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes; {_GENERATE}"
    return None


class ServiceSettings(BaseSettings):
    """What every service reads: where Kafka and PostgreSQL are, and how it logs. Each
    service's own class adds its fields on top (``services/<svc>/settings.py``)."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", frozen=True, populate_by_name=True
    )

    env: Environment = Field("development", alias="GLASSBOARD_ENV")
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

    @field_validator("env", mode="before")
    @classmethod
    def _known_env(cls, value: Any) -> Any:
        if value not in ENVIRONMENTS:
            shown = value[:40] if isinstance(value, str) else value
            raise ValueError(f"must be development or production, not {shown!r}")
        return value

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def production(self) -> bool:
        return self.env == "production"


class SigningSettings(ServiceSettings):
    """The secret of sessions, magic links, rating links and rating commands (ingest checks
    what ratings signs, and the reverse); each takes its own sub-key (shared/signing.py)."""

    signing_secret: SecretStr = Field(SecretStr(DEV_SECRET), alias="GLASSBOARD_SIGNING_SECRET")

    @model_validator(mode="after")
    def _strong_secret_in_production(self) -> SigningSettings:
        if not self.production:
            return self
        unset = "signing_secret" not in self.model_fields_set
        problem = secret_problem("" if unset else self.signing_secret.get_secret_value())
        if problem:
            raise ValueError(f"GLASSBOARD_SIGNING_SECRET {problem}")
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


#: Who reaches /metrics and the API docs on an HTTP service's public port.
OpsAccess = Literal["public", "token", "private"]


class OpsAccessSettings(MetricsServerSettings):
    """/metrics and the API docs (/docs, /redoc, /openapi.json) of the HTTP services.

    ``public``: anyone on the public port (the development default). ``token``: only with
    ``Authorization: Bearer $OPS_TOKEN`` (401 without). ``private`` (the production
    default): 404 on the public port; served on METRICS_HOST:METRICS_PORT instead, a port
    that only Prometheus and operators reach (0: not served at all). /healthz and /readyz
    stay on the public port in every mode: probes and load balancers call them."""

    ops_access: OpsAccess | None = Field(None, alias="OPS_ACCESS")
    ops_token: SecretStr = Field(SecretStr(""), alias="OPS_TOKEN")

    @property
    def ops_mode(self) -> OpsAccess:
        return self.ops_access or ("private" if self.production else "public")

    @model_validator(mode="after")
    def _token_when_gated_by_one(self) -> OpsAccessSettings:
        if self.ops_mode != "token":
            return self
        token = self.ops_token.get_secret_value()
        problem = secret_problem(token) if self.production else (
            None if token else "must be set")
        if problem:
            raise ValueError(f"OPS_TOKEN (OPS_ACCESS=token) {problem}")
        return self


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


class FileStoreSettings(ServiceSettings):
    """Where uploaded files live (shared/files.py): ratings writes them, ingest serves them,
    so both read the same values."""

    #: ``local``: a folder (FILES_DIR); ``s3``: an S3-compatible bucket.
    files_storage: Literal["local", "s3"] = Field("local", alias="FILES_STORAGE")
    files_dir: str = Field(".glassboard/files", alias="FILES_DIR")
    files_s3_bucket: str = Field("", alias="FILES_S3_BUCKET")
    #: Empty: AWS itself; else MinIO, R2 or any S3-compatible endpoint. Credentials come
    #: from the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile or a role).
    files_s3_endpoint_url: str = Field("", alias="FILES_S3_ENDPOINT_URL")
    files_s3_region: str = Field("", alias="FILES_S3_REGION")
    #: Largest upload. Product sheets and case studies are 1-5 MiB, a 40-slide deck with
    #: photos 10-20 MiB; 25 MiB is what mail services accept as an attachment.
    files_max_bytes: int = Field(25 * 1024 * 1024, ge=1_024, le=1024 * 1024 * 1024,
                                 alias="FILES_MAX_BYTES")
    #: Largest video (MP4) upload: a three-minute product video at 1080p and 4.5 Mbit/s is
    #: 4.5e6 * 180 / 8 = 101 MB (97 MiB). The body is held in memory while it is checked.
    files_max_video_bytes: int = Field(100 * 1024 * 1024, ge=1_024, le=1024 * 1024 * 1024,
                                       alias="FILES_MAX_VIDEO_BYTES")

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> FileStoreSettings:
        if self.files_storage == "s3" and not self.files_s3_bucket:
            raise ValueError("FILES_S3_BUCKET must be set when FILES_STORAGE=s3")
        return self


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
