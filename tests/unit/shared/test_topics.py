"""shared/topics.py is what docs/operations.md lists: every topic with its partitions."""

from __future__ import annotations

import re

from harness.paths import ROOT
from shared.topics import Topics


def test_operations_doc_lists_the_topics_of_shared_topics() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    rows = dict(re.findall(r"^\|\s*`([a-z-]+)`\s*\|\s*(\d+)\s*\|", text, re.M))
    assert {spec.name: str(spec.partitions) for spec in Topics().all} == rows
    assert "Figures from bench/" in text
