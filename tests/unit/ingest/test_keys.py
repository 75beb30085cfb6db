"""Ingest keys against their cached hashes: no database, just what a token maps to."""

from __future__ import annotations

import hashlib

from services.ingest.keys import IngestKeys, Key, KeyRefusal, key_from_header


class _Rows:
    """A stand-in pool: ``fetch`` answers the key rows, as the reads module asks."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows

    async def fetch(self, query: str) -> list[dict[str, object]]:
        assert "FROM ingest_keys" in query
        return self.rows


def _row(token: str, key_id: int, revoked: bool = False,
         assets: list[str] | None = None) -> dict[str, object]:
    return {"id": key_id, "token_sha256": hashlib.sha256(token.encode()).digest(),
            "scopes": ["events:write"], "asset_ids": assets, "revoked": revoked}


def test_the_bearer_token_is_read_from_the_authorization_header() -> None:
    assert key_from_header("Bearer gbk_abc") == "gbk_abc"
    assert key_from_header("bearer   gbk_abc ") == "gbk_abc"
    assert key_from_header(None) is None
    assert key_from_header("Basic dXNlcjpwYXNz") is None
    assert key_from_header("Bearer ") is None


async def test_a_token_finds_its_key_and_a_revoked_or_unknown_one_says_why() -> None:
    rows = _Rows([_row("gbk_live", 1), _row("gbk_old", 2, revoked=True),
                  _row("gbk_deck", 3, assets=["deck"])])
    keys = IngestKeys(rows, refresh_seconds=60)  # type: ignore[arg-type]
    await keys.reload()
    assert keys.find("gbk_live") == Key(1, frozenset({"events:write"}), None, False)
    assert keys.find("gbk_deck") == Key(3, frozenset({"events:write"}), frozenset({"deck"}),
                                        False)
    assert keys.find("gbk_old") is KeyRefusal.REVOKED
    assert keys.find("gbk_never") is KeyRefusal.UNKNOWN
    assert keys.find("gbt_a-user-token") is KeyRefusal.UNKNOWN


async def test_a_reload_picks_up_revocations() -> None:
    rows = _Rows([_row("gbk_live", 1)])
    keys = IngestKeys(rows, refresh_seconds=60)  # type: ignore[arg-type]
    await keys.reload()
    assert isinstance(keys.find("gbk_live"), Key)
    rows.rows = [_row("gbk_live", 1, revoked=True)]
    await keys.reload()
    assert keys.find("gbk_live") is KeyRefusal.REVOKED


def test_no_usable_key_is_401_and_a_real_key_not_good_for_this_is_403() -> None:
    assert {r.value: r.status for r in KeyRefusal} == {
        "missing_key": 401, "unknown_key": 401, "revoked_key": 403, "out_of_scope": 403}
