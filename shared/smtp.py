"""Sending email over SMTP with aiosmtplib: the notifier's alerts and the ratings app's
sign-in links share this.

The configuration is checked as a whole before a service starts (``smtp_config``), so a
bad one stops it with every problem named, never with a stack trace at the first send.
The password is a ``SecretStr`` and appears in no message or log.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr

from .settings import SmtpSettings

__all__ = [
    "DEFAULT_FROM",
    "SmtpConfig",
    "SmtpConfigError",
    "build_message",
    "is_permanent",
    "send_message",
    "smtp_config",
]

DEFAULT_FROM = "Glassboard <glassboard@localhost>"


class SmtpConfigError(ValueError):
    """The SMTP_* settings cannot work; the message names each problem."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: SecretStr
    sender: str
    starttls: bool | None
    tls: bool
    timeout: float

    @property
    def sender_address(self) -> str:
        return email.utils.parseaddr(self.sender)[1]

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "glassboard.invalid"

    def describe(self) -> str:
        """For logs: where mail goes, never the credentials."""
        security = "implicit TLS" if self.tls else {
            None: "STARTTLS if offered", True: "STARTTLS required", False: "no TLS"
        }[self.starttls]
        auth = f", as {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({security}{auth})"


def _valid_address(value: str) -> bool:
    _, address = email.utils.parseaddr(value)
    local, _, domain = address.rpartition("@")
    return bool(local and domain and " " not in address)


def smtp_config(settings: SmtpSettings) -> SmtpConfig | None:
    """The SMTP configuration; None when SMTP_HOST is unset; SmtpConfigError when unusable."""
    if not settings.smtp_host.strip():
        return None
    errors = []
    host = settings.smtp_host.strip()
    if "://" in host or "/" in host or " " in host:
        errors.append(f"SMTP_HOST must be a host name or address, not {host!r}")
    if settings.smtp_tls and settings.smtp_starttls:
        errors.append("SMTP_TLS (TLS from the start, usually port 465) and SMTP_STARTTLS "
                      "(upgrade a plain connection, usually port 587) exclude each other")
    password = settings.smtp_password.get_secret_value()
    if settings.smtp_username and not password:
        errors.append("SMTP_USERNAME is set but SMTP_PASSWORD is empty")
    if password and not settings.smtp_username:
        errors.append("SMTP_PASSWORD is set but SMTP_USERNAME is empty")
    if not _valid_address(settings.smtp_from):
        errors.append(f"SMTP_FROM must be an address like 'Glassboard <alerts@example.com>', "
                      f"not {settings.smtp_from!r}")
    elif settings.env == "production" and settings.smtp_from == DEFAULT_FROM:
        errors.append("SMTP_FROM must be set in production (the default is @localhost)")
    if errors:
        raise SmtpConfigError("SMTP configuration is not usable: " + "; ".join(errors))
    return SmtpConfig(
        host=host, port=settings.smtp_port, username=settings.smtp_username,
        password=settings.smtp_password, sender=settings.smtp_from,
        starttls=settings.smtp_starttls, tls=settings.smtp_tls,
        timeout=settings.smtp_timeout_seconds,
    )


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str | None = None,
    message_id: str | None = None, headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A text message, with an HTML alternative when ``html`` is given."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "glassboard.invalid"
    message["Message-ID"] = message_id or email.utils.make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send_message(config: SmtpConfig, message: EmailMessage) -> None:
    """Send one message; raises aiosmtplib's errors (see ``is_permanent``)."""
    password = config.password.get_secret_value()
    await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        username=config.username or None,
        password=password or None,
        use_tls=config.tls,
        start_tls=False if config.tls else config.starttls,
        timeout=config.timeout,
    )


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying cannot help: the server refused the sender, a recipient or the
    message with a 5xx reply. Authentication failures are not permanent: an operator can
    fix the credentials while the alert waits."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused,
                        aiosmtplib.SMTPDataError)):
        return 500 <= exc.code < 600
    return False
