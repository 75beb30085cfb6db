"""Signatures of rating commands: exact bytes, one purpose-bound key, constant-time check."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from shared.command_signing import (
    BAD_SIGNATURE,
    SIGNATURE_HEADER,
    UNSIGNED,
    command_key,
    sign_command,
    signature_headers,
    verify_command,
)
from shared.signing import sign_rating_link

KEY = command_key("test-secret")
BODY = b'{"asset_id":"pricing-sheet","user_id":7,"stars":5}'


def _headers(value: bytes | str | None) -> list[tuple[str, bytes | str | None]]:
    return [("content-type", b"application/json"), (SIGNATURE_HEADER, value)]


def test_a_signed_command_verifies_from_raw_kafka_headers() -> None:
    headers = signature_headers(KEY, BODY)
    assert headers["content-type"] == "application/json"
    raw = [(k, v.encode()) for k, v in headers.items()]
    assert verify_command(KEY, BODY, raw) is None
    assert verify_command(KEY, BODY, [(k, v) for k, v in headers.items()]) is None


def test_the_signature_is_v1_hex_hmac_sha256_of_the_exact_bytes_with_a_derived_key() -> None:
    key = hmac.new(b"test-secret", b"glassboard/rating-command/v1", hashlib.sha256).digest()
    assert KEY == key
    assert sign_command(KEY, BODY) == "v1=" + hmac.new(key, BODY, hashlib.sha256).hexdigest()
    # The raw secret is never the key: a signature made with it does not verify.
    raw = "v1=" + hmac.new(b"test-secret", BODY, hashlib.sha256).hexdigest()
    assert verify_command(KEY, BODY, _headers(raw)) == BAD_SIGNATURE


def test_missing_signatures_are_unsigned() -> None:
    assert verify_command(KEY, BODY, None) == UNSIGNED
    assert verify_command(KEY, BODY, []) == UNSIGNED
    assert verify_command(KEY, BODY, [("content-type", b"application/json")]) == UNSIGNED
    assert verify_command(KEY, BODY, _headers(None)) == UNSIGNED


def test_forged_altered_or_resigned_commands_are_refused() -> None:
    good = sign_command(KEY, BODY)
    altered = BODY.replace(b'"user_id":7', b'"user_id":8')
    assert verify_command(KEY, altered, _headers(good)) == BAD_SIGNATURE
    assert verify_command(KEY, BODY + b" ", _headers(good)) == BAD_SIGNATURE
    assert verify_command(command_key("other-secret"), BODY, _headers(good)) == BAD_SIGNATURE
    assert verify_command(KEY, BODY, _headers(good.removeprefix("v1="))) == BAD_SIGNATURE
    assert verify_command(KEY, BODY, _headers("v1=" + "0" * 64)) == BAD_SIGNATURE
    assert verify_command(KEY, BODY, _headers("")) == BAD_SIGNATURE
    assert verify_command(KEY, BODY, _headers("v1=\udcff\u00e9")) == BAD_SIGNATURE
    # Two signatures: ambiguous, refused even when one of them is right.
    twice = [(SIGNATURE_HEADER, good.encode()), (SIGNATURE_HEADER, b"v1=00")]
    assert verify_command(KEY, BODY, twice) == BAD_SIGNATURE
    assert verify_command(KEY, BODY, list(reversed(twice))) == BAD_SIGNATURE


def test_a_rating_link_signature_is_never_a_command_signature() -> None:
    link_sig = sign_rating_link("test-secret", "pricing-sheet", 7, 2_000_000_000)
    assert verify_command(KEY, BODY, _headers(link_sig)) == BAD_SIGNATURE


@given(st.binary(max_size=2000), st.binary(max_size=100))
def test_arbitrary_bodies_and_header_values_never_raise(body: bytes, value: bytes) -> None:
    assert verify_command(KEY, body, _headers(value)) in (None, BAD_SIGNATURE)
    assert verify_command(KEY, body, _headers(sign_command(KEY, body))) is None
