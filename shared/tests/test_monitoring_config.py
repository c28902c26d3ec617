"""deploy/prometheus and deploy/grafana, checked with promtool and against the code.

Prometheus's own checker (promtool, Prometheus 2.42 from Debian bookworm, installed into
.tools/bin by deploy/prometheus/install-promtool.sh when missing) validates the scrape config
and the alert rules, runs the rules' unit tests and parses every dashboard query. The rest ties
the files together: every query names only metrics the code exports, with labels they have (a
renamed metric or label breaks this test, not a dashboard at 3 a.m.), every process is scraped
on its compose port, and what Grafana and Prometheus read is where docker-compose.yml mounts it.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
INSTALL_PROMTOOL = PROMETHEUS_DIR / "install-promtool.sh"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
PROMTOOL_VERSION = "2.42.0"

# What the processes export (yanxiu.kit.metrics, yanxiu.kit.pool_metrics,
# gateway.ratelimit_shared): name → (type, labels).
# Prometheus adds `job` and `instance` to every series.
METRICS: dict[str, tuple[str, frozenset[str]]] = {
    name: (kind, frozenset(labels.split()))
    for name, kind, labels in (
        ("yanxiu_http_requests_total", "counter", "service method route status"),
        ("yanxiu_http_request_duration_seconds", "histogram", "service method route status"),
        ("yanxiu_http_inflight_requests", "gauge", "service"),
        ("yanxiu_http_rejected_total", "counter", "service reason"),
        ("yanxiu_ready", "gauge", "service"),
        ("yanxiu_broker_reachable", "gauge", "service"),
        ("yanxiu_outbox_unpublished", "gauge", "schema"),
        ("yanxiu_outbox_oldest_unpublished_seconds", "gauge", "schema"),
        ("yanxiu_outbox_published_total", "counter", "schema"),
        ("yanxiu_relay_errors_total", "counter", "schema"),
        ("yanxiu_relay_broker_resets_total", "counter", "schema"),
        ("yanxiu_consumer_lag_messages", "gauge", "consumer topic partition"),
        ("yanxiu_events_handled_total", "counter", "consumer type outcome"),
        ("yanxiu_event_handle_seconds", "histogram", "consumer"),
        ("yanxiu_consumer_retries_total", "counter", "consumer cause"),
        ("yanxiu_consumer_reconnects_total", "counter", "consumer"),
        ("yanxiu_consumer_waiting_for_infrastructure", "gauge", "consumer"),
        ("yanxiu_dead_letters_total", "counter", "service consumer type"),
        ("yanxiu_dlq_messages", "gauge", "service"),
        ("yanxiu_db_pool_connections", "gauge", "service pool state"),
        ("yanxiu_db_pool_waiting", "gauge", "service pool"),
        ("yanxiu_rate_limit_unavailable_total", "counter", "service"),
    )
}
TARGET_LABELS = frozenset({"job", "instance"})
# Series a query may name: the metrics above (a histogram through its _bucket, _sum and _count)
# and Prometheus's own `up`. {series: labels it has}.
SERIES: dict[str, frozenset[str]] = {"up": TARGET_LABELS}
for _name, (_kind, _labels) in METRICS.items():
    if _kind == "histogram":
        SERIES[f"{_name}_bucket"] = _labels | TARGET_LABELS | {"le"}
        SERIES[f"{_name}_sum"] = SERIES[f"{_name}_count"] = _labels | TARGET_LABELS
    else:
        SERIES[_name] = _labels | TARGET_LABELS

SEVERITIES = {"critical", "warning"}
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- promtool


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool of the pinned version: $PROMTOOL if set, else .tools/bin/promtool, installed
    by the project's script when missing. No promtool is a failure, never a skip: CI must not
    pass these tests by not running them."""
    if os.environ.get("PROMTOOL"):
        return os.environ["PROMTOOL"]
    try:
        result = subprocess.run(
            ["bash", str(INSTALL_PROMTOOL)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{INSTALL_PROMTOOL.name} did not finish in 10 minutes", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"could not install promtool with {INSTALL_PROMTOOL.relative_to(ROOT)} "
            f"(exit {result.returncode}); run it by hand (as root, for apt-get update) or set "
            f"PROMTOOL to a promtool {PROMTOOL_VERSION}:\n{result.stdout}{result.stderr}",
            pytrace=False,
        )
    path = ROOT / ".tools" / "bin" / "promtool"
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    assert f"version {PROMTOOL_VERSION}" in version.stdout, version.stdout + version.stderr
    return str(path)


def run_promtool(promtool: str, *args: str | Path) -> str:
    result = subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{output}"
    return output


# --------------------------------------------------------------------------- reading


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load_yaml(COMPOSE_FILE)["services"]
    return services


@functools.cache
def prometheus_config() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(PROMETHEUS_CONFIG)
    return config


def rule_files() -> list[Path]:
    return [PROMETHEUS_DIR / name for name in prometheus_config().get("rule_files") or []]


def alert_rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in rule_files()
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard, those inside (collapsed) rows too."""
    for panel in node.get("panels") or []:
        yield panel
        yield from panels(panel)


def queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable of a dashboard."""
    for panel in panels(board):
        for target in panel.get("targets") or []:
            yield f"panel {panel.get('title')!r} {target.get('refId')}", target["expr"]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            m = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\s*\)\s*", query)
            assert m, f"variable {variable['name']}: not label_values(series, label): {query}"
            yield f"variable {variable['name']}", f"count by ({m.group(2)}) ({m.group(1)})"


