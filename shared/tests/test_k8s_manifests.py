"""deploy/k8s rendered by kustomize and checked against the Kubernetes schemas and the rules.

The base and the production overlay are rendered with the real kustomize (`kubectl kustomize`,
kubectl 1.33.9 with kustomize v5.6.0, installed into .tools/bin by deploy/k8s/install-kubectl.sh
when missing). Every object is validated against the Kubernetes JSON schemas bundled by the
PyPI package kubernetes-validate, strictly (an unknown field is an error), for the oldest and
newest minor releases the manifests are meant for. Then the rules a reviewer would hold them
to, each test named after its rule: probes on the right paths, resources, non-root on a
read-only root, autoscaling and disruption budgets, only the gateway reachable from outside,
secrets only by reference, the production gateways' rate limits shared in a Redis that only they
reach, and agreement with docker-compose.yml and the code."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.config import GatewaySettings
from yanxiu.kit.settings import KitSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
INSTALL_KUBECTL = K8S / "install-kubectl.sh"
KUBECTL_VERSION = "1.33.9"
# The minor releases the manifests are validated for: the oldest still served by the main
# cloud providers, and kubectl's own.
KUBERNETES_VERSIONS = ("1.30", "1.33")
OVERLAYS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}

PORTS = {
    "gateway": 8000,
    "enrollment": 8101,
    "learning": 8102,
    "credits": 8103,
    "lessons": 8104,
    "insights": 8105,
}
APP_IMAGE = re.compile(r"(^|/)yanxiu:")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|_KEY)$")
# Outside the namespace, only these may open a connection to a pod: the ingress controller (to
# the gateway alone) and Prometheus (to the processes' ports, where /metrics is served).
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
# Only given to the kubelet, to build DATABASE_URL from it: $(POSTGRES_PASSWORD).
EXPANSION_ONLY = {"POSTGRES_PASSWORD"}
# Each secret key reaches its owner alone.
OWNED_SECRETS = {
    "ENROLLMENT_PII_KEY": "enrollment",
    "LEARNING_PROVIDER_SECRET_KEY": "learning",
    "GATEWAY_METRICS_TOKEN": "gateway",
    "gateway_jwt_private_key.pem": "gateway",
}
# The production overlay's Redis for the gateways' shared rate limits, and its secret keys.
REDIS_PORT = 6379
REDIS_SECRETS = {"GATEWAY_RATE_LIMIT_REDIS_URL": "gateway", "redis_password": "redis"}
# Deployments that run one replica by design. Redis: its buckets are worth nothing after a
# restart, two unreplicated ones would split each caller's bucket, and while it is away the
# gateways let requests through (gateway.ratelimit_shared).
SINGLE_REPLICA = {"redis"}


# --------------------------------------------------------------------------- rendering


@pytest.fixture(scope="session")
def kubectl() -> str:
    """kubectl of the pinned version: $KUBECTL if set, else .tools/bin/kubectl, installed by the
    project's script when missing. No kubectl is a failure, never a skip: CI must not pass
    these tests by not running them."""
    if os.environ.get("KUBECTL"):
        return os.environ["KUBECTL"]
    try:
        result = subprocess.run(
            ["bash", str(INSTALL_KUBECTL)], capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{INSTALL_KUBECTL.name} did not finish in 10 minutes", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"could not install kubectl with {INSTALL_KUBECTL.relative_to(ROOT)} "
            f"(exit {result.returncode}); run it by hand or set KUBECTL to a kubectl "
            f"{KUBECTL_VERSION}:\n{result.stdout}{result.stderr}",
            pytrace=False,
        )
    return str(ROOT / ".tools" / "bin" / "kubectl")


@pytest.fixture(scope="session")
def rendered(kubectl: str) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name, path in OVERLAYS.items():
        result = subprocess.run(
            [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"kustomize {name}:\n{result.stderr}"
        out[name] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return out


@pytest.fixture(params=sorted(OVERLAYS))
def docs(request: pytest.FixtureRequest, rendered: dict[str, list[dict[str, Any]]]) -> Any:
    return rendered[request.param]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deployments and Jobs by name, to their pod template."""
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "Job")}


def containers(workload: dict[str, Any], *, init: bool = True) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*(spec.get("initContainers") or [] if init else []), *spec["containers"]]


