"""Bounds of integer route parameters that reach PostgreSQL. FastAPI's ``int`` has none,
and a value past a column's range is a 500 from the driver instead of a 422 (fuzzing found
``GET /v1/alerts?before=10000000000000000001``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

__all__ = ["BIGINT_MAX", "RowId"]

#: The largest PostgreSQL ``bigint`` (``bigserial`` ids, revisions).
BIGINT_MAX = 2**63 - 1

#: A ``bigserial`` id in a path: ids start at 1.
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
