"""The dashboard's Pipeline page on the real broker of the session: topics, groups, brokers and
under-replicated partitions come from ``kafka_status``."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import Settings, get_settings
from owstream.dashboard.views.pipeline import broker_table, under_replicated_table

pytestmark = pytest.mark.kafka


def _script() -> None:
    from owstream.dashboard.views import pipeline

    pipeline.render()


def test_the_pipeline_page_shows_the_brokers_and_no_under_replicated_partition(
    kafka: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in kafka.as_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_function(_script, default_timeout=60).run()
        assert not at.exception
        tables = {t.value.index.name: t.value for t in at.table}
        brokers = tables["Broker"]
        assert list(brokers.index) == [1]
        assert brokers.loc[1, "Alive"] == "yes"
        assert brokers.loc[1, "Address"] == kafka.bootstrap_servers
        assert "Every partition has all its replicas in sync." in [s.value for s in at.success]
        assert {m.label for m in at.metric} >= {"Dead letters", "Consumer lag"}
    finally:
        get_settings.cache_clear()
        st.cache_data.clear()


def test_a_dead_broker_and_its_partitions_are_tabled() -> None:
    status = {
        "brokers": [
            {"id": 1, "address": "127.0.0.1:1", "controller": True, "alive": True, "pid": 10},
            {"id": 2, "address": "127.0.0.1:2", "controller": True, "alive": False, "pid": 11},
        ],
        "under_replicated": [
            {"topic": "t.fetch-results", "partition": 0, "leader": -1, "replicas": [2, 1], "isr": [1]}
        ],
    }
    brokers = {row["Broker"]: row for row in broker_table(status)}
    assert brokers[2]["Alive"] == "no" and brokers[1]["Roles"] == "broker, controller"
    assert under_replicated_table(status) == [
        {"Partition": "t.fetch-results [0]", "Leader": "none", "Replicas": "2, 1", "In sync": "1"}
    ]
