"""Least privilege on Kafka: what each service's principal may do, as code, and a way to grant it.

With SASL on, each service connects as its own user (``OWSTREAM_KAFKA_SASL_<SERVICE>_USERNAME`` and
``_PASSWORD``; :meth:`owstream.config.Settings.for_service`) and the cluster's authorizer allows it only what
:func:`acl_table` lists (derived from docs/topics.md: who produces and who consumes each topic). Every
principal may DESCRIBE the topics and groups of its prefix (metadata, offsets, the status pages); beyond that:

* only the **fetcher** writes ``fetch-results``; only the **processor** (and the fetcher's
  ``fetch_started``) writes ``player-events``, each in its own transactions (transactional ids
  ``<prefix>.<service>.*``); they write ``dead-letter`` in those transactions;
* only the **meta** writes ``hero-stats``;
* the **dashboard** (and the CLI as a visitor) and the **scheduler** write ``fetch-requests`` and nothing
  else; the dashboard reads ``player-events`` (a request followed) and the newest messages of
  ``fetch-requests`` and ``fetch-results`` (the Pipeline page);
* the **notifier** reads ``player-events`` in its group and writes only ``dead-letter`` (the events it
  cannot read, with a plain idempotent producer: no transactional id).

Creating topics is left to an administrator (or the shared credentials of ``owstream kafka``/``run``):
:func:`apply_acls` grants the table with such a principal. docs/topics.md shows :func:`markdown_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from owstream.bus.admin import Admin

SERVICES = ("fetcher", "processor", "scheduler", "meta", "notifier", "dashboard")


@dataclass(frozen=True, slots=True)
class Grant:
    """One right: ``operation`` on a ``resource`` (topic, group, transactional-id) named ``name`` (a
    prefix when ``prefixed``)."""

    resource: str
    name: str
    operation: str
    prefixed: bool = False


def acl_table(prefix: str) -> dict[str, list[Grant]]:
    """service -> what its principal is allowed, for the topics of ``prefix``."""

    def topic(suffix: str, *operations: str) -> list[Grant]:
        return [Grant("topic", f"{prefix}.{suffix}", op) for op in operations]

    def group(service: str) -> list[Grant]:
        return [Grant("group", f"{prefix}.{service}", "READ")]

    def transactions(service: str) -> list[Grant]:
        return [Grant("transactional-id", f"{prefix}.{service}.", op, prefixed=True) for op in ("WRITE", "DESCRIBE")]

    everyone = [Grant("topic", f"{prefix}.", "DESCRIBE", prefixed=True), Grant("group", f"{prefix}.", "DESCRIBE", True)]
    table = {
        "fetcher": [
            *topic("fetch-requests", "READ"),
            *group("fetcher"),
            *topic("fetch-results", "WRITE"),
            *topic("player-events", "WRITE"),  # fetch_started
            *topic("dead-letter", "WRITE"),
            *transactions("fetcher"),
        ],
        "processor": [
            *topic("fetch-results", "READ"),
            *topic("hero-stats", "READ"),
            *group("processor"),
            *topic("player-events", "WRITE"),
            *topic("dead-letter", "WRITE"),
            *transactions("processor"),
        ],
        "scheduler": topic("fetch-requests", "WRITE"),
        "meta": [*topic("hero-stats", "WRITE", "READ")],  # reads its newest answers at start
        "notifier": [*topic("player-events", "READ"), *group("notifier"), *topic("dead-letter", "WRITE")],
        "dashboard": [
            *topic("fetch-requests", "WRITE", "READ"),
            *topic("player-events", "READ"),
            *topic("fetch-results", "READ"),
        ],
    }
    return {service: [*everyone, *grants] for service, grants in table.items()}


_RESOURCES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactional-id": ResourceType.TRANSACTIONAL_ID,
}


def bindings(prefix: str, users: Mapping[str, str]) -> list[AclBinding]:
    """The ACLs of :func:`acl_table` for ``users`` (service -> SASL user name); services left out get none."""
    out = []
    for service, grants in acl_table(prefix).items():
        user = users.get(service)
        if not user:
            continue
        for grant in grants:
            pattern = ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL
            out.append(
                AclBinding(
                    _RESOURCES[grant.resource],
                    grant.name,
                    pattern,
                    f"User:{user}",
                    "*",
                    AclOperation[grant.operation],
                    AclPermissionType.ALLOW,
                )
            )
    return out


def apply_acls(admin: Admin, prefix: str, users: Mapping[str, str]) -> int:
    """Grant each service's user its rights (with an administrator's ``admin``); returns how many ACLs."""
    wanted = bindings(prefix, users)
    if wanted:
        admin.create_acls(wanted)
    return len(wanted)


def markdown_table(prefix: str = "<prefix>", services: Iterable[str] = SERVICES) -> str:
    """The table as docs/topics.md shows it: per service, the topics it reads and writes, its group and its
    transactional ids (DESCRIBE on every ``<prefix>.`` topic and group is everyone's, left out)."""
    table = acl_table(prefix)
    rows = [
        "| principal of | reads (READ) | writes (WRITE) | its group (READ) | transactional ids (WRITE, DESCRIBE) |",
        "|---|---|---|---|---|",
    ]

    def names(service: str, resource: str, operation: str) -> str:
        found = [
            f"`{g.name}*`" if g.prefixed else f"`{g.name}`"
            for g in table[service]
            if g.resource == resource
            and g.operation == operation
            and not (resource != "transactional-id" and g.prefixed)
        ]
        return ", ".join(found) or "-"

    for service in services:
        cells = [
            names(service, "topic", "READ"),
            names(service, "topic", "WRITE"),
            names(service, "group", "READ"),
            names(service, "transactional-id", "WRITE"),
        ]
        rows.append(f"| {service} | {' | '.join(cells)} |")
    return "\n".join(rows)
