"""Pipeline page: how a fetch travels through Kafka to the store, and what is on the topics right now."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from owstream.dashboard import charts, data, kafka_data
from owstream.dashboard.layout import duration, plain, to_datetime, when

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
    cols = st.columns(4)
    cols[0].metric("Dead letters", f"{dead:,}", help="Messages the processor could not read; kept on dead-letter")
    cols[1].metric("Consumer lag (messages)", f"{total_lag:,}", help="Messages waiting to be consumed, all groups")
    cols[2].metric("Topics", len(topics))
    if rate is None:
        cols[3].metric("Messages on the topics", f"{sum(n or 0 for n in counts.values()):,}")
    else:
        cols[3].metric("Messages/min (sampled)", f"{rate:,.1f}", help="From the topics' end offsets, between refreshes")
    left, right = st.columns(2)
    left.subheader("Topics", anchor=False)
    left.table(
        pd.DataFrame(
            {
                "Topic": [t["name"] for t in topics],
                "Partitions": [t["partitions"] for t in topics],
                "End offsets (per partition)": [
                    ", ".join("?" if o is None else str(o) for o in t["end_offsets"]) for t in topics
                ],
                "Messages": [t["messages"] for t in topics],
            }
        ).set_index("Topic")
    )
    right.subheader("Consumer groups", anchor=False)
    if not groups:
        right.info("No consumer group yet: start the fetcher and the processor (`owstream up`).")
    else:
        right.table(
            pd.DataFrame(
                {
                    "Group": [g["group"] for g in groups],
                    "State": [g["state"] for g in groups],
                    "Members": [g["members"] for g in groups],
                    "Lag (messages)": [g["total_lag"] for g in groups],
                }
            ).set_index("Group")
        )
    replication(status)


def broker_table(status: dict[str, Any]) -> pd.DataFrame:
    """One row per broker: address, roles, alive."""
    roles = {True: "broker, controller", False: "broker", None: "broker"}
    brokers = status.get("brokers") or []
    return pd.DataFrame(
        {
            "Broker": [b["id"] for b in brokers],
            "Address": [b["address"] for b in brokers],
            "Roles": [roles[b["controller"]] for b in brokers],
            "Alive": ["yes" if b["alive"] else "no" for b in brokers],
        }
    ).set_index("Broker")


def under_replicated_table(status: dict[str, Any]) -> pd.DataFrame:
    """One row per partition with fewer in-sync replicas than replicas."""
    rows = status.get("under_replicated") or []
    return pd.DataFrame(
        {
            "Partition": [f"{u['topic']} [{u['partition']}]" for u in rows],
            "Leader": [u["leader"] if u["leader"] >= 0 else "none" for u in rows],
            "Replicas": [", ".join(map(str, u["replicas"])) for u in rows],
            "In sync": [", ".join(map(str, u["isr"])) for u in rows],
        }
    ).set_index("Partition")


def replication(status: dict[str, Any]) -> None:
    """The brokers and the partitions missing an in-sync replica."""
    left, right = st.columns(2)
    left.subheader("Brokers", anchor=False)
    brokers = broker_table(status)
    if brokers.empty:
        left.info("The cluster lists no broker.")
    else:
        left.table(brokers)
    right.subheader("Under-replicated partitions", anchor=False)
    under = under_replicated_table(status)
    if under.empty:
        right.success("Every partition has all its replicas in sync.")
    else:
        right.warning(
            f"{len(under)} partition(s) have fewer replicas in sync than assigned: a broker is down or behind."
        )
        right.table(under)


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
    activity = data.activity(int(data.now() // 60))
    cols = st.columns(3)
    cols[0].metric("Fetch results in the store", f"{activity.total_results:,}")
    last_hour = int(activity.per_minute["results"].sum()) if not activity.per_minute.empty else 0
    cols[1].metric("Messages per minute (last hour, average)", f"{last_hour / 60:.2f}")
    last = activity.last_result_at
    cols[2].metric("Newest result", "never" if last is None else f"{duration(data.now() - last)} ago", help=when(last))
    if activity.outcomes:
        st.caption("Outcomes in the last hour: " + ", ".join(f"{k}: {v}" for k, v in sorted(activity.outcomes.items())))
    if not activity.per_minute.empty:
        frame = activity.per_minute.assign(when=to_datetime(activity.per_minute["minute"]))
        st.altair_chart(charts.per_minute(frame), width="stretch")


ALERT_STATUS = {"pending": "waiting to be sent", "given_up": "given up"}


def alert_deliveries() -> None:
    """The notifier's webhook alerts: how many were sent, which wait, which were given up and why."""
    found = data.alerts()
    if not found.counts:
        return
    st.subheader("Alerts (webhooks)", anchor=False)
    cols = st.columns(3)
    cols[0].metric("Alerts sent", f"{found.counts.get('sent', 0):,}")
    cols[1].metric("Alerts waiting", f"{found.counts.get('pending', 0):,}", help="Retried with backoff")
    cols[2].metric(
        "Alerts given up", f"{found.counts.get('given_up', 0):,}", help="After the attempts' bound, or refused"
    )
    if not found.open:
        return
    now = data.now()
    st.table(
        pd.DataFrame(
            {
                "Player": [r["player_id"] for r in found.open],
                "Alert": [r["event_type"].replace("_", " ") for r in found.open],
                "Status": [ALERT_STATUS.get(r["status"], r["status"]) for r in found.open],
                "Attempts": [r["attempts"] for r in found.open],
                "Why (last error)": [r["last_error"] or "-" for r in found.open],
                "When": [
                    f"next try in {duration(max(0.0, r['next_attempt_at'] - now))}"
                    if r["status"] == "pending"
                    else when(r["updated_at"])
                    for r in found.open
                ],
            }
        )
    )


def recent() -> None:
    st.subheader("Most recent messages", anchor=False)
    messages = kafka_data.recent_messages()
    if not messages:
        st.info("The topics are empty: fetch a player on the Player page.")
        return
    st.table(
        pd.DataFrame(
            {
                "Time (UTC)": [when(m.timestamp_ms / 1000) if m.timestamp_ms else "?" for m in messages],
                "Topic": [m.topic for m in messages],
                "Key (player)": [m.key or "" for m in messages],
                "Partition / offset": [f"{m.partition} / {m.offset}" for m in messages],
                "What": [m.what for m in messages],
            }
        ).head(15)
    )