def mounts(service: str) -> dict[str, tuple[Path, bool]]:
    """Bind mounts of a compose service: {container path: (host path, read-only)}."""
    result = {}
    for volume in compose_services()[service].get("volumes") or []:
        source, target, *options = volume.split(":")
        if source.startswith("."):
            result[target] = ((ROOT / source).resolve(), "ro" in options)
    return result


def host_path(service: str, container_path: str) -> Path:
    """Where a file the container reads lives in the repository, through the bind mounts."""
    inside = PurePosixPath(container_path)
    for target, (source, _) in mounts(service).items():
        if inside == PurePosixPath(target) or PurePosixPath(target) in inside.parents:
            return source / inside.relative_to(target)
    raise AssertionError(f"{service}: {container_path} is not inside any mount from the repo")


def command_flags(service: str) -> dict[str, str]:
    command = compose_services()[service].get("command") or []
    words = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    return dict(w.removeprefix("--").split("=", 1) for w in words if w.startswith("--"))


# --------------------------------------------------------------------------- PromQL


GRAFANA_VARIABLES = re.compile(r"\$\{?(__rate_interval|__interval|__range)\}?|\$\{?\w+\}?")
STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
MATCHERS = re.compile(r"([A-Za-z_:][\w:]*)?\s*\{([^{}]*)\}")
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without"}


def without_grafana_variables(expr: str) -> str:
    """A dashboard query as Prometheus would receive it (ranges and variables filled in)."""

    def fill(m: re.Match[str]) -> str:
        return "5m" if m.group(1) else ".*"

    return GRAFANA_VARIABLES.sub(fill, expr)


