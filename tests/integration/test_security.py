"""Kafka security, tested on a broker that has it: SASL_SSL with SCRAM-SHA-512 on 127.0.0.1 (a CA and a
certificate made by the test, credentials created at format time; tests/support/secure_broker.py). A fetch
goes through the whole pipeline with the OWSTREAM_KAFKA_* settings; a wrong password or an untrusted
certificate is one clear line, not a hang; PLAINTEXT clients get nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.bus import Admin, Producer, TopicNames, read_all
from owstream.bus.acls import apply_acls
from owstream.config import Secret, Settings
from owstream.errors import BusError, KafkaRefused, KafkaUnavailable
from owstream.runtime.kafka import ensure_kafka
from owstream.runtime.status import kafka_status
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background, make_service
from owstream.store import Store
from support.contracts import check_broker, check_topics
from support.env import owstream_env
from support.homes import broker_home
from support.pipeline import request_and_wait, wait_for
from support.replay_server import ReplayServer
from support.secure_broker import SecureBroker, start_secure_broker

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory, jar_home: Path) -> Iterator[SecureBroker]:
    broker = start_secure_broker(broker_home(tmp_path_factory.mktemp("secure-home"), jar_home))
    try:
        yield broker
        check_broker(broker.settings)  # every topic the module's tests wrote, over SASL_SSL
    finally:
        broker.stop()


def test_a_fetch_goes_through_the_pipeline_over_sasl_ssl(secure: SecureBroker, tmp_path: Path) -> None:
    with ReplayServer() as replay:
        configured = secure.settings.replace(
            topic_prefix="secure", overfast_url=replay.url, rate_limit=50.0,
            store_url=f"sqlite:///{tmp_path / 'store.db'}",
        )  # fmt: skip
        # What a service reads from its environment: the OWSTREAM_KAFKA_* security settings.
        settings = Settings.from_env(owstream_env(configured), env_file=None)
        assert settings.kafka_security_protocol == "SASL_SSL"
        assert settings.kafka_sasl_password == configured.kafka_sasl_password
        ensure_kafka(settings, start_local=False)
        store = Store.open(settings.resolved_store_url)
        try:
            with in_background([Fetcher(settings), Processor(settings, store)]) as died:
                state = request_and_wait(settings, "TeKrop-2217")
                assert died() == []
            assert state.outcome == "ok"
            report = store.player_report("TeKrop-2217")
            assert report is not None and report["gamemodes"]["competitive"]["overall"]["games_played"] > 0
        finally:
            store.close()
        assert check_topics(settings) >= 2  # the request and the result, read back over SASL_SSL
        groups = {g["group"] for g in kafka_status(settings)["groups"]}
        assert TopicNames("secure").group("processor") in groups


def _wrong_password(secure: SecureBroker) -> Settings:
    return secure.settings.replace(kafka_sasl_password=Secret("not-the-password"))


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owstream.cli", *args],
        capture_output=True, text=True, env=owstream_env(settings), timeout=45, check=False,
    )  # fmt: skip


def test_a_wrong_password_is_one_clear_line_not_a_hang(secure: SecureBroker) -> None:
    wrong = _wrong_password(secure)
    with pytest.raises(KafkaRefused, match="invalid credentials"):
        kafka_status(wrong)
    status = _cli(wrong, "kafka", "status")
    assert status.returncode == 1
    lines = [ln for ln in status.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, status.stderr
    assert "refused this client" in lines[0] and "invalid credentials" in lines[0]
    assert "not-the-password" not in status.stderr
    # A service refuses to start, ending on that line, long before its 60 s wait for Kafka would be over
    # (its log above the line keeps librdkafka's own warnings, as a service's log does).
    service = _cli(wrong, "run", "fetcher")
    assert service.returncode == 1
    assert "refused this client" in service.stderr.strip().splitlines()[-1]


def test_a_certificate_from_an_unknown_ca_is_refused(secure: SecureBroker) -> None:
    untrusting = secure.settings.replace(kafka_ssl_ca_location="")  # the system store: not the test's CA
    with Admin(untrusting) as admin, pytest.raises(KafkaRefused, match="certificate verify failed"):
        admin.wait_ready(timeout=30)


def test_plaintext_clients_are_refused(secure: SecureBroker) -> None:
    plaintext = secure.settings.replace(kafka_security_protocol="PLAINTEXT", kafka_sasl_mechanism="")
    with Admin(plaintext) as admin:
        assert not admin.ping(timeout=3)
        with pytest.raises(KafkaUnavailable, match="OWSTREAM_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
            admin.wait_ready(timeout=3)
    producer = Producer(plaintext, **{"message.timeout.ms": 3000})
    producer.send(TopicNames("secure").fetch_requests, b"never", key="Nobody-1")
    with pytest.raises(BusError):  # never acknowledged: timed out
        producer.flush(timeout=10)


def test_each_service_has_its_own_principal_allowed_only_its_part(secure: SecureBroker, tmp_path: Path) -> None:
    with ReplayServer() as replay:
        admin_settings = secure.settings.replace(
            topic_prefix="least", overfast_url=replay.url, rate_limit=50.0,
            store_url=f"sqlite:///{tmp_path / 'store.db'}",
        )  # fmt: skip
        ensure_kafka(admin_settings, start_local=False)  # an administrator creates the topics...
        users = {service: user for service, (user, _password) in secure.service_users.items()}
        with Admin(admin_settings) as admin:
            assert apply_acls(admin, "least", users) > 0  # ...and grants each service its part
        settings = secure.with_service_users(admin_settings)
        assert settings.for_service("fetcher").kafka_sasl_username == "owstream-fetcher"
        store = Store.open(settings.resolved_store_url)
        try:  # the whole pipeline, each service as its own principal, a request as the dashboard's
            with in_background([make_service("fetcher", settings), make_service("processor", settings)]) as died:
                state = request_and_wait(settings.for_service("dashboard"), "TeKrop-2217")
                assert died() == []
            assert state.outcome == "ok" and store.player_report("TeKrop-2217") is not None
        finally:
            store.close()

    names = TopicNames("least")
    denied = [
        ("dashboard", names.fetch_results),  # a visitor's client cannot forge a result...
        ("dashboard", names.player_events),  # ...nor an event
        ("scheduler", names.fetch_results),
        ("notifier", names.player_events),  # the notifier writes only dead letters
        ("notifier", names.fetch_requests),
        ("meta", names.fetch_results),
        ("fetcher", names.hero_stats),
        ("processor", names.fetch_requests),
    ]
    for service, topic in denied:
        producer = Producer(settings.for_service(service), idempotent=False, **{"message.timeout.ms": 10000})
        producer.send(topic, b'{"player_id": "Forged-1234"}', key="Forged-1234")
        with pytest.raises(BusError, match=r"Topic authorization failed|TOPIC_AUTHORIZATION_FAILED"):
            producer.flush(timeout=20)
        producer.close()
    allowed = Producer(settings.for_service("scheduler"), idempotent=False)
    allowed.send(names.fetch_requests, b'{"player_id": "TeKrop-2217"}', key="TeKrop-2217")
    assert allowed.flush(timeout=20) == 0
    allowed.close()
    results = [r for batch in read_all(admin_settings, names.fetch_results) for r in batch]
    assert results and all(r.key != "Forged-1234" for r in results)  # nothing forged got in
    # ...which it may: poison on player-events (written by the administrator) is dead-lettered by the notifier
    poison = Producer(admin_settings)
    poison.send(names.player_events, b"not an event", key="Poison-1234")
    assert poison.flush(timeout=20) == 0
    poison.close()
    with in_background([make_service("notifier", settings)]) as died:
        letters = wait_for(
            lambda: [r for b in read_all(admin_settings, names.dead_letter) for r in b], timeout=60, interval=1.0
        )
        assert died() == []
    assert [json.loads(r.value)["service"] for r in letters] == ["notifier"]
    letter = json.loads(letters[0].value)
    forged = {(letter["source_topic"], letter["source_partition"], letter["source_offset"])}
    assert {t for t, _p, _o in forged} == {names.player_events}
    check_topics(admin_settings, forged=forged)  # the services' messages keep their contracts; the poison is ours
    try:  # the notifier may not read the results the administrator reads
        seen = [
            r for batch in read_all(settings.for_service("notifier"), names.fetch_results, timeout=5) for r in batch
        ]
    except BusError as exc:
        assert "uthoriz" in str(exc)  # refused outright, or...
        seen = []
    assert seen == []  # ...given nothing
