"""GLASSBOARD_ENV and the production secrets: each service, run as a real process
(``python -m services.cli <service>``), refuses a mode it does not know and a weak
secret with one line on stderr and status 1, before it reaches a broker or a database;
and the rules behind that line (pure)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.modes import STRONG_SECRET
from services.notifier.config import DEV_WEBHOOK_SECRET
from shared.settings import (
    DEV_SECRET,
    ENVIRONMENTS,
    MIN_SECRET_BYTES,
    OpsAccessSettings,
    secret_problem,
)

#: Variables of the developer's shell that would change what a service reads.
_OURS = ("GLASSBOARD_", "WEBHOOK_", "OPS_", "SMTP_", "KAFKA_", "DATABASE_URL")
#: Valid SMTP for the notifier in production, so only its webhook secret is in question.
_SMTP = {"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "Glassboard <alerts@example.com>"}
_PLACEHOLDERS = {
    "CHANGE-ME": "CHANGE-ME-signing-secret",
    "empty": "",
    "6 bytes": "s3cr3t",
    "development value": DEV_SECRET,
    "31 bytes": "k" * (MIN_SECRET_BYTES - 1),
    "change_me inside a long value": "f1e2d3c4b5a69788-change_me-f1e2d3c4b5a69788",
}


def _start(service: str, **env: str) -> tuple[int, list[str], str]:
    """Run ``glassboard <service>``: its exit status, its stderr lines, its stdout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    done = subprocess.run([sys.executable, "-m", "services.cli", service],
                          env={**base, **env}, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stderr.strip().splitlines(), done.stdout


@pytest.mark.parametrize(("service", "mode"), [
    *((service, "prod") for service in ("ingest", "ratings", "aggregator", "notifier",
                                        "migrate")),
    ("ratings", "Production"), ("ratings", "staging"), ("ratings", ""),
])
def test_an_unknown_mode_stops_every_service_with_one_line(service: str, mode: str) -> None:
    code, lines, out = _start(service, GLASSBOARD_ENV=mode,
                              GLASSBOARD_SIGNING_SECRET=DEV_SECRET)
    assert (code, out) == (1, ""), lines
    (line,) = lines
    assert "cannot start: GLASSBOARD_ENV: must be development or production" in line
    assert repr(mode) in line


@pytest.mark.parametrize("service", ["ingest", "ratings"])
@pytest.mark.parametrize("secret", list(_PLACEHOLDERS.values()), ids=list(_PLACEHOLDERS))
def test_production_refuses_a_weak_signing_secret_with_one_line(service: str,
                                                                 secret: str) -> None:
    code, lines, out = _start(service, GLASSBOARD_ENV="production",
                              GLASSBOARD_SIGNING_SECRET=secret)
    assert (code, out) == (1, ""), lines
    (line,) = lines
    assert "cannot start: GLASSBOARD_SIGNING_SECRET " in line
    assert "openssl rand -hex 32" in line
    assert not secret or secret not in line, "the secret is never repeated"


@pytest.mark.parametrize("secret", ["CHANGE-ME-webhook-secret", "", "s3cr3t",
                                    DEV_WEBHOOK_SECRET], ids=["CHANGE-ME", "empty", "6 bytes",
                                                              "development value"])
def test_production_refuses_a_weak_webhook_secret_with_one_line(secret: str) -> None:
    code, lines, out = _start("notifier", GLASSBOARD_ENV="production",
                              WEBHOOK_SIGNING_SECRET=secret, **_SMTP)
    assert (code, out) == (1, ""), lines
    (line,) = lines
    assert "the notifier cannot start: WEBHOOK_SIGNING_SECRET " in line
    assert not secret or secret not in line


def test_a_production_ops_token_must_be_strong_too() -> None:
    code, lines, _ = _start("ratings", GLASSBOARD_ENV="production",
                            GLASSBOARD_SIGNING_SECRET=STRONG_SECRET, OPS_ACCESS="token",
                            OPS_TOKEN="metrics")
    assert code == 1
    (line,) = lines
    assert "OPS_TOKEN (OPS_ACCESS=token) is shorter than 32 bytes" in line


def test_the_rules_count_bytes_and_find_placeholders_in_any_spelling() -> None:
    assert ENVIRONMENTS == ("development", "production")
    assert secret_problem("x" * MIN_SECRET_BYTES) is None
    assert secret_problem(STRONG_SECRET) is None
    assert secret_problem("é" * 16) is None  # 16 characters, 32 bytes
    assert "shorter than 32 bytes" in (secret_problem("é" * 15 + "x") or "")
    for spelling in ("CHANGE-ME", "change_me", "ChangeMe", "change me", "REPLACE-ME"):
        assert "placeholder" in (secret_problem(f"{STRONG_SECRET}{spelling}") or ""), spelling
    assert "placeholder" in (secret_problem(DEV_SECRET) or "")
    assert "placeholder" in (secret_problem(DEV_WEBHOOK_SECRET) or "")
    assert "must be set" in (secret_problem("") or "")


def test_ops_access_defaults_by_mode() -> None:
    assert OpsAccessSettings(env="development").ops_mode == "public"
    assert OpsAccessSettings(env="production").ops_mode == "private"
    assert OpsAccessSettings(env="production", ops_access="public").ops_mode == "public"
    assert OpsAccessSettings(ops_access="token", ops_token="t").ops_mode == "token"
    with pytest.raises(ValueError, match="OPS_TOKEN .* must be set"):
        OpsAccessSettings(ops_access="token")