def selectors(expr: str) -> tuple[list[tuple[str, set[str]]], set[str]]:
    """([(series, labels matched on it)], labels grouped by) of a PromQL expression: a
    tokenizer for the subset the dashboards and rules use, not a parser (promtool parses)."""
    text = STRING.sub('""', without_grafana_variables(expr))
    found: list[tuple[str, set[str]]] = []
    grouped: set[str] = set()

    def matcher(m: re.Match[str]) -> str:
        labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", m.group(2)))
        assert m.group(1), f"a selector without a metric name in {expr!r}"
        found.append((m.group(1), labels))
        return " "

    def grouping(m: re.Match[str]) -> str:
        grouped.update(label.strip() for label in m.group(2).split(",") if label.strip())
        return " "

    text = MATCHERS.sub(matcher, text)
    text = GROUPING.sub(grouping, text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    for name in IDENTIFIER.findall(text):
        if name.lower() not in KEYWORDS:
            found.append((name, set()))
    return found, grouped


def unknown_names(expr: str) -> list[str]:
    """What a query names that the code does not export: series, or labels they lack."""
    found, grouped = selectors(expr)
    problems = [f"series {name}" for name, _ in found if name not in SERIES]
    if not found:
        problems.append("no series at all")
    available: set[str] = set()
    for name, labels in found:
        if name in SERIES:
            available |= SERIES[name]
            problems += [f"label {label} on {name}" for label in sorted(labels - SERIES[name])]
    problems += [f"grouping label {label}" for label in sorted(grouped - available)]
    return problems


# --------------------------------------------------------------------------- Prometheus


def test_promtool_accepts_the_prometheus_config(promtool: str, tmp_path: Path) -> None:
    """`promtool check config` also reads the rule files and the credentials file: the copy
    checked here points at the repository's rules and at a stand-in for the compose secret."""
    config = copy.deepcopy(prometheus_config())
    config["rule_files"] = [str(path) for path in rule_files()]
    token = tmp_path / "gateway_metrics_token"
    token.write_text("not-a-real-token", encoding="utf-8")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config), encoding="utf-8")
    output = run_promtool(promtool, "check", "config", checked)
    assert f"SUCCESS: {len(rule_files())} rule files found" in output, output


def test_promtool_accepts_the_alert_rules(promtool: str) -> None:
    assert rule_files(), "prometheus.yml loads no rule files"
    run_promtool(promtool, "check", "rules", *rule_files())


def test_alert_rules_pass_their_unit_tests(promtool: str) -> None:
    assert RULE_TESTS, "no promtool unit tests in deploy/prometheus/tests"
    output = run_promtool(promtool, "test", "rules", *RULE_TESTS)
    assert "FAILED" not in output, output


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    fired = {
        case["alertname"]
        for path in RULE_TESTS
        for test in load_yaml(path)["tests"]
        for case in test.get("alert_rule_test") or []
        if case.get("exp_alerts")
    }
    untested = sorted({rule["alert"] for rule in alert_rules()} - fired)
    assert not untested, f"alerts no unit test shows firing: {untested}"


def test_the_required_alerts_are_tested_both_ways() -> None:
    """Lag, dead letters, 5xx, outbox age, p99 and the broker each have a case that fires and
    one that must not."""
    cases: dict[str, set[bool]] = {}
    for path in RULE_TESTS:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test") or []:
                cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    for alert in (
        "YanxiuConsumerLagGrowing",
        "YanxiuDeadLetterQueueNotEmpty",
        "YanxiuHighServerErrorRatio",
        "YanxiuOutboxEventsDelayed",
        "YanxiuLatencyP99OverBudget",
        "YanxiuBrokerUnreachable",
    ):
        assert cases.get(alert) == {True, False}, f"{alert}: fires and stays quiet? {cases}"


def test_every_alert_says_how_bad_what_and_where_to_look() -> None:
    rules = alert_rules()
    assert rules
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), f"duplicate alert names: {names}"
    for rule in rules:
        name, annotations = rule["alert"], rule.get("annotations") or {}
        assert (rule.get("labels") or {}).get("severity") in SEVERITIES, name
        for key in ("summary", "description", "runbook"):
            assert str(annotations.get(key, "")).strip(), f"{name} has no {key}"
        assert CJK.search(annotations["summary"]), f"{name}: summary without its Chinese name"


def test_alert_rules_name_only_exported_metrics() -> None:
    for rule in alert_rules():
        problems = unknown_names(rule["expr"])
        assert not problems, f"{rule['alert']}: {problems}"


