"""Pipeline page: how a fetch travels through Kafka to the store, and what is on the topics right now."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from owstream.dashboard import charts, data, freshness, kafka_data, layout
from owstream.dashboard.layout import plain, when
from owstream.domain import format as fmt
from owstream.domain.outcomes import duration

SAMPLE_KEY = "pipeline_offsets_sample"


def diagram(counts: dict[str, int | None]) -> str:
    """The flow as Graphviz DOT; topic nodes show their message counts when known."""

    def topic(suffix: str) -> str:
        n = counts.get(suffix)
        return f"{suffix}\\n{n:,} messages" if n is not None else suffix

    return f"""digraph {{
  rankdir=LR; bgcolor="transparent";
  node [fontname="Helvetica", fontsize=11, style="rounded,filled", shape=box, fillcolor="#f0f2f6"];
  edge [fontname="Helvetica", fontsize=9, color="#666666"];
  dashboard [label="dashboard / CLI /\\nscheduler", fillcolor="#dbe9f6"];
  requests [label="{topic("fetch-requests")}", shape=cylinder, fillcolor="#fff2cc"];
  fetcher [label="fetcher\\n(asks OverFast)", fillcolor="#dbe9f6"];
  results [label="{topic("fetch-results")}", shape=cylinder, fillcolor="#fff2cc"];
  processor [label="processor\\n(normalise, diff)", fillcolor="#dbe9f6"];
  store [label="store\\n(SQLite / PostgreSQL)", shape=cylinder, fillcolor="#d9ead3"];
  events [label="{topic("player-events")}", shape=cylinder, fillcolor="#fff2cc"];
  dead [label="{topic("dead-letter")}", shape=cylinder, fillcolor="#f4cccc"];
  dashboard -> requests [label="FetchRequest"];
  requests -> fetcher; fetcher -> results [label="raw JSON / outcome"];
  results -> processor; processor -> store [label="upsert"];
  processor -> events [label="progress, sessions"]; processor -> dead [label="poison messages"];
  store -> dashboard [label="reads", style=dashed];
}}"""


def render() -> None:
    st.title("Pipeline")
    st.caption(
        "A fetch request travels from the dashboard through two Kafka topics and two services into the store; "
        "each box below is a running part, each cylinder a Kafka topic."
    )
    if st.toggle("Refresh every 10 s", key="pipeline_auto"):
        live()
    else:
        overview()
    if st.button("Refresh now"):
        st.cache_data.clear()
        st.rerun()


@st.fragment(run_every=10)
def live() -> None:
    freshness.check()  # a fragment's re-run does not pass through app.py
    overview()


def overview() -> None:
    status = kafka_data.kafka_overview()
    topics: list[dict[str, Any]] = status.get("topics", [])
    prefix = data.settings().topic_prefix + "."
    counts: dict[str, int | None] = {t["name"].removeprefix(prefix): t["messages"] for t in topics}
    st.graphviz_chart(diagram(counts))
    reachable = bool(status.get("broker", {}).get("reachable"))
    if not reachable:
        bootstrap = plain(status.get("broker", {}).get("bootstrap", "?"))
        st.error(
            f"Kafka is unreachable at {bootstrap}: topics, lag and recent messages cannot be shown. Start the "
            "broker with `owstream kafka start` (or `owstream up`). What the store received is still shown below."
        )
    else:
        kafka_numbers(status, counts)
    store_activity()
    alert_deliveries()
    if reachable:
        recent()


def kafka_numbers(status: dict[str, Any], counts: dict[str, int | None]) -> None:
    topics, groups = status["topics"], status["groups"]
    dead = counts.get("dead-letter") or 0
    total_lag = sum(g["total_lag"] or 0 for g in groups)
    rate = sampled_rate(counts)
    numbers = [
        ("Dead letters", fmt.count(dead)),
        ("Consumer lag", fmt.count(total_lag)),  # messages: said in its help (a 140 px number)
        ("Topics", fmt.count(len(topics))),
    ]
    if rate is None:
        numbers.append(("Messages on the topics", fmt.count(sum(n or 0 for n in counts.values()))))
    else:
        numbers.append(("Messages per minute", fmt.number(rate, 1)))
    layout.metrics(numbers, help={"Dead letters": "Messages a service could not read; kept on dead-letter",
                                  "Consumer lag": "Messages waiting to be consumed, all groups"})  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.subheader("Topics", anchor=False)
        layout.table(
            [
                {
                    "Topic": t["name"],
                    "Partitions": fmt.count(t["partitions"]),
                    "Messages": fmt.count(t["messages"]),
                    "End offsets (per partition)": ", ".join("?" if o is None else str(o) for o in t["end_offsets"]),
                }
                for t in topics
            ],
            index="Topic",
        )
    with right:
        st.subheader("Consumer groups", anchor=False)
        if not groups:
            st.info("No consumer group yet: start the fetcher and the processor (`owstream up`).")
        else:
            layout.table(
                [
                    {"Group": g["group"], "State": g["state"], "Members": fmt.count(g["members"]),
                     "Lag": fmt.plural(g["total_lag"] or 0, "message")}
                    for g in groups
                ],
                index="Group",
            )  # fmt: skip
    replication(status)


def broker_table(status: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per broker: address, roles, alive."""
    roles = {True: "broker, controller", False: "broker", None: "broker"}
    return [
        {
            "Broker": b["id"],
            "Address": b["address"],
            "Roles": roles[b["controller"]],
            "Alive": "yes" if b["alive"] else "no",
        }
        for b in status.get("brokers") or []
    ]


