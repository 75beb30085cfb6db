"""How sign-in links reach people. Development prints them to the console; SMTP delivery
arrives with the notifier's email channel (issue 5)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

__all__ = ["ConsoleMailer"]

log = logging.getLogger("glassboard.mail")


@dataclass
class ConsoleMailer:
    """Prints each message; keeps the last ones so tests can follow the link."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))
        del self.sent[:-100]
        print(f"\n--- email to {to}: {subject}\n{body}\n---\n", flush=True)
