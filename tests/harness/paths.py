"""Where the repository's files are, for tests that read them (docs, deploy, sources)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DOCS", "ROOT", "SCREENSHOTS"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Where ``GLASSBOARD_SAVE_SCREENSHOTS=1`` refreshes the docs' screenshots.
SCREENSHOTS = DOCS / "screenshots"
