"""compose.yaml: valid for Docker Compose, and shaped as the deployment guide says (Kafka not published,
only the dashboard on 127.0.0.1, scalable services without fixed names or host ports)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
APP_SERVICES = ("fetcher", "processor", "scheduler", "meta", "notifier", "dashboard")


def compose_command() -> list[str] | None:
    """``docker compose`` (the CLI plugin) or a standalone ``docker-compose`` v2+; None without either."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        probe = subprocess.run([*argv, "version"], capture_output=True, text=True, check=False)
        # v2+ says "Docker Compose version v2.40.3"; v1 said "docker-compose version 1.29.2".
        if probe.returncode == 0 and "Docker Compose version" in probe.stdout:
            return argv
    return None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    argv = compose_command()
    if argv is None:
        pytest.skip("no Docker Compose v2 client (docker compose / docker-compose) on this machine")
    return argv


def run_config(compose: list[str], *args: str, profile: str | None = None) -> str:
    """``docker compose [--profile P] -f compose.yaml config ARGS``, with no OWSTREAM_* or POSTGRES_*
    variables from the caller's environment so the file's defaults are what is checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OWSTREAM_", "POSTGRES_"))}
    if profile == "postgres":
        env["POSTGRES_PASSWORD"] = "test-only"
    global_args = ["--profile", profile] if profile else []
    result = subprocess.run(
        [*compose, *global_args, "-f", str(COMPOSE), "config", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_text_has_no_fixed_container_names_and_pins_kafka() -> None:
    """Needs no docker: the checks a plain read of the file can make."""
    text = COMPOSE.read_text()
    assert "container_name" not in text  # `--scale fetcher=3` needs generated names
    assert "image: apache/kafka:4.1.1" in text
    assert "0.0.0.0:" not in text  # nothing published on every interface


def test_compose_file_is_valid(compose: list[str]) -> None:
    run_config(compose, "-q")


@pytest.fixture(scope="module")
def model(compose: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(run_config(compose, "--format", "json"))
    return parsed


def test_kafka_is_kraft_single_node_and_not_published(model: dict[str, Any]) -> None:
    kafka = model["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.1"
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    assert not kafka.get("ports")


def test_only_the_dashboard_is_published_on_loopback(model: dict[str, Any]) -> None:
    services = model["services"]
    published = {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}
    assert list(published) == ["dashboard"]
    (port,) = published["dashboard"]
    assert port["host_ip"] == "127.0.0.1"
    assert str(port["published"]) == "8501" and port["target"] == 8501


def test_app_services_wait_for_a_healthy_kafka_and_can_scale(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in APP_SERVICES:
        svc = services[name]
        assert svc["environment"]["OWSTREAM_KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy", name
        assert "container_name" not in svc, name
        assert svc["command"][:2] == ["owstream", "run"] and svc["command"][2] == name
    store_users = ("fetcher", "processor", "scheduler", "notifier", "dashboard")  # all share one store
    store_urls = {services[n]["environment"]["OWSTREAM_STORE_URL"] for n in store_users}
    assert store_urls == {"sqlite:////data/owstream.db"}
    volumes = {n: frozenset(v["source"] for v in services[n].get("volumes", [])) for n in store_users}
    assert set(volumes.values()) == {frozenset({"owstream-data"})}
    assert "postgres" not in services  # only with --profile postgres


def test_postgres_profile_adds_a_healthy_postgres(compose: list[str]) -> None:
    model = json.loads(run_config(compose, "--format", "json", profile="postgres"))
    postgres = model["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert not postgres.get("ports")
    processor = model["services"]["processor"]
    assert processor["depends_on"]["postgres"]["condition"] == "service_healthy"