def test_prometheus_scrapes_every_process_on_its_compose_port() -> None:
    """One job per process, named as its compose service, on the port its uvicorn listens on."""
    processes = {}
    for name, svc in compose_services().items():
        command = [str(c) for c in svc.get("command") or []]
        if command[:1] == ["uvicorn"]:
            processes[name] = f"{name}:{command[command.index('--port') + 1]}"
    assert len(processes) == 6, processes
    jobs = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in prometheus_config()["scrape_configs"]
    }
    assert jobs == {name: [target] for name, target in processes.items()}
    for name, target in processes.items():
        port = target.rsplit(":", 1)[1]
        assert port in {str(p) for p in compose_services()[name].get("expose") or []}, name


def test_the_gateway_is_scraped_with_its_metrics_token_and_only_it() -> None:
    """The bearer token Prometheus sends is the compose secret made from the very variable the
    gateway compares it with."""
    compose = load_yaml(COMPOSE_FILE)
    prometheus = compose["services"]["prometheus"]
    mounted = {}
    for secret in prometheus.get("secrets") or []:
        source = secret if isinstance(secret, str) else secret["source"]
        target = source if isinstance(secret, str) else secret.get("target", source)
        mounted[target if target.startswith("/") else f"/run/secrets/{target}"] = source
    for job in prometheus_config()["scrape_configs"]:
        authorization = job.get("authorization")
        if job["job_name"] != "gateway":
            assert not authorization, f"{job['job_name']} needs no credentials"
            continue
        assert authorization and authorization.get("type", "Bearer") == "Bearer"
        path = authorization["credentials_file"]
        assert path in mounted, f"{path} is not a secret mounted in the prometheus service"
        variable = compose["secrets"][mounted[path]].get("environment")
        gateway_env = compose["services"]["gateway"]["environment"]
        assert variable == "GATEWAY_METRICS_TOKEN"
        assert re.fullmatch(r"\$\{GATEWAY_METRICS_TOKEN:\?[^}]*\}", gateway_env[variable])


def test_prometheus_reads_its_config_and_rules_from_the_read_only_mount() -> None:
    flags = command_flags("prometheus")
    config = host_path("prometheus", flags["config.file"])
    assert config == PROMETHEUS_CONFIG.resolve()
    assert all(read_only for _, read_only in mounts("prometheus").values()), "mount it :ro"
    for path in rule_files():
        assert path.is_file(), f"rule file {path} missing"
        assert PROMETHEUS_DIR.resolve() in path.resolve().parents, f"{path} is not mounted"


# --------------------------------------------------------------------------- Grafana


@functools.cache
def datasources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((GRAFANA_DIR / "provisioning" / "datasources").glob("*.yml")):
        found += load_yaml(path).get("datasources") or []
    return found


