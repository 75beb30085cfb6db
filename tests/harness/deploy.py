"""What the deploy/ checks share: where the files are, the services, and how compose's
environment reads once interpolated and checked against the settings."""

from __future__ import annotations

import re
from typing import Any

from devtools.settings import StackSettings
from harness.paths import ROOT
from shared.alert_rules import RULE_VARIABLES

__all__ = [
    "DEPLOY",
    "EXTRA_ENV",
    "SERVICES",
    "compose_env",
    "compose_variables",
    "interpolate",
    "service_port",
    "setting_aliases",
]

DEPLOY = ROOT / "deploy"

#: The four services and the command that runs each.
SERVICES = ("ingest", "ratings", "aggregator", "notifier")
#: Settings read by code outside the settings classes: uvicorn's proxy list, and the
#: metrics server of the consumers (the /metrics, /healthz, /readyz contract).
EXTRA_ENV = {"FORWARDED_ALLOW_IPS", "METRICS_PORT", "METRICS_HOST"}


def interpolate(value: Any) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and ${VAR:?error}, with no
    variable set: what a fresh checkout without a .env file gets."""
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        operator, default = match.group(2), match.group(3) or ""
        if operator and "?" in operator:
            raise AssertionError(f"{match.group(0)} requires {match.group(1)} to be set")
        return default if operator else ""

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", replace, value)


def compose_variables(value: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)", value))


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(interpolate(value)) for key, value in env.items()}


def setting_aliases() -> set[str]:
    """Every variable some service's settings read (the ALERT_* rule defaults included)."""
    fields = {field.alias for field in StackSettings.model_fields.values() if field.alias}
    return fields | set(RULE_VARIABLES)


def service_port(env: dict[str, str], service: str) -> int:
    return int({"ingest": env["INGEST_PORT"], "ratings": env["RATINGS_PORT"]}.get(
        service, env["METRICS_PORT"]))
