"""Which failures are one record's (dead-letter it) and which are the world's (replay)."""

from __future__ import annotations

import asyncpg
import pytest

from shared.dead_letter import clean_reason, tied_to_record


@pytest.mark.parametrize("exc", [
    asyncpg.DataError("bad value"), asyncpg.NumericValueOutOfRangeError("too big"),
    asyncpg.UniqueViolationError("dup"), asyncpg.ProgramLimitExceededError("row too big"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate"), OverflowError("date"),
    ValueError("x"), TypeError("x"), RecursionError(), KeyError("x"),
])
def test_a_records_own_fault_is_tied_to_it(exc: BaseException) -> None:
    assert tied_to_record(exc)


@pytest.mark.parametrize("exc", [
    ConnectionResetError(), TimeoutError(), OSError("network"),
    asyncpg.DeadlockDetectedError("deadlock"), asyncpg.SerializationError("retry"),
    asyncpg.CannotConnectNowError("starting"), asyncpg.UndefinedTableError("no table"),
    asyncpg.InterfaceError("closed"), RuntimeError("bug"),
])
def test_outages_deadlocks_and_bugs_replay(exc: BaseException) -> None:
    assert not tied_to_record(exc)


def test_a_reason_is_always_a_valid_header() -> None:
    reason = clean_reason("a\x00b\ud800" + "x" * 1000)
    assert reason.startswith("a\\0b?") and len(reason) == 500
    reason.encode("utf-8")
