"""Try an owner alert the way a new team would, against a running `glassboard dev --demo`
(which starts a local SMTP sink that prints every email in its console log).

A sales rep rates an asset 1 star with a comment; the script waits for the owner's email
in the log, checks there is exactly one, signs the owner in and opens the email's link.

    glassboard dev --demo > dev.log 2>&1 &
    python scripts/try_alert_flow.py dev.log [http://127.0.0.1:8001]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import httpx

REP = "ana.lopez@northwind.example.com"
ASSET = "tailspin-retail-case-study"
OWNER = "sofia.rossi@northwind.example.com"


def signed_in(base: str, log: Path, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    offset = len(log.read_text())
    client.post("/v1/auth/magic-link", json={"email": email}).raise_for_status()
    for _ in range(100):
        links = re.findall(r"(http://\S+/auth/magic\?\S+)", log.read_text()[offset:])
        if links:
            # The link opens a page; its form's POST signs in, and sends on (303).
            page = client.get(links[-1])
            fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                                     page.text))
            signed = client.post("/auth/magic", data=fields, headers={"origin": base})
            assert signed.status_code == 303, signed.text
            return client
        time.sleep(0.05)
    raise TimeoutError(f"no sign-in email for {email}")


def owner_mails(text: str) -> list[str]:
    return [m for m in re.split(r"\n=== ", text) if m.startswith(f"mail to {OWNER}")
            and "Glassboard alert" in m]


def main(log: Path, base: str) -> None:
    rep = signed_in(base, log, REP)
    before = len(owner_mails(log.read_text()))
    started = time.perf_counter()
    rep.put(f"/v1/assets/{ASSET}/rating",
            json={"stars": 1, "comment": "Numbers are from 2023; the prospect noticed."}
            ).raise_for_status()
    while len(owner_mails(log.read_text())) == before:
        if time.perf_counter() - started > 30:
            raise TimeoutError("no alert email")
        time.sleep(0.05)
    took = time.perf_counter() - started
    time.sleep(3)  # anything more would be a duplicate
    mails = owner_mails(log.read_text())[before:]
    subject = mails[0].splitlines()[0]
    link = re.search(r"(http://\S+/assets/[\w-]+)", mails[0])
    assert link, mails[0]
    owner = signed_in(base, log, OWNER)
    page = owner.get(link.group(1))
    title = re.search(r"<title>(.*?)</title>", page.text)
    print(f"{len(mails)} email(s) to the owner {took:.2f} s after the rating: {subject}")
    print(f"its link {link.group(1)} -> {page.status_code}, "
          f"title {title.group(1) if title else '?'!r}")
    inbox = owner.get("/v1/alerts").json()
    print(f"owner's /v1/alerts: {len(inbox['alerts'])} alert(s), first: "
          f"{inbox['alerts'][0]['rule']} on {inbox['alerts'][0]['asset_id']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8001")
