"""deploy/compose.yaml checked without Docker: against the Compose Specification's JSON
schema, and against the app: one image, every setting a real one, the services wired to
Kafka, PostgreSQL and each other, secrets required from the operator (the examples
refused), /metrics and the docs kept off the public ports."""

from __future__ import annotations

import importlib.resources
import json
import re
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from devtools.settings import StackSettings
from harness.deploy import (
    DEPLOY,
    EXTRA_ENV,
    OPERATOR_ENV,
    REQUIRED_SECRETS,
    SERVICES,
    assert_secrets_refused,
)

# The checks were written against module-private helpers that now live in the harness; the
# aliases keep each test's body exactly as it was.
from harness.deploy import compose_env as _env
from harness.deploy import compose_variables as _variables
from harness.deploy import interpolate as _interpolate
from harness.deploy import service_port as _service_port
from harness.deploy import setting_aliases as _setting_aliases
from harness.paths import ROOT
from shared.settings import DEV_SECRET, secret_problem
from shared.topics import Topics


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
        settings = StackSettings.model_validate(env)  # production refuses the dev secret
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


def _example() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_compose_will_not_start_until_the_operator_sets_every_secret(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    secrets = {
        ("ingest", "GLASSBOARD_SIGNING_SECRET"): "GLASSBOARD_SIGNING_SECRET",
        ("ratings", "GLASSBOARD_SIGNING_SECRET"): "GLASSBOARD_SIGNING_SECRET",
        ("notifier", "WEBHOOK_SIGNING_SECRET"): "WEBHOOK_SIGNING_SECRET",
        ("ratings", "DATABASE_URL"): "POSTGRES_PASSWORD",
        ("postgres", "POSTGRES_PASSWORD"): "POSTGRES_PASSWORD",
        ("grafana", "GF_SECURITY_ADMIN_PASSWORD"): "GRAFANA_ADMIN_PASSWORD",
    }
    for (service, key), variable in secrets.items():
        raw = services[service]["environment"][key]
        assert f"${{{variable}:?" in raw, f"{service}.{key}: no default, ${{{variable}:?...}}"
        with pytest.raises(AssertionError, match=f"requires {variable}"):
            _interpolate(raw)  # a fresh checkout without deploy/.env
        assert _interpolate(raw, {variable: "s3t"}) != _interpolate(raw, {variable: "0ther"})
    assert set(REQUIRED_SECRETS) == set(secrets.values())


def test_env_example_placeholders_are_refused_in_production() -> None:
    example = _example()
    for key in ("GLASSBOARD_SIGNING_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD",
                "WEBHOOK_SIGNING_SECRET"):
        assert example[key].startswith("CHANGE-ME")
        assert OPERATOR_ENV[key] != example[key]
    assert example["GLASSBOARD_ENV"] == "production"
    assert secret_problem(example["GLASSBOARD_SIGNING_SECRET"])
    assert secret_problem(example["WEBHOOK_SIGNING_SECRET"])
    assert_secrets_refused(example)  # the services, given env.example as it is, stop
    # Every variable compose reads is documented in env.example.
    used = set(re.findall(r"\$\{(\w+)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= set(example), f"undocumented in env.example: {used - set(example)}"


def test_metrics_and_docs_stay_off_the_published_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("ingest", "ratings"):
        env = _env(services[name])
        settings = StackSettings.model_validate(env)
        assert settings.ops_mode == "private", f"{name}: /metrics and /docs on the public port"
        assert str(settings.metrics_port) in services[name]["expose"]
        published = {str(port).split(":")[0] for port in services[name]["ports"]}
        assert str(settings.metrics_port) not in published


def test_mounted_files_exist(compose: dict[str, Any]) -> None:
    mounts = 0
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"missing bind-mount source {source}"
                mounts += 1
    assert mounts >= 3
