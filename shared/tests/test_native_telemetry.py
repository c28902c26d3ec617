"""FastAPI's native OpenTelemetry is on only where an exporter is named in the environment:
otherwise every request would ask OpenTelemetry's globals for providers that are not there."""

from __future__ import annotations

import pytest

from yanxiu.kit.app import fastapi_telemetry


def test_without_an_exporter_native_telemetry_is_off() -> None:
    assert fastapi_telemetry({}) == {
        "tracing": False,
        "metrics": False,
        "logs": False,
        "auto_configure": False,
    }


@pytest.mark.parametrize(
    "name", ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "FASTAPI_OTEL_AUTO_CONFIGURE"]
)
def test_an_exporter_named_in_the_environment_turns_it_on(name: str) -> None:
    assert fastapi_telemetry({name: "http://collector:4318"}) == {
        "tracing": True,
        "metrics": True,
        "logs": True,
        # yanxiu.kit.telemetry installs the tracer provider: FastAPI adding its own exporter to
        # it would send every span twice.
        "auto_configure": False,
    }


def test_the_sdk_switched_off_keeps_it_off() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    assert fastapi_telemetry(env)["tracing"] is False


def test_the_services_and_the_gateway_are_built_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from enrollment.main import create_app as enrollment_app
    from gateway.main import create_app as gateway_app

    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "FASTAPI_OTEL_AUTO_CONFIGURE",
    ):
        monkeypatch.delenv(name, raising=False)
    for app in (enrollment_app(), gateway_app()):
        config = app._telemetry
        assert (config["tracing"], config["metrics"], config["logs"]) == (False, False, False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert enrollment_app()._telemetry["tracing"] is True
