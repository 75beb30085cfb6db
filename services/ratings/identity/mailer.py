"""How sign-in links reach people: SMTP when SMTP_HOST is set, the console in development,
and nothing in production without SMTP (sign-in then answers 503).

Sends run in the background (``sign_in_requests.LinkSender``): nobody waits for them, so a
failed send is logged, never raised. The person asks again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiosmtplib

from shared.settings import SmtpSettings
from shared.smtp import SmtpConfig, build_message, send_message, smtp_config

__all__ = ["ConsoleMailer", "Mailer", "SmtpMailer", "make_mailer"]

log = logging.getLogger("glassboard.mail")


@dataclass
class ConsoleMailer:
    """Prints each message; keeps the last ones so tests can follow the link."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))
        del self.sent[:-100]
        print(f"\n--- email to {to}: {subject}\n{body}\n---\n", flush=True)


@dataclass
class SmtpMailer:
    """Sends through the configured SMTP server (shared with the notifier's alerts)."""

    config: SmtpConfig
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        message = build_message(sender=self.config.sender, to=to, subject=subject, text=body)
        try:
            await send_message(self.config, message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("sign-in email not sent via %s: %s", self.config.describe(),
                        type(exc).__name__)
            return
        self.sent.append((to, subject, body))
        del self.sent[:-100]


Mailer = ConsoleMailer | SmtpMailer


def make_mailer(settings: SmtpSettings) -> Mailer | None:
    """SMTP when configured (a bad configuration raises SmtpConfigError at start-up);
    else the console outside production; else None."""
    config = smtp_config(settings)
    if config is not None:
        log.info("sign-in emails go through SMTP %s", config.describe())
        return SmtpMailer(config)
    # Printing sign-in links is for development only: they are secrets.
    return None if settings.env == "production" else ConsoleMailer()
