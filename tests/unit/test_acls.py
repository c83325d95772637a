"""The ACL table is the topics' contract turned into rights: each topic written only by its producers in
docs/topics.md, docs showing the table the code grants, and each service connecting as its own principal."""

from __future__ import annotations

from pathlib import Path

from owstream.bus.acls import SERVICES, acl_table, bindings, markdown_table
from owstream.config import Secret, Settings

ROOT = Path(__file__).resolve().parents[2]


def writers(prefix: str = "p") -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for service, grants in acl_table(prefix).items():
        for g in grants:
            if g.resource == "topic" and g.operation == "WRITE":
                out.setdefault(g.name.removeprefix(f"{prefix}."), set()).add(service)
    return out


def test_each_topic_is_written_only_by_its_producers() -> None:
    assert writers() == {
        "fetch-requests": {"dashboard", "scheduler"},
        "fetch-results": {"fetcher"},
        "player-events": {"fetcher", "processor"},
        "dead-letter": {"fetcher", "notifier", "processor"},
        "hero-stats": {"meta"},
    }
    table = acl_table("p")
    notifier_may = [
        (g.resource, g.name) for g in table["notifier"] if g.operation in ("WRITE", "ALTER", "CREATE", "ALL")
    ]
    assert notifier_may == [("topic", "p.dead-letter")]  # its dead letters, nothing else
    assert {g.name for g in table["dashboard"] if g.operation == "WRITE"} == {"p.fetch-requests"}


def test_only_the_transactional_services_hold_transactional_ids_of_their_own() -> None:
    held = {
        service: {g.name for g in grants if g.resource == "transactional-id"}
        for service, grants in acl_table("p").items()
    }
    assert held == {s: {"p.fetcher."} if s == "fetcher" else {"p.processor."} if s == "processor" else set()
                    for s in SERVICES}  # fmt: skip


def test_bindings_name_each_services_user_and_skip_services_without_one() -> None:
    made = bindings("p", {"fetcher": "owstream-fetcher", "notifier": "owstream-notifier"})
    assert {b.principal for b in made} == {"User:owstream-fetcher", "User:owstream-notifier"}
    assert len(made) == len(acl_table("p")["fetcher"]) + len(acl_table("p")["notifier"])


def test_docs_show_the_table_the_code_grants() -> None:
    assert markdown_table() in (ROOT / "docs" / "topics.md").read_text()


def test_a_service_connects_as_its_own_principal_when_it_has_one() -> None:
    shared = Settings(kafka_sasl_username="owner", kafka_sasl_password=Secret("o"))
    assert shared.for_service("fetcher") == shared
    own = shared.replace(kafka_sasl_fetcher_username="owstream-fetcher", kafka_sasl_fetcher_password=Secret("f"))
    fetcher = own.for_service("fetcher")
    assert (fetcher.kafka_sasl_username, fetcher.kafka_sasl_password) == ("owstream-fetcher", Secret("f"))
    assert own.for_service("processor").kafka_sasl_username == "owner"
    environ = {"OWSTREAM_KAFKA_SASL_DASHBOARD_USERNAME": "web", "OWSTREAM_KAFKA_SASL_DASHBOARD_PASSWORD": "w"}
    env = Settings.from_env(environ, env_file=None)
    assert env.for_service("dashboard").kafka_sasl_password == Secret("w")
