"""compose.yaml as Docker Compose reads it (``docker compose config``): shaped as the deployment guide says
(Kafka not published, only the dashboard on 127.0.0.1, scalable services without fixed names or host ports),
every store user on the data volume, every container with a health check, the image built by one service,
the settings file forwarded, and Kafka sized like the local broker."""

from __future__ import annotations

import re
from typing import Any

import pytest
from composetools import ROOT, Compose

from owstream.localkafka.broker import JVM_FLAGS
from owstream.localkafka.cluster import SMALL_MACHINE
from owstream.localkafka.jars import KAFKA_VERSION

APP = ("fetcher", "processor", "singletons", "dashboard")  # the owstream containers of the default profile
IMAGE = "owstream:local"


@pytest.fixture(scope="module")
def model(compose: Compose) -> dict[str, Any]:
    return compose.model()


def test_the_text_has_no_fixed_container_names_and_publishes_nothing_on_every_interface() -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert "container_name" not in text  # `--scale fetcher=3` needs generated names
    assert "0.0.0.0:" not in text


def test_kafka_is_the_version_of_the_local_brokers_jars(model: dict[str, Any]) -> None:
    assert model["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"


def test_kafka_is_kraft_single_node_and_not_published(model: dict[str, Any]) -> None:
    kafka = model["services"]["kafka"]
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert not kafka.get("ports")


def test_kafka_has_the_local_brokers_settings_and_jvm_flags_through_the_images_variables(
    model: dict[str, Any],
) -> None:
    env = model["services"]["kafka"]["environment"]
    for key, value in SMALL_MACHINE.items():
        variable = "KAFKA_" + key.upper().replace(".", "_")
        assert env.get(variable) == value, variable
    assert env["KAFKA_JVM_PERFORMANCE_OPTS"].split() == JVM_FLAGS
    assert env["KAFKA_HEAP_OPTS"] == "-Xms32m -Xmx192m"  # the local broker's default (config.py)


def test_kafkas_image_volumes_are_mounted_so_no_anonymous_volume_is_made(model: dict[str, Any]) -> None:
    targets = {v["target"]: v["type"] for v in model["services"]["kafka"]["volumes"]}
    assert targets == {"/var/lib/kafka/data": "volume", "/etc/kafka/secrets": "tmpfs", "/mnt/shared/config": "tmpfs"}


def test_only_the_dashboard_is_published_on_loopback(model: dict[str, Any]) -> None:
    published = {name: svc["ports"] for name, svc in model["services"].items() if svc.get("ports")}
    assert list(published) == ["dashboard"]
    (port,) = published["dashboard"]
    assert port["host_ip"] == "127.0.0.1" and port["target"] == 8501


def test_one_service_builds_the_image_the_others_run(model: dict[str, Any]) -> None:
    services = model["services"]
    builders = [name for name, svc in services.items() if "build" in svc]
    assert builders == ["dashboard"]
    assert {services[name]["image"] for name in (*APP, "simulator")} == {IMAGE}


def test_every_service_that_opens_the_store_is_on_the_data_volume(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in APP:
        svc = services[name]
        assert [(v["source"], v["target"]) for v in svc["volumes"]] == [("owstream-data", "/data")], name
        assert svc["environment"]["OWSTREAM_STORE_URL"] == "sqlite:////data/owstream.db", name
        assert svc["environment"]["OWSTREAM_HOME"] == "/data", name


def test_every_container_has_a_health_check(compose: Compose) -> None:
    model = compose.model("postgres")
    for name, svc in model["services"].items():
        check = svc.get("healthcheck", {})
        assert not check.get("disable") and check.get("test"), name


def test_the_app_services_wait_for_kafka_and_scale_without_fixed_names(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in APP:
        svc = services[name]
        assert svc["environment"]["OWSTREAM_KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy", name
        assert svc["environment"]["OWSTREAM_INSTANCE_ID"] == "", name  # the host name: one per container
        assert "container_name" not in svc, name
    commands = {name: services[name]["command"] for name in APP}
    assert commands["fetcher"][:3] == ["owstream", "run", "fetcher"]
    assert commands["processor"][:3] == ["owstream", "run", "processor"]
    assert commands["singletons"][:5] == ["owstream", "run", "scheduler", "meta", "notifier"]
    assert commands["dashboard"] == ["owstream", "run", "dashboard"]


def test_any_setting_in_the_env_file_reaches_every_owstream_service(compose: Compose) -> None:
    compose.write_settings(OWSTREAM_NOTIFY_MAX_ATTEMPTS="3", OWSTREAM_HOME="/somewhere/else")
    try:
        services = compose.model()["services"]
    finally:
        compose.write_settings(OWSTREAM_NOTIFY_MAX_ATTEMPTS="", OWSTREAM_HOME="")
    for name in APP:
        env = services[name]["environment"]
        assert env["OWSTREAM_NOTIFY_MAX_ATTEMPTS"] == "3", name  # a setting compose.yaml never names
        assert env["OWSTREAM_HOME"] == "/data", name  # what describes the container wins over the file


def test_the_demo_profile_runs_the_simulator_on_the_compose_network_only(compose: Compose) -> None:
    services = compose.model("demo")["services"]
    simulator = services["simulator"]
    assert simulator["command"] == ["owstream", "simulate", "--host", "0.0.0.0", "--port", "8080"]
    assert not simulator.get("ports")
    assert services["fetcher"]["depends_on"]["simulator"]["condition"] == "service_healthy"


def test_the_postgres_profile_adds_a_healthy_postgres_the_services_wait_for(compose: Compose) -> None:
    compose.write_settings(POSTGRES_PASSWORD="test-only")
    try:
        services = compose.model("postgres")["services"]
    finally:
        compose.write_settings(POSTGRES_PASSWORD="")
    postgres = services["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert not postgres.get("ports")
    assert services["processor"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_kafka_health_check_is_an_api_versions_request_with_no_error(model: dict[str, Any]) -> None:
    probe = " ".join(model["services"]["kafka"]["healthcheck"]["test"])
    # size, api key 18 (ApiVersions), version 0, correlation id 1; the answer: correlation id 1, error 0
    assert "\\x00\\x00\\x00\\x0c\\x00\\x12\\x00\\x00\\x00\\x00\\x00\\x01" in probe
    assert re.search(r"000000010000", probe)
