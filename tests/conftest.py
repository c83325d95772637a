"""Shared fixtures. The Kafka fixtures start one real broker per test session (KRaft, 127.0.0.1,
free ports, a temporary directory) through owstream's own LocalBroker; each test gets its own topic
prefix, so its own topics and consumer groups."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from owstream.config import Settings

OVERFAST = Path(__file__).resolve().parent / "fixtures" / "overfast"  # recorded real answers
_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--busy-machine",
        action="store_true",
        help="keep the CPUs busy (spinning processes, load >= 7 on 2 cores) for the whole run, as the busy CI "
        "machine where the restart and outage tests once failed",
    )


@pytest.fixture(scope="session", autouse=True)
def busy_run(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``--busy-machine`` (or OWSTREAM_TEST_BUSY=1): the whole session on a machine kept busy."""
    if not (request.config.getoption("--busy-machine") or os.environ.get("OWSTREAM_TEST_BUSY") == "1"):
        yield
        return
    from support.busy import busy_cpus

    with busy_cpus():
        yield


@pytest.fixture
def busy_machine() -> Iterator[list[int]]:
    """The CPUs kept busy for one test (spinning processes, load >= 7 on 2 cores); they are killed in the
    teardown, whatever ended the test (a failure, pytest-timeout's signal)."""
    from support.busy import busy_cpus

    with busy_cpus() as pids:
        yield pids


@pytest.fixture(scope="session")
def jar_home() -> Path:
    """Where the session's broker finds its jars: a persistent cache, so only the first run resolves them."""
    home = Path(os.environ.get("OWSTREAM_TEST_JAR_HOME", Path.home() / ".cache" / "owstream-test"))
    home.mkdir(parents=True, exist_ok=True)
    return home


@pytest.fixture(scope="session")
def kafka_settings(tmp_path_factory: pytest.TempPathFactory, jar_home: Path) -> Iterator[Settings]:
    """Settings of a real broker started for this test session. Before it stops, every owstream topic on it
    is checked against its schema (tests/support/contracts.py)."""
    from owstream.localkafka import LocalBroker, free_port
    from owstream.localkafka.jars import ensure_jars, jars_dir
    from support.contracts import check_broker

    home = tmp_path_factory.mktemp("kafka-home")
    ensure_jars(jar_home)
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(jar_home), target_is_directory=True)
    settings = Settings(
        home=home,
        kafka_bootstrap="",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_partitions=3,
        store_url=f"sqlite:///{home / 'unused.db'}",
    )
    broker = LocalBroker(settings)
    broker.start()
    try:
        yield settings
        check_broker(settings)  # the topics of tests that used the broker without the `kafka` fixture too
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{os.getpid()}-{next(_counter)}"


@pytest.fixture
def forged() -> set[tuple[str, int, int]]:
    """(topic, partition, offset) of each message a test forged on purpose on a topic only owstream writes
    (poison on player-events): the ``kafka`` fixture's closing check leaves out these, and only these."""
    return set()


@pytest.fixture
def kafka(
    kafka_settings: Settings, topic_prefix: str, tmp_path: Path, forged: set[tuple[str, int, int]]
) -> Iterator[Settings]:
    """Settings for one test: the session broker, the test's own topics/groups, its own store. When the test
    is done, every message owstream produced on its topics is checked against its JSON Schema."""
    from owstream.runtime.kafka import ensure_kafka
    from support.contracts import check_topics

    settings = kafka_settings.replace(topic_prefix=topic_prefix, store_url=f"sqlite:///{tmp_path / 'store.db'}")
    ensure_kafka(settings, start_local=False)
    yield settings
    check_topics(settings, forged=forged)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings that touch nothing outside the test's directory (no .env, no real home)."""

    def make(**overrides: object) -> Settings:
        base: dict[str, object] = {"home": tmp_path / "home"}
        return Settings(**(base | overrides))  # type: ignore[arg-type]

    return make