def test_grafana_provisioning_and_dashboards_are_mounted_where_it_reads_them() -> None:
    grafana = mounts("grafana")
    assert all(read_only for _, read_only in grafana.values()), "mount them :ro"
    assert host_path("grafana", "/etc/grafana/provisioning") == (GRAFANA_DIR / "provisioning")
    providers = [
        provider
        for path in sorted((GRAFANA_DIR / "provisioning" / "dashboards").glob("*.yml"))
        for provider in load_yaml(path).get("providers") or []
    ]
    assert providers, "no dashboard provider"
    for provider in providers:
        folder = host_path("grafana", provider["options"]["path"])
        assert folder == (GRAFANA_DIR / "dashboards").resolve(), provider
    home = compose_services()["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert host_path("grafana", home).is_file(), f"home dashboard {home} is not a dashboard"


def test_grafana_reads_the_compose_prometheus() -> None:
    assert len(datasources()) == 1, "one data source: the compose Prometheus"
    source = datasources()[0]
    assert source["type"] == "prometheus" and source.get("isDefault") is True
    url = urlsplit(source["url"])
    assert url.hostname in compose_services(), f"{url.hostname} is not a compose service"
    assert str(url.port) in {str(p) for p in compose_services()[url.hostname]["expose"]}
    assert f"127.0.0.1:{url.port}/" in " ".join(
        compose_services()[url.hostname]["healthcheck"]["test"]
    ), "the data source's port is not the one Prometheus listens on"
    assert compose_services()["grafana"]["depends_on"][url.hostname]["condition"] == (
        "service_healthy"
    )


def test_there_is_an_overview_an_events_and_a_per_process_dashboard() -> None:
    uids = [dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(uids) == len(set(uids)), f"duplicate dashboard uids: {uids}"
    jobs = {job["job_name"] for job in prometheus_config()["scrape_configs"]}
    expected = {"yanxiu-overview", "yanxiu-events"} | {f"yanxiu-service-{j}" for j in jobs}
    assert expected <= set(uids), f"missing dashboards: {sorted(expected - set(uids))}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_panels_query_the_provisioned_prometheus(path: Path) -> None:
    board = dashboard(path)
    uid = datasources()[0]["uid"]
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    for panel in panels(board):
        if panel["type"] == "row":
            continue
        assert panel.get("title") and panel.get("targets"), panel.get("title")
        for source in (panel, *panel["targets"]):
            assert source["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            assert variable["datasource"]["uid"] == uid, variable["name"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_queries_name_only_exported_metrics_and_labels(path: Path) -> None:
    problems = {
        where: unknown
        for where, expr in queries(dashboard(path))
        if (unknown := unknown_names(expr))
    }
    assert not problems, problems


def test_promtool_parses_every_dashboard_query(promtool: str, tmp_path: Path) -> None:
    """Each query, Grafana's variables filled in, as a recording rule: promtool parses it."""
    rules = [
        {
            "record": f"dashboard:{path.stem.replace('-', '_')}:{i}",
            "expr": without_grafana_variables(expr),
        }
        for path in DASHBOARDS
        for i, (_, expr) in enumerate(queries(dashboard(path)))
    ]
    assert rules
    check = tmp_path / "dashboard_queries.yml"
    check.write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": rules}]}), "utf-8")
    run_promtool(promtool, "check", "rules", check)


# --------------------------------------------------------------------------- the code


def exported_metrics() -> dict[str, tuple[str, frozenset[str]]]:
    """What the processes register: the module-level metrics (the kit's, the gateway's shared
    rate limits') and the pools' collector."""
    from gateway import ratelimit_shared
    from yanxiu.kit import metrics, pool_metrics

    found: dict[str, tuple[str, frozenset[str]]] = {}
    for value in [*vars(metrics).values(), *vars(ratelimit_shared).values()]:
        if isinstance(value, MetricWrapperBase):
            kind = str(value._type)
            name = value._name + ("_total" if kind == "counter" else "")
            found[name] = (kind, frozenset(value._labelnames))
    for family in pool_metrics.POOLS.collect():
        found[family.name] = (str(family.type), frozenset(family._labelnames))
    return found


def test_the_metrics_the_dashboards_use_are_the_ones_the_code_exports() -> None:
    exported = exported_metrics()
    for name, (kind, labels) in METRICS.items():
        assert name in exported, f"{name} is used by deploy/ but not exported by the code"
        assert exported[name] == (kind, labels), f"{name}: code has {exported[name]}"


def test_the_query_checker_refuses_unknown_metrics_and_labels() -> None:
    assert unknown_names("sum by (service) (rate(yanxiu_http_requests_total[5m]))") == []
    assert unknown_names('yanxiu_http_request_total{service="x"}') == [
        "series yanxiu_http_request_total"
    ]
    assert unknown_names('yanxiu_dlq_messages{schema="x"}') == [
        "label schema on yanxiu_dlq_messages"
    ]
    assert unknown_names("sum by (outcome) (yanxiu_consumer_lag_messages)") == [
        "grouping label outcome"
    ]
    assert unknown_names("yanxiu_event_handle_seconds") == ["series yanxiu_event_handle_seconds"]
