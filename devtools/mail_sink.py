"""A local SMTP sink for development: accepts every message, prints it, keeps it as .eml.

    python -m devtools.mail_sink               # 127.0.0.1:1025, files in .glassboard/mail/
    SMTP_HOST=127.0.0.1 SMTP_PORT=1025 glassboard dev --demo

Then alert emails and sign-in links go over real SMTP (aiosmtplib) into this sink, and
each one is printed with its text part (the links are in it) and saved for a mail client.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import signal
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["MailSink", "main"]


@dataclass
class MailSink:
    """An aiosmtpd handler; tests use it in-process through ``aiosmtpd.controller``."""

    folder: Path | None = None
    echo: bool = False
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{len(self.messages):04d}.eml"
            (self.folder / name).write_bytes(envelope.content)
        if self.echo:
            part = message.get_body(preferencelist=("plain",))
            text = part.get_content() if part is not None else ""
            print(f"\n=== mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']}\n"
                  f"Message-ID: {message['Message-ID']}\n{text}===\n", flush=True)
        return "250 Message accepted for delivery"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.mail_sink", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".glassboard/mail"))
    args = parser.parse_args(argv)
    # Set SIGINT explicitly too: started in the background by a script, it is ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    controller = Controller(MailSink(args.dir, echo=True), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP sink on {args.host}:{args.port}, keeping mail in {args.dir}/ (Ctrl-C stops)",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
