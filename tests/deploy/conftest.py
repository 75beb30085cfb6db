"""Fixtures of the deploy/ checks (fixtures only: the helpers are in harness.deploy)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from harness.deploy import DEPLOY


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())
