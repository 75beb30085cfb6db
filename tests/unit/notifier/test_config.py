"""The notifier's configuration check: bad SMTP, webhook or alert settings stop it with a
clear message, and ``glassboard notifier`` says so without a traceback (no broker or
database is reached: it stops before)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.notifier.config import NotifierConfig, NotifierConfigError
from services.notifier.settings import NotifierSettings
from shared.settings import SettingsError, load_settings


# A value no setting accepts (ALERT_WINDOW) stops the settings themselves (SettingsError);
# settings that are each valid but cannot work together stop the notifier's configuration
# check (NotifierConfigError). Both are one message and exit status 1.
@pytest.mark.parametrize(("overrides", "message", "error"), [
    ({"smtp_host": "smtp.example.com", "smtp_tls": True, "smtp_starttls": True},
     "SMTP_TLS .* and SMTP_STARTTLS .* exclude each other", NotifierConfigError),
    ({"smtp_host": "smtp.example.com", "smtp_username": "mailer"},
     "SMTP_USERNAME is set but SMTP_PASSWORD is empty", NotifierConfigError),
    ({"smtp_host": "smtp://smtp.example.com"}, "SMTP_HOST must be a host name",
     NotifierConfigError),
    ({"smtp_host": "smtp.example.com", "smtp_from": "not-an-address"}, "SMTP_FROM must be",
     NotifierConfigError),
    ({"env": "production", "webhook_signing_secret": "y"},
     "SMTP_HOST is not set", NotifierConfigError),
    ({"env": "production", "smtp_host": "smtp.example.com",
      "smtp_from": "a@example.com"}, "WEBHOOK_SIGNING_SECRET must be set in production",
     NotifierConfigError),
    ({"alert_window": "14d"}, "ALERT_WINDOW must be one of 7d, 30d, 90d, 120d", SettingsError),
])
def test_bad_configuration_stops_the_notifier_with_a_clear_message(
    overrides: dict[str, object], message: str, error: type[SystemExit],
) -> None:
    with pytest.raises(error, match=message):
        NotifierConfig.from_settings(load_settings(NotifierSettings, "notifier", **overrides))


def test_glassboard_notifier_refuses_to_start_on_bad_smtp_settings_without_a_traceback() -> None:
    env = {**os.environ, "SMTP_HOST": "smtp.example.com", "SMTP_USERNAME": "mailer",
           "SMTP_PASSWORD": "hunter2-secret", "SMTP_TLS": "true", "SMTP_STARTTLS": "true"}
    done = subprocess.run([sys.executable, "-m", "services.cli", "notifier"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "the notifier cannot start: SMTP configuration is not usable" in done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr + done.stdout
