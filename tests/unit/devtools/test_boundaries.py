"""devtools/ stays outside the services: only the CLI imports it, and lazily."""

from __future__ import annotations

import re

from harness.paths import ROOT


def test_no_service_imports_devtools_but_the_cli_lazily() -> None:
    importing = re.compile(r"^(\s*)(from|import) devtools\b", re.M)
    for package in ("services", "shared"):
        for path in (ROOT / package).rglob("*.py"):
            for match in importing.finditer(path.read_text(encoding="utf-8")):
                where = path.relative_to(ROOT).as_posix()
                assert where == "services/cli.py" and match.group(1), where
