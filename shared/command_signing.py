"""Signatures of rating commands, so the bus is not trusted with identity.

Ingest signs the exact bytes of each command it publishes on ``rating-commands``; the
ratings service refuses (dead-letters) any command whose signature is missing or wrong,
before applying it. Anyone who can produce to Kafka can still write records, but cannot
make one that rates as somebody else.

The key is the "rating-command" sub-key of ``GLASSBOARD_SIGNING_SECRET``
(``shared.signing.derive_key``), so these signatures never match anything else made with
that secret (rating links, sessions, magic links). The signature travels in the ``x-glassboard-signature`` header as ``v1=<hex>``:
HMAC-SHA256 over the record's value, byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .signing import derive_key

__all__ = [
    "BAD_SIGNATURE",
    "SIGNATURE_HEADER",
    "UNSIGNED",
    "command_key",
    "sign_command",
    "signature_headers",
    "verify_command",
]

#: The Kafka header that carries a command's signature.
SIGNATURE_HEADER = "x-glassboard-signature"
#: Reasons :func:`verify_command` gives for refusing a command.
UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad signature"

_VERSION = "v1="


def command_key(secret: str) -> bytes:
    """The key for rating commands: the signing secret's "rating-command" sub-key."""
    return bytes.fromhex(derive_key(secret, "rating-command"))


def sign_command(key: bytes, body: bytes) -> str:
    """The header value for ``body``: ``v1=`` and the hex HMAC-SHA256 of the exact bytes."""
    return _VERSION + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_headers(key: bytes, body: bytes) -> dict[str, str]:
    """Headers to publish ``body`` with: its content type and its signature."""
    return {"content-type": "application/json", SIGNATURE_HEADER: sign_command(key, body)}


def verify_command(
    key: bytes, body: bytes, headers: Iterable[tuple[str, bytes | str | None]] | None
) -> str | None:
    """None when ``body`` carries a valid signature in ``headers``, else why not.

    ``headers`` are the record's raw (name, value) pairs. More than one signature header is
    refused: which one counts would be up to the reader. The comparison is constant-time.
    """
    values = [v for k, v in (headers or ()) if k.lower() == SIGNATURE_HEADER]
    if not values or values[0] is None:
        return UNSIGNED
    if len(values) > 1:
        return BAD_SIGNATURE
    value = values[0]
    given = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    expected = sign_command(key, body).encode()
    if not hmac.compare_digest(expected, given):
        return BAD_SIGNATURE
    return None
