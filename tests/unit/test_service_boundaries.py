"""No service imports another service's modules: what two services share lives in shared/."""

from __future__ import annotations

import re

from harness.paths import ROOT

SERVICES = ("ingest", "ratings", "aggregator", "notifier")
IMPORT = re.compile(r"^\s*(?:from|import) services\.(\w+)", re.M)


def test_no_service_imports_another_service() -> None:
    crossings = set()
    for service in SERVICES:
        for path in (ROOT / "services" / service).rglob("*.py"):
            for imported in IMPORT.findall(path.read_text(encoding="utf-8")):
                if imported != service:
                    crossings.add((path.relative_to(ROOT).as_posix(), imported))
    assert crossings == set()


def test_shared_imports_no_service() -> None:
    for path in (ROOT / "shared").rglob("*.py"):
        assert not IMPORT.search(path.read_text(encoding="utf-8")), path