def under_replicated_table(status: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per partition with fewer in-sync replicas than replicas."""
    return [
        {
            "Partition": f"{u['topic']} [{u['partition']}]",
            "Leader": u["leader"] if u["leader"] >= 0 else "none",
            "Replicas": ", ".join(map(str, u["replicas"])),
            "In sync": ", ".join(map(str, u["isr"])),
        }
        for u in status.get("under_replicated") or []
    ]


def replication(status: dict[str, Any]) -> None:
    """The brokers and the partitions missing an in-sync replica."""
    left, right = st.columns(2)
    with left:
        st.subheader("Brokers", anchor=False)
        brokers = broker_table(status)
        if not brokers:
            st.info("The cluster lists no broker.")
        layout.table(brokers, index="Broker")
    with right:
        st.subheader("Under-replicated partitions", anchor=False)
        under = under_replicated_table(status)
        if not under:
            st.success("Every partition has all its replicas in sync.")
        else:
            st.warning(
                f"{fmt.plural(len(under), 'partition')} with fewer replicas in sync than assigned: "
                "a broker is down or behind."
            )
            layout.table(under, index="Partition")


def sampled_rate(counts: dict[str, int | None]) -> float | None:
    """Messages per minute across topics since the previous sample of this session (None on the first)."""
    total = sum(n or 0 for n in counts.values())
    now = time.monotonic()
    previous = st.session_state.get(SAMPLE_KEY)
    st.session_state[SAMPLE_KEY] = (now, total)
    if previous is None or now - previous[0] < 1:
        return None
    return float(max(0, total - previous[1]) * 60 / (now - previous[0]))


def store_activity() -> None:
    st.subheader("Fetch results stored", anchor=False)
    now = data.now()
    activity = data.activity(int(now // 60))
    last = activity.last_result_at
    layout.metrics(
        [
            ("Results stored", fmt.count(activity.total_results)),
            ("Results / minute", fmt.number(len(activity.result_times) / 60, 1)),
            ("Newest result", "never" if last is None else layout.since(last, now)),
        ],
        help={"Results stored": "Fetch results in the store, all players",
              "Results / minute": "Stored in the last hour, per minute"},
    )  # fmt: skip
    if activity.outcomes:
        st.caption("Outcomes in the last hour: " + ", ".join(f"{k}: {v}" for k, v in sorted(activity.outcomes.items())))
    if activity.result_times:
        per: dict[int, int] = {}
        for t in activity.result_times:
            per[int(t // 60) * 60] = per.get(int(t // 60) * 60, 0) + 1
        minutes = [{"t": charts.iso(m), "results": n, "when": when(m)} for m, n in sorted(per.items())]
        charts.show(
            charts.per_minute(minutes, times=[now - 3600, now], title="Fetch results stored per minute (last hour)"),
            key="chart_per_minute",
        )


ALERT_STATUS = {"pending": "waiting to be sent", "given_up": "given up"}


def alert_deliveries() -> None:
    """The notifier's webhook alerts: how many were sent, which wait, which were given up and why."""
    found = data.alerts()
    if not found.counts:
        return
    st.subheader("Alerts (webhooks)", anchor=False)
    layout.metrics(
        [
            ("Alerts sent", fmt.count(found.counts.get("sent", 0))),
            ("Alerts waiting", fmt.count(found.counts.get("pending", 0))),
            ("Alerts given up", fmt.count(found.counts.get("given_up", 0))),
        ],
        help={"Alerts waiting": "Retried with backoff", "Alerts given up": "After the attempts' bound, or refused"},
    )
    if not found.open:
        return
    now = data.now()
    layout.table(
        [
            {
                "Player": r["player_id"],
                "Alert": r["event_type"].replace("_", " "),
                "Status": ALERT_STATUS.get(r["status"], r["status"]),
                "Attempts": fmt.count(r["attempts"]),
                "Why (last error)": r["last_error"] or "–",
                "When": f"next try in {duration(max(0.0, r['next_attempt_at'] - now))}"
                if r["status"] == "pending"
                else when(r["updated_at"]),
            }
            for r in found.open
        ]
    )


def recent() -> None:
    st.subheader("Most recent messages", anchor=False)
    messages = kafka_data.recent_messages()
    if not messages:
        st.info("The topics are empty: fetch a player on the Player page.")
        return
    layout.table(
        [
            {
                "Time (UTC)": when(m.timestamp_ms / 1000) if m.timestamp_ms else "?",
                "Topic": m.topic,
                "Key (player)": m.key or "",
                "Partition / offset": f"{m.partition} / {m.offset}",
                "What": m.what,
            }
            for m in messages[:15]
        ]
    )
