"""deploy/grafana: the provisioned datasource and dashboard, every dashboard query parsed
as PromQL and checked against the metrics the code defines, and a sound panel layout."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import promql_parser
import yaml
from faststream.prometheus.container import MetricsContainer
from prometheus_client import CollectorRegistry

from harness.deploy import DEPLOY
from harness.paths import ROOT

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "glassboard.json"

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
