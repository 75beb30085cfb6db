"""deploy/prometheus/prometheus.yml: Prometheus scrapes every service where compose runs it,
on the port that serves its /metrics (the ops port, when OPS_ACCESS keeps it private)."""

from __future__ import annotations

from typing import Any

import yaml

from harness.deploy import DEPLOY, SERVICES
from harness.deploy import compose_env as _env
from harness.deploy import scrape_port as _scrape_port


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
        port = _scrape_port(_env(compose["services"][name]), name)
        assert (name, port) in targets.get(name, set()), f"Prometheus does not scrape {name}:{port}"
    mount = "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
    assert mount in compose["services"]["prometheus"]["volumes"]
