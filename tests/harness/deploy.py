"""What the deploy/ checks share: where the files are, the services, and how compose's
environment reads once interpolated and checked against the settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from devtools.settings import StackSettings
from harness.paths import ROOT
from services.notifier.config import NotifierConfig, NotifierConfigError
from services.notifier.settings import NotifierSettings
from shared.alert_rules import RULE_VARIABLES

__all__ = [
    "DEPLOY",
    "EXTRA_ENV",
    "OPERATOR_ENV",
    "REQUIRED_SECRETS",
    "SERVICES",
    "assert_secrets_refused",
    "compose_env",
    "compose_variables",
    "interpolate",
    "scrape_port",
    "service_port",
    "setting_aliases",
]

DEPLOY = ROOT / "deploy"

#: The four services and the command that runs each.
SERVICES = ("ingest", "ratings", "aggregator", "notifier")
#: Settings read by code outside the settings classes: uvicorn's proxy list, and the
#: metrics server of the consumers (the /metrics, /healthz, /readyz contract).
EXTRA_ENV = {"FORWARDED_ALLOW_IPS", "METRICS_PORT", "METRICS_HOST"}
#: The variables compose refuses to start without (${VAR:?}): the secrets.
REQUIRED_SECRETS = ("GLASSBOARD_SIGNING_SECRET", "WEBHOOK_SIGNING_SECRET", "POSTGRES_PASSWORD",
                    "GRAFANA_ADMIN_PASSWORD")
#: What an operator's deploy/.env sets: every required secret, generated (64 hex digits,
#: as `openssl rand -hex 32` prints), so production accepts them.
OPERATOR_ENV = {
    "GLASSBOARD_SIGNING_SECRET": "5d0c6f1e9a2b4c8d7e3f60a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6",
    "WEBHOOK_SIGNING_SECRET": "b7e1d2c3a4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "POSTGRES_PASSWORD": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "GRAFANA_ADMIN_PASSWORD": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}


def interpolate(value: Any, variables: Mapping[str, str] | None = None) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and ${VAR:?error}, with
    ``variables`` set (none by default: what a fresh checkout without a .env file gets)."""
    if not isinstance(value, str):
        return value
    given = variables or {}

    def replace(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if given.get(name) or (name in given and operator in ("-", "?")):
            return given[name]
        if operator and "?" in operator:
            raise AssertionError(f"{match.group(0)} requires {name} to be set")
        return default if operator else ""

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", replace, value)


def assert_secrets_refused(env: dict[str, str]) -> None:
    """Services given ``env`` (shipped placeholders) stop: the signing secret refused by the
    settings, the webhook secret by the notifier's configuration, both by name."""
    with pytest.raises(ValidationError, match="GLASSBOARD_SIGNING_SECRET is a placeholder"):
        StackSettings.model_validate(env)
    notifier = NotifierSettings.model_validate({"SMTP_HOST": "smtp.example.com", **env})
    with pytest.raises(NotifierConfigError, match="WEBHOOK_SIGNING_SECRET is a placeholder"):
        NotifierConfig.from_settings(notifier)


def compose_variables(value: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)", value))


def compose_env(service: dict[str, Any],
                variables: Mapping[str, str] = OPERATOR_ENV) -> dict[str, str]:
    """A service's environment as compose gives it, once an operator set the secrets."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(interpolate(value, variables)) for key, value in env.items()}


def setting_aliases() -> set[str]:
    """Every variable some service's settings read (the ALERT_* rule defaults included)."""
    fields = {field.alias for field in StackSettings.model_fields.values() if field.alias}
    return fields | set(RULE_VARIABLES)


def service_port(env: dict[str, str], service: str) -> int:
    return int({"ingest": env["INGEST_PORT"], "ratings": env["RATINGS_PORT"]}.get(
        service, env["METRICS_PORT"]))


def scrape_port(env: dict[str, str], service: str) -> int:
    """Where the service answers /metrics: its ops port (METRICS_PORT), unless it is an
    HTTP service whose OPS_ACCESS keeps /metrics on its public port."""
    if service in {"ingest", "ratings"} and StackSettings.model_validate(env).ops_mode != "private":
        return service_port(env, service)
    return int(env["METRICS_PORT"])
