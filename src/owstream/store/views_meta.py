"""The dashboard's queries of the meta (OverFast's /heroes/stats answers) and of the notifier's deliveries
(SQLAlchemy Core, parameterised): plain rows out. :mod:`owstream.store.views` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, select

from owstream.domain.meta import ALL
from owstream.store import schema
from owstream.store.notifications import Notifications

Records = list[dict[str, Any]]


# --- the meta (OverFast's /heroes/stats answers) ----------------------------------------------------------


@dataclass(frozen=True)
class MetaRows:
    """The Meta page's numbers of one combination (every role)."""

    rows: Records  # fetched_at, hero, pickrate, winrate (percent), oldest first
    answers: int  # answers in the window
    last_fetched_at: float | None  # the newest answer of the combination (also outside the window)


def meta_trend(
    engine: Engine, gamemode: str, platform: str, region: str, *, division: str | None, since: float | None
) -> MetaRows:
    """Every hero's pick rate and winrate in each answer of one combination fetched at or after ``since``
    (None: all of them)."""
    h, r = schema.hero_stats.c, schema.hero_stat_rows.c
    combination = and_(
        h.gamemode == gamemode, h.platform == platform, h.region == region,
        h.division == (division or ALL), h.role == ALL,
    )  # fmt: skip
    window = combination if since is None else and_(combination, h.fetched_at >= since)
    with engine.connect() as conn:
        rows = conn.execute(
            select(h.fetched_at, r.hero, r.pickrate, r.winrate)
            .join(schema.hero_stat_rows, r.answer_id == h.answer_id)
            .where(window)
            .order_by(h.fetched_at, h.answer_id, r.hero)
        ).mappings()
        found = [dict(row) for row in rows]
        answers = conn.execute(select(func.count()).select_from(schema.hero_stats).where(window)).scalar_one()
        last = conn.execute(select(func.max(h.fetched_at)).where(combination)).scalar()
    return MetaRows(found, int(answers), last)


def meta_by_division(engine: Engine, platform: str, region: str) -> Records:
    """The newest competitive answer (every role) of each division of one platform and region: division ("all"
    or bronze..grandmaster), fetched_at, hero, pickrate, winrate."""
    h, r = schema.hero_stats.c, schema.hero_stat_rows.c
    where = and_(h.gamemode == "competitive", h.platform == platform, h.region == region, h.role == ALL)
    newest = select(h.division, func.max(h.fetched_at).label("at")).where(where).group_by(h.division).subquery()
    answers = (
        select(h.answer_id, h.division, h.fetched_at)
        .join(newest, and_(newest.c.division == h.division, newest.c.at == h.fetched_at))
        .where(where)
        .order_by(h.division, h.answer_id)
    )
    with engine.connect() as conn:
        found = {answer_id: (division, at) for answer_id, division, at in conn.execute(answers).all()}
        rows = conn.execute(
            select(r.answer_id, r.hero, r.pickrate, r.winrate).where(r.answer_id.in_(list(found))).order_by(r.hero)
        ).all()
    out = [
        {"division": found[aid][0], "fetched_at": found[aid][1], "hero": hero, "pickrate": pick, "winrate": win}
        for aid, hero, pick, win in rows
    ]
    return sorted(out, key=lambda row: (row["division"], row["hero"]))


def hero_roles(engine: Engine) -> dict[str, str]:
    """Each hero's role, from the newest role-filtered answer of each role ({} before the first)."""
    h, r = schema.hero_stats.c, schema.hero_stat_rows.c
    newest = select(h.role, func.max(h.fetched_at).label("at")).where(h.role != ALL).group_by(h.role).subquery()
    query = (
        select(r.hero, h.role)
        .join(newest, and_(newest.c.role == h.role, newest.c.at == h.fetched_at))
        .join(schema.hero_stat_rows, r.answer_id == h.answer_id)
        .order_by(h.fetched_at)
    )
    with engine.connect() as conn:
        return {str(hero): str(role) for hero, role in conn.execute(query).all()}


@dataclass(frozen=True)
class AlertRows:
    counts: dict[str, int]  # deliveries by status: pending, sent, given_up, dropped
    open: Records  # pending and given-up deliveries, newest change first; no URL (a secret) in them


def alerts(engine: Engine, limit: int = 50) -> AlertRows:
    """The notifier's deliveries for the Pipeline page."""
    notes = Notifications(engine)
    rows = [
        {
            "player_id": d.player_id,
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "last_status": d.last_status,
            "last_error": d.last_error,
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at,
            "updated_at": d.updated_at,
        }
        for d in notes.unfinished_and_failed(limit)
    ]
    return AlertRows(notes.counts(), rows)