def env_of(container: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A container's variables: its ConfigMaps' keys (envFrom) and its own `env` entries."""
    configmaps = of_kind(docs, "ConfigMap")
    env: dict[str, Any] = {}
    for source in container.get("envFrom") or []:
        env.update(configmaps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env") or []:
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


def app_deployments(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: d for n, d in of_kind(docs, "Deployment").items() if n in PORTS}


def compose_services() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data["services"]


def test_kubectl_is_the_pinned_release(kubectl: str) -> None:
    out = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True)
    assert f"Client Version: v{KUBECTL_VERSION}" in out.stdout, out.stdout + out.stderr
    assert "Kustomize Version: v5." in out.stdout


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(
    docs: list[dict[str, Any]], version: str
) -> None:
    errors = []
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    assert not errors, f"against Kubernetes {version}:\n" + "\n".join(errors)


def test_the_validator_refuses_what_the_api_server_would(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """The strict schemas bite: a misspelt field and a wrong type are errors."""
    deployment = app_deployments(rendered["base"])["gateway"]
    typo = yaml.safe_load(yaml.safe_dump(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    wrong = yaml.safe_load(yaml.safe_dump(deployment))
    wrong["spec"]["revisionHistoryLimit"] = "five"
    for bad in (typo, wrong):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(bad, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_process_has_its_workload(docs: list[dict[str, Any]]) -> None:
    assert set(app_deployments(docs)) == set(PORTS)
    assert "pgbouncer" in of_kind(docs, "Deployment")
    assert "yanxiu-migrate" in of_kind(docs, "Job")
    assert set(PORTS) | {"pgbouncer", "postgres"} <= set(of_kind(docs, "Service"))


# --------------------------------------------------------------------------- probes


def test_every_process_is_live_on_healthz_and_ready_on_readyz(docs: list[dict[str, Any]]) -> None:
    for name, deployment in app_deployments(docs).items():
        (container,) = containers(deployment, init=False)
        port = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert port == {"http": PORTS[name]}, name
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet")
            assert get and get["path"] == path and get["port"] == "http", f"{name}: {probe}"
        # A slow start is the startup probe's to judge, on the liveness path.
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name


def test_liveness_never_depends_on_the_database_or_the_broker() -> None:
    """/healthz must answer whatever PostgreSQL and Kafka do, or their outage restarts pods."""
    source = (ROOT / "shared" / "src" / "yanxiu" / "kit" / "app.py").read_text(encoding="utf-8")
    body = re.search(r'@app\.get\("/healthz".*?\n\n', source, re.DOTALL)
    assert body, "no /healthz route in yanxiu.kit.app"
    assert re.fullmatch(
        r'@app\.get\("/healthz"[^\n]*\n\s+async def healthz\(\) -> dict\[str, str\]:\n'
        r'\s+return \{"status": "ok"\}\n\n',
        body.group(0),
    ), f"/healthz does more than answer:\n{body.group(0)}"


def test_every_other_container_is_probed(docs: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(docs, "Deployment").items():
        for container in containers(deployment, init=False):
            assert "livenessProbe" in container and "readinessProbe" in container, name


# --------------------------------------------------------------------------- pods


def test_every_container_has_requests_and_limits(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        for container in containers(workload):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                held = resources.get(kind, {})
                assert {"cpu", "memory"} <= set(held), f"{name}/{container['name']}: {kind}"


def test_every_pod_runs_as_non_root_on_a_read_only_root(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        pod = workload["spec"]["template"]["spec"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context.get("runAsUser", 1) != 0, name
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["enableServiceLinks"] is False, name
        for container in containers(workload):
            own = container["securityContext"]
            where = f"{name}/{container['name']}"
            assert own["readOnlyRootFilesystem"] is True, where
            assert own["allowPrivilegeEscalation"] is False, where
            assert own["capabilities"]["drop"] == ["ALL"], where
            assert not own["capabilities"].get("add"), where
            assert own.get("runAsUser", 1) != 0 and not own.get("privileged"), where


def test_yanxiu_pods_write_only_to_an_empty_dir_at_tmp(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        pod = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for container in containers(workload):
            if not APP_IMAGE.search(container["image"]):
                continue
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts") or []}
            assert "/tmp" in mounts, f"{name}/{container['name']}: no /tmp"
            assert "emptyDir" in volumes[mounts["/tmp"]["name"]], name
            for path, mount in mounts.items():
                if path != "/tmp":
                    assert mount.get("readOnly") is True, f"{name}: {path} is writable"


def test_images_are_pinned(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        for container in containers(workload):
            image = container["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert "@sha256:" in image or (tag and tag != "latest"), f"{name}: {image}"


def test_app_containers_run_the_compose_commands(docs: list[dict[str, Any]]) -> None:
    """The same processes as docker-compose.yml: one image, the command per process."""
    compose = compose_services()
    for name, deployment in app_deployments(docs).items():
        (container,) = containers(deployment, init=False)
        assert container["command"] == compose[name]["command"], name
    (job,) = containers(of_kind(docs, "Job")["yanxiu-migrate"])
    assert job["command"] == compose["migrate"]["command"]


# --------------------------------------------------------------------------- migrations


def test_the_migration_job_runs_once_straight_against_postgresql(
    docs: list[dict[str, Any]],
) -> None:
    job = of_kind(docs, "Job")["yanxiu-migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] <= 5 and job["spec"]["activeDeadlineSeconds"] > 0
    (container,) = containers(job)
    url = env_of(container, docs)["DATABASE_URL"]
    assert "@postgres:5432/" in url, "DDL goes to PostgreSQL itself, not through PgBouncer"


def test_new_pods_wait_for_the_migrations(docs: list[dict[str, Any]]) -> None:
    for name, deployment in app_deployments(docs).items():
        init = deployment["spec"]["template"]["spec"].get("initContainers") or []
        waits = [c for c in init if c["command"][:3] == ["python", "-m", "stack.schema_wait"]]
        assert waits, f"{name}: no init container waiting for the schema"
        (main,) = containers(deployment, init=False)
        assert waits[0]["image"] == main["image"], f"{name}: waits for another image's heads"
        assert "DATABASE_URL" in env_of(waits[0], docs)
    assert (ROOT / "stack" / "src" / "stack" / "schema_wait.py").is_file()


def test_roll_outs_keep_capacity(docs: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(docs, "Deployment").items():
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxUnavailable"] == 0, name


# --------------------------------------------------------------------------- scaling


def test_gateway_and_learning_autoscale_and_nothing_fights_the_autoscaler(
    docs: list[dict[str, Any]],
) -> None:
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {"gateway", "learning"}
    deployments = of_kind(docs, "Deployment")
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        # A replica count in the Deployment would reset the autoscaler's on every apply.
        assert "replicas" not in deployments[name]["spec"], name
        (container,) = containers(deployments[name], init=False)
        assert container["resources"]["requests"]["cpu"], "utilisation needs a CPU request"


def test_every_deployment_has_a_disruption_budget_and_two_replicas_unless_one_by_design(
    docs: list[dict[str, Any]],
) -> None:
    budgets = of_kind(docs, "PodDisruptionBudget")
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    for name, deployment in of_kind(docs, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [
            b
            for b in budgets.values()
            if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(matching) == 1, f"{name}: {len(matching)} disruption budgets"
        assert matching[0]["spec"].get("maxUnavailable") == 1, name
        replicas = (
            hpas[name]["spec"]["minReplicas"] if name in hpas else deployment["spec"]["replicas"]
        )
        if name in SINGLE_REPLICA:
            assert replicas == 1 and name not in hpas, f"{name}: one replica, by design"
            continue
        assert replicas >= 2, f"{name}: one replica cannot survive a node drain"


def test_services_select_their_pods_by_port_name(docs: list[dict[str, Any]]) -> None:
    deployments = of_kind(docs, "Deployment")
    for name, service in of_kind(docs, "Service").items():
        assert service["spec"].get("type", "ClusterIP") in ("ClusterIP", "ExternalName"), name
        if service["spec"].get("type") == "ExternalName":
            continue
        selector = service["spec"]["selector"]
        (target,) = [
            d
            for d in deployments.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        ports = {p["name"] for c in containers(target, init=False) for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{name}: {port}"
        if name in PORTS:
            assert [p["port"] for p in service["spec"]["ports"]] == [PORTS[name]]


# --------------------------------------------------------------------------- exposure


def test_only_the_gateway_is_behind_the_ingress(docs: list[dict[str, Any]]) -> None:
    ingresses = of_kind(docs, "Ingress")
    assert ingresses
    for ingress in ingresses.values():
        assert "defaultBackend" not in ingress["spec"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == "gateway"


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    return _matches(policy["spec"]["podSelector"], labels)


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions") or []:
        value = labels.get(expr["key"])
        if (expr["operator"] == "In") != (value in expr["values"]):
            return False
    return True


def test_network_policies_deny_by_default(docs: list[dict[str, Any]]) -> None:
    deny = of_kind(docs, "NetworkPolicy")["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


def test_only_the_gateway_admits_traffic_from_outside(docs: list[dict[str, Any]]) -> None:
    labels = {
        name: w["spec"]["template"]["metadata"]["labels"] for name, w in workloads(docs).items()
    }
    for name, policy in of_kind(docs, "NetworkPolicy").items():
        for rule in policy["spec"].get("ingress") or []:
            sources = rule.get("from") or []
            assert sources, f"{name}: a rule admitting every source"
            for source in sources:
                assert "ipBlock" not in source, f"{name}: admits addresses outside the cluster"
                if "namespaceSelector" not in source:
                    continue
                namespace = source["namespaceSelector"].get("matchLabels", {})
                origin = namespace.get("kubernetes.io/metadata.name")
                selected = {w for w, lab in labels.items() if _selects(policy, lab)}
                if origin == INGRESS_NAMESPACE:
                    assert selected == {"gateway"}, f"{name}: the ingress reaches {selected}"
                else:
                    assert origin == MONITORING_NAMESPACE, f"{name}: admits namespace {origin}"
                    assert selected <= set(PORTS), f"{name}: monitoring reaches {selected}"


def test_egress_reaches_pgbouncer_kafka_and_dns_only_and_the_gateway_redis(
    docs: list[dict[str, Any]],
) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    allowed: dict[str, set[int]] = {}
    for name, workload in workloads(docs).items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        ports = set()
        for policy in policies.values():
            if _selects(policy, labels):
                for rule in policy["spec"].get("egress") or []:
                    ports |= {p["port"] for p in rule.get("ports") or []}
        allowed[name] = ports
    for name in PORTS:
        assert {53, 6432, 9092} <= allowed[name], f"{name}: {allowed[name]}"
        assert 5432 not in allowed[name], f"{name} bypasses PgBouncer"
    assert allowed["pgbouncer"] == {53, 5432}
    assert allowed["yanxiu-migrate"] == {53, 5432}
    redis = {REDIS_PORT} if "redis" in allowed else set()
    assert allowed["gateway"] - {53, 6432, 9092} == {8101, 8102, 8103, 8104, 8105} | redis
    if redis:
        assert allowed["redis"] == {53}, "Redis reaches nothing"
    assert allowed["learning"] - {53, 6432, 9092} == {8000}, "only the gateway's JWKS"


# --------------------------------------------------------------------------- secrets


def test_no_secret_values_in_the_manifests(docs: list[dict[str, Any]]) -> None:
    assert not of_kind(docs, "Secret"), "Secrets are made in the cluster, never committed"
    text = yaml.safe_dump_all(docs)
    assert "-----BEGIN" not in text
    for name, configmap in of_kind(docs, "ConfigMap").items():
        for key in configmap.get("data", {}):
            assert not SECRET_NAME.search(key), f"ConfigMap {name} holds {key}"
    for name, workload in workloads(docs).items():
        for container in containers(workload):
            for item in container.get("env") or []:
                where = f"{name}/{container['name']}: {item['name']}"
                if SECRET_NAME.search(item["name"]):
                    assert "secretKeyRef" in item.get("valueFrom", {}), where
                value = item.get("value", "")
                password = re.search(r"://[^:/@]+:([^@]*)@", value)
                assert not password or password.group(1) == "$(POSTGRES_PASSWORD)", where


def _secret_refs(workload: dict[str, Any]) -> set[tuple[str, str]]:
    refs = set()
    for container in containers(workload):
        for item in container.get("env") or []:
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    for volume in workload["spec"]["template"]["spec"].get("volumes") or []:
        sources = [*(volume.get("projected") or {}).get("sources", []), volume]
        for source in sources:
            secret = source.get("secret")
            if secret:
                name = secret.get("name") or secret.get("secretName")
                refs |= {(name, item["key"]) for item in secret.get("items") or []}
    return refs


def test_each_secret_reaches_its_owner_alone(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        keys = {key for _, key in _secret_refs(workload)}
        for key, owner in OWNED_SECRETS.items():
            assert (key in keys) == (name == owner), f"{key} and {name}"


def test_every_secret_referenced_is_explained_in_the_readme(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    refs = {ref for w in workloads(rendered["production"]).values() for ref in _secret_refs(w)}
    for ingress in of_kind(rendered["production"], "Ingress").values():
        refs |= {(t["secretName"], "tls.crt") for t in ingress["spec"].get("tls") or []}
    assert refs
    for secret, key in sorted(refs):
        assert secret in readme, f"deploy/k8s/README.md does not say how to make {secret}"
        assert key in readme or key == "tls.crt", f"README does not name {secret}'s key {key}"


# --------------------------------------------------------------------------- the code


def _compose_env(name: str) -> set[str]:
    env = compose_services()[name].get("environment") or {}
    return set(env)


def _settings_variables(process: str = "") -> set[str]:
    """The variables KitSettings reads under their shared names; for the gateway, also its own
    GATEWAY_* settings (compose leaves some unset that a deployment sets)."""
    names = set()
    for field in KitSettings.model_fields.values():
        alias = field.validation_alias
        names |= {c for c in getattr(alias, "choices", []) if isinstance(c, str)}
    if process == "gateway":
        prefix = GatewaySettings.model_config.get("env_prefix", "")
        names |= {f"{prefix}{name}".upper() for name in GatewaySettings.model_fields}
    return names


def test_processes_get_the_compose_variables_and_only_what_the_code_reads(
    docs: list[dict[str, Any]],
) -> None:
    for name, deployment in app_deployments(docs).items():
        (container,) = containers(deployment, init=False)
        given = set(env_of(container, docs)) - EXPANSION_ONLY
        missing = _compose_env(name) - given
        assert not missing, f"{name}: compose gives {sorted(missing)}, the Deployment does not"
        extra = given - _compose_env(name) - _settings_variables(name)
        assert not extra, f"{name}: {sorted(extra)} are neither compose's nor KitSettings'"
        assert env_of(container, docs)["DATABASE_URL"].startswith(
            "postgresql+asyncpg://yanxiu:$(POSTGRES_PASSWORD)@pgbouncer:6432/"
        ), f"{name} does not go through PgBouncer"


def _settings_from(configmap: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> KitSettings:
    for key, value in configmap.items():
        monkeypatch.setenv(key, value)
    return KitSettings()


def test_the_settings_parse_and_production_replicates_topics(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def config(overlay: str) -> dict[str, str]:
        (found,) = [
            c["data"]
            for n, c in of_kind(rendered[overlay], "ConfigMap").items()
            if n.startswith("yanxiu-config")
        ]
        return found

    base = _settings_from(config("base"), monkeypatch)
    assert base.kafka_replication_factor == 1 and base.kafka_min_insync_replicas is None
    production = _settings_from(config("production"), monkeypatch)
    assert production.kafka_replication_factor == 3
    assert production.kafka_min_insync_replicas == 2
    assert production.kafka_partitions >= 12 and production.kafka_enable_idempotence


def _pgbouncer_ini(docs: list[dict[str, Any]]) -> dict[str, str]:
    (text,) = [
        c["data"]["pgbouncer.ini"]
        for n, c in of_kind(docs, "ConfigMap").items()
        if n.startswith("pgbouncer-config")
    ]
    settings = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith((";", "#")):
            settings[key.strip()] = value.strip()
    return settings


def test_pgbouncer_pools_transactions_and_keeps_asyncpgs_prepared_statements(
    docs: list[dict[str, Any]],
) -> None:
    ini = _pgbouncer_ini(docs)
    assert ini["pool_mode"] == "transaction"
    # asyncpg and SQLAlchemy's dialect prepare named statements and cache them
    # (yanxiu.kit.db and yanxiu.kit.reads leave statement_cache_size at its default): with
    # transaction pooling, PgBouncer must track them or they fail on the next server connection.
    sources = "".join(
        (ROOT / "shared" / "src" / "yanxiu" / "kit" / f).read_text(encoding="utf-8")
        for f in ("db.py", "reads.py")
    )
    if "statement_cache_size=0" not in sources.replace(" ", ""):
        assert int(ini["max_prepared_statements"]) > 0
    service = of_kind(docs, "Service")["pgbouncer"]
    assert service["spec"]["ports"][0]["port"] == int(ini["listen_port"]) == 6432
    pgbouncer = of_kind(docs, "Deployment")["pgbouncer"]
    mounts = {m["mountPath"] for c in containers(pgbouncer, init=False) for m in c["volumeMounts"]}
    assert str(Path(ini["auth_file"]).parent) in mounts
    # The ExternalName Service that says where PostgreSQL is (postgres.yaml).
    assert ini["yanxiu"] == "host=postgres port=5432 dbname=yanxiu"


def test_production_runs_in_a_restricted_namespace(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    (namespace,) = of_kind(rendered["production"], "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in rendered["production"]:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace["metadata"]["name"], doc


def test_rollout_script_is_valid_bash_and_names_the_job() -> None:
    script = K8S / "rollout.sh"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "job yanxiu-migrate" in script.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- shared rate limits


def test_production_gateways_share_their_rate_limits_in_the_overlays_redis(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """The gateway autoscales: without GATEWAY_RATE_LIMIT_REDIS_URL each replica would keep its
    own buckets. Set from the Secret, naming a Redis the overlay runs."""
    docs = rendered["production"]
    (gateway,) = containers(of_kind(docs, "Deployment")["gateway"], init=False)
    url = env_of(gateway, docs).get("GATEWAY_RATE_LIMIT_REDIS_URL")
    assert url == {
        "secretKeyRef": {"name": "yanxiu-redis", "key": "GATEWAY_RATE_LIMIT_REDIS_URL"}
    }, f"the production gateway's Redis URL: {url}"
    assert "rate_limit_redis_url" in GatewaySettings.model_fields
    service = of_kind(docs, "Service")["redis"]
    assert [p["port"] for p in service["spec"]["ports"]] == [REDIS_PORT]
    (redis,) = containers(of_kind(docs, "Deployment")["redis"], init=False)
    args = redis["command"]
    # Nothing on disk: no snapshots, no append-only file.
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    # The base has no Redis, and its gateway names none.
    (base,) = containers(of_kind(rendered["base"], "Deployment")["gateway"], init=False)
    assert "GATEWAY_RATE_LIMIT_REDIS_URL" not in env_of(base, rendered["base"])
    assert "redis" not in of_kind(rendered["base"], "Deployment")


def test_only_the_gateway_may_reach_redis(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["production"]
    labels = {n: w["spec"]["template"]["metadata"]["labels"] for n, w in workloads(docs).items()}
    policies = of_kind(docs, "NetworkPolicy")
    guarding = [
        p
        for p in policies.values()
        if _selects(p, labels["redis"]) and "Ingress" in p["spec"]["policyTypes"]
    ]
    assert guarding, "Redis is not isolated for ingress"
    admitted: set[str] = set()
    for policy in guarding:
        for rule in policy["spec"].get("ingress") or []:
            name = policy["metadata"]["name"]
            assert rule.get("from"), f"{name}: admits every source"
            assert {p.get("port") for p in rule.get("ports") or [{}]} == {REDIS_PORT}, name
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, f"{name}: {peer} reaches beyond the pods"
                admitted |= {w for w, lab in labels.items() if _matches(peer["podSelector"], lab)}
    assert admitted == {"gateway"}
    # And the gateway has its way out to it (default deny covers egress too), alone.
    reaching = {
        w
        for w, lab in labels.items()
        for p in policies.values()
        if _selects(p, lab)
        for rule in p["spec"].get("egress") or []
        if REDIS_PORT in {port.get("port") for port in rule.get("ports") or []}
    }
    assert reaching == {"gateway"}


def test_each_redis_secret_reaches_its_owner_alone(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for name, workload in workloads(rendered["production"]).items():
        keys = {key for secret, key in _secret_refs(workload) if secret == "yanxiu-redis"}
        assert keys == {k for k, owner in REDIS_SECRETS.items() if owner == name}, name
