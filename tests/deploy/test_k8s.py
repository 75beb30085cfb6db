"""deploy/k8s checked without a cluster: the manifests against the API's JSON schemas
(kubernetes-validate, strict: an unknown field fails), the custom resources against
validators generated from their CRDs' openAPIV3Schema (npm packages run by
deploy/validate/validate-crds.mjs), and against shared/topics.py and the settings."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from devtools.settings import StackSettings
from harness.deploy import DEPLOY, EXTRA_ENV, OPERATOR_ENV, SERVICES, assert_secrets_refused
from harness.deploy import scrape_port as _scrape_port
from harness.deploy import service_port as _service_port
from harness.deploy import setting_aliases as _setting_aliases
from shared.topics import Topics

K8S = DEPLOY / "k8s"
VALIDATE = DEPLOY / "validate"
#: Kubernetes versions validated: the oldest still commonly run, and the newest known.
K8S_VERSIONS = ("1.29", kubernetes_validate.utils.latest_version())


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


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


def _is_crd(doc: dict[str, Any]) -> bool:
    return doc["apiVersion"].split("/")[0] in {"keda.sh", "kafka.strimzi.io"}


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
    assert_secrets_refused({**config, **secret})  # no working default
    generated = {key: OPERATOR_ENV[key]
                 for key in ("GLASSBOARD_SIGNING_SECRET", "WEBHOOK_SIGNING_SECRET")}
    settings = StackSettings.model_validate({**config, **secret, **generated})
    assert settings.env == "production" and settings.ingest_host == "0.0.0.0"
    assert urlsplit(settings.database_url).scheme == "postgresql"


def test_prometheus_scrapes_the_port_that_serves_metrics(k8s_docs: list[dict[str, Any]]) -> None:
    config = {**_configmap(k8s_docs), **OPERATOR_ENV}
    assert StackSettings.model_validate(config).ops_mode == "private"
    for deployment in _kind(k8s_docs, "Deployment"):
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        name = container["args"][0]
        port = _scrape_port(config, name)
        annotations = pod["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port), name
        assert port in {p["containerPort"] for p in container["ports"]}, name


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
