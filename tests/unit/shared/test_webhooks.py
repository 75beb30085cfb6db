"""Webhook URLs refused with a reason, and the signatures of webhook bodies (pure)."""

from __future__ import annotations

import json

import pytest

from shared.webhooks import sign, validate_webhook_url, verify


@pytest.mark.parametrize(("url", "production", "message"), [
    ("", False, "empty"),
    ("ftp://hooks.example.com/x", False, "must start with https:// or http://"),
    ("http://hooks.example.com/x", True, "must start with https://"),
    ("https://user:pw@hooks.example.com/x", False, "user name or password"),
    ("https:///nohost", False, "no host name"),
    ("https://hooks.example.com:99999/x", False, "not a valid URL"),
    ("https://hooks.example .com/x", False, "spaces"),
    ("https://127.0.0.1/x", True, "private, loopback or link-local"),
    ("https://169.254.169.254/latest", True, "private, loopback or link-local"),
    ("https://localhost/x", True, "this machine"),
])
def test_bad_webhook_urls_are_refused_with_a_reason(url: str, production: bool,
                                                    message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_webhook_url(url, production=production)


def test_good_webhook_urls_pass_and_signatures_verify() -> None:
    url = " https://hooks.slack.com/services/T0/B0/xyz "
    assert validate_webhook_url(url, production=True) == url.strip()
    assert validate_webhook_url("http://127.0.0.1:9/x", production=False)
    body = json.dumps({"text": "hi"}).encode()
    header = sign(body, "s3cret")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(body, header, "s3cret") and not verify(body + b" ", header, "s3cret")
    assert not verify(body, header, "other")
