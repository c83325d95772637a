"""owstream.domain.seasons: a snapshot's season, the seasons' spans, the boundary rule and the numbers, on the
recorded summaries and on generated histories (hypothesis)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from owstream.domain.normalize import OVERALL, Key, StatRow
from owstream.domain.seasons import (
    SeasonPoint,
    SeasonSpan,
    boundary_text,
    chosen_season,
    place,
    season_label,
    season_of,
    season_row,
    season_rows,
    since_text,
    spans,
    until_text,
)
from owstream.messages import codec
from owstream.messages.bodies import Competitive, PlayerSummary
from support.results import recorded

DAY = 86400.0


def summary(player: str) -> PlayerSummary:
    return codec.decode_as(codec.encode(recorded(f"players_{player}_summary.json")), PlayerSummary)


def point(i: int, reported: int | None, at: float | None = None) -> SeasonPoint:
    return SeasonPoint(i, at if at is not None else 1_770_000_000.0 + i * DAY, None, reported)


def row(key: Key = OVERALL, games: int = 0, won: int = 0, seconds: int = 0, elims: float = 0.0) -> StatRow:
    deaths = float(games)
    return StatRow(
        "competitive", key[0], key[1], games, won, games - won, seconds, None, None,
        elims, elims / 2, deaths, elims * 100, elims * 50, None, None, None, None, None,
    )  # fmt: skip


# --- a snapshot's own season -------------------------------------------------------------------------------


def test_a_snapshot_reports_the_highest_season_of_its_platforms() -> None:
    assert season_of(summary("TeKrop-2217").competitive) == 22  # pc only
    assert season_of(summary("KIRIKO-12460").competitive) == 21  # pc 21, console 16: no rank on either
    assert season_of(summary("JohnV1-1190").competitive) == 10
    assert season_of(None) is None  # a private profile
    zeros = codec.decode_as(b'{"pc": {"season": 0}, "console": null}', Competitive)
    assert season_of(zeros) is None  # Blizzard's 0 names no season


def test_a_snapshot_without_a_season_borrows_the_newest_other_players_had_reported_by_then() -> None:
    seen = {20: 100.0, 21: 300.0}  # season -> first seen in the store
    placed = place([point(1, None, 50.0), point(2, None, 200.0), point(3, None, 400.0)], seen)
    assert [p.season for p in placed] == [None, 20, 21]
    assert not any(p.own for p in placed)


def test_seasons_only_move_forward() -> None:
    """OverFast's season is the last one played: a lower one later (a platform gone) changes nothing."""
    placed = place([point(1, 21), point(2, 22), point(3, 21), point(4, None), point(5, 22)], {23: 0.0})
    assert [p.season for p in placed] == [21, 22, 22, 23, 23]  # its own seasons win; none reported: borrowed
    assert [p.own for p in placed] == [True, True, False, False, False]


# --- spans and the boundary rule -------------------------------------------------------------------------------


def test_the_first_season_is_counted_since_tracking_began() -> None:
    (only,) = spans(place([point(1, 22), point(2, 22)], {}))
    assert (only.season, only.start, only.base.snapshot_id, only.end.snapshot_id) == (22, "tracking_began", 1, 2)
    assert only.since_tracking_began
    assert since_text(only) == "since tracking began (2026-02-03 02:40 UTC)"
    assert "the history begins inside Season 22" in boundary_text(only)


def test_games_before_a_season_that_says_so_count_in_the_new_season() -> None:
    old, new = spans(place([point(1, 21), point(2, 21), point(3, 22), point(4, 22)], {}))
    assert (old.base.snapshot_id, old.end.snapshot_id, old.next_first) == (1, 2, None)
    assert (new.start, new.base.snapshot_id, new.end.snapshot_id) == ("this_season", 2, 4)
    assert new.base == old.end  # the snapshot 2 -> 3 games go to season 22
    text = boundary_text(new)
    assert "are counted in Season 22: that snapshot reports Season 22 itself" in text
    assert until_text(old) is None


def test_games_before_a_borrowed_season_count_in_the_old_one() -> None:
    seen = {22: 1_770_000_000.0 + 2.5 * DAY}  # another player reported 22 before snapshot 3
    old, new = spans(place([point(1, 21), point(2, 21), point(3, None), point(4, 22)], seen))
    assert (new.season, new.start, new.base.snapshot_id) == (22, "previous_season", 3)
    assert (old.end.snapshot_id, old.next_first, old.next_season) == (3, point(3, None), 22)
    assert "are counted in Season 21: that snapshot reports no season itself" in boundary_text(new)
    assert "Season 22 is taken from other players" in (until_text(old) or "")


def test_snapshots_before_any_season_belong_to_none() -> None:
    (only,) = spans(place([point(1, None), point(2, None), point(3, 22)], {}))
    assert (only.season, only.start, only.base.snapshot_id, only.previous) == (22, "this_season", 2, None)
    assert "the last snapshot before any season was known" in boundary_text(only)


def test_choices() -> None:
    assert chosen_season("current", [20, 22, 21]) == 22
    assert chosen_season("last", [20, 22, 21]) == 21
    assert chosen_season("21", [20, 22, 21]) == 21
    assert chosen_season("19", [20, 22]) is None
    assert chosen_season("last", [22]) is None
    assert chosen_season("lifetime", [22]) is None
    assert chosen_season("current", []) is None


def test_labels_show_blizzards_name_where_it_differs() -> None:
    assert season_label(22) == "Season 22"
    assert season_label(21, {21: "Season 1 (2026)"}) == "Season 21 (Blizzard: Season 1 (2026))"
    assert season_label(None) == "no season"


# --- the numbers ---------------------------------------------------------------------------------------------


def test_a_season_block_is_the_difference_with_winrate_kda_and_averages_recomputed() -> None:
    old = row(games=10, won=5, seconds=6000, elims=100.0)
    new = row(games=14, won=8, seconds=8400, elims=130.0)
    got = season_row(new, old)
    assert (got.games_played, got.games_won, got.games_lost, got.time_played) == (4, 3, 1, 2400)
    assert got.winrate == 75.0
    assert got.eliminations == 30.0 and got.assists == 15.0 and got.deaths == 4.0
    assert got.kda == round((30 + 15) / 4, 2)
    assert got.avg_eliminations == round(30 / (2400 / 600), 2)
    assert got.avg_damage == round(3000 / 4, 2)


def test_after_a_reset_a_gamemode_counts_from_zero() -> None:
    hero = ("hero", "ana")
    base = {OVERALL: row(games=100, won=50, seconds=60000), hero: row(hero, 40, 20, 24000)}
    end = {OVERALL: row(games=5, won=4, seconds=3000), hero: row(hero, 3, 3, 1800)}
    assert season_rows(base, end, reset=False)[OVERALL].games_played == 0  # never negative ...
    counted = season_rows(base, end, reset=True)  # ... and counted from the reset: the season's own games
    assert (counted[OVERALL].games_played, counted[OVERALL].games_won, counted[hero].games_played) == (5, 4, 3)


def test_blocks_not_played_in_the_season_are_left_out_but_overall_stays() -> None:
    hero = ("hero", "ana")
    same = {OVERALL: row(games=10, seconds=600), hero: row(hero, 10, 5, 600)}
    got = season_rows(same, same, reset=False)
    assert list(got) == [OVERALL]
    overall = got[OVERALL]
    assert overall.games_played == 0 and overall.winrate is None and overall.kda is None
    assert overall.avg_damage is None


# --- properties ----------------------------------------------------------------------------------------------

reports = st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=30)), min_size=1, max_size=25)
first_seen = st.dictionaries(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=30))


def history_points(seasons: Sequence[int | None]) -> list[SeasonPoint]:
    return [point(i, s, float(i)) for i, s in enumerate(seasons)]


@settings(max_examples=300, deadline=None)
@given(reports, first_seen)
def test_every_snapshot_lands_in_one_season_and_the_spans_chain(
    seasons: list[int | None], seen: dict[int, int]
) -> None:
    placed = place(history_points(seasons), {k: float(v) for k, v in seen.items()})
    known = [p.season for p in placed if p.season is not None]
    assert known == sorted(known)  # seasons never go back
    assert all(p.season is not None for p in placed[len(placed) - len(known) :])  # once known, always known
    found = spans(placed)
    assert [s.season for s in found] == sorted(set(known))
    for span in found:
        assert span.base.snapshot_id <= span.first.snapshot_id <= span.last.snapshot_id <= span.end.snapshot_id
    for before, after in itertools.pairwise(found):
        assert after.base == before.end  # no game counted twice, none lost between two seasons
    if found:
        assert found[-1].end == placed[-1].point
        if placed[0].season is not None:
            assert found[0].since_tracking_began and found[0].base == placed[0].point


Counts = tuple[int, int, int, int]  # games, won, lost, seconds


def _counts(r: StatRow) -> Counts:
    return (r.games_played, r.games_won, r.games_lost, r.time_played)


steps = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3000), st.one_of(st.none(), st.integers(1, 30))),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_without_resets_the_seasons_add_up_to_the_lifetime(history: list[tuple[int, int, int, int | None]]) -> None:
    """Counters only go up: the numbers the seasons start from plus every season's equal the newest snapshot's
    (the first snapshot's, when the history starts inside a season)."""
    rows: dict[int, dict[Key, StatRow]] = {}
    games = won = seconds = 0
    for i, (won_now, lost_now, played, _season) in enumerate(history):
        games, won, seconds = games + won_now + lost_now, won + won_now, seconds + played
        rows[i] = {OVERALL: row(games=games, won=won, seconds=seconds, elims=float(games * 3))}
    placed = place(history_points([s for *_, s in history]), {})
    found = spans(placed)
    if not found:
        return
    total = _counts(rows[found[0].base.snapshot_id][OVERALL])
    if placed[0].season is not None:
        assert total == _counts(rows[0][OVERALL])
    for span in found:
        numbers = season_rows(rows[span.base.snapshot_id], rows[span.end.snapshot_id], reset=False)[OVERALL]
        total = tuple(a + b for a, b in zip(total, _counts(numbers), strict=True))  # type: ignore[assignment]
    assert total == _counts(rows[len(history) - 1][OVERALL])


blocks = st.builds(
    lambda g, w, s, e: row(games=g, won=min(w, g), seconds=s, elims=e),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10**7),
    st.floats(0, 1e6),
)


@settings(max_examples=300, deadline=None)
@given(blocks, blocks, st.booleans())
def test_season_numbers_are_never_negative(new: StatRow, old: StatRow, reset: bool) -> None:
    got = season_rows({OVERALL: old}, {OVERALL: new}, reset=reset)[OVERALL]
    numbers = tuple(got)[3:-1]  # the counts and amounts (the last field is the platform)
    assert all(n is None or n >= 0 for n in numbers)
    if got.games_played:
        assert got.winrate is not None and 0 <= got.winrate <= 100
    else:
        assert got.winrate is None  # no games: no winrate, not 0 %
    if reset:
        assert _counts(got) == _counts(new)


def test_a_span_is_plain_data() -> None:
    span = spans(place([point(1, 22)], {}))[0]
    assert isinstance(span, SeasonSpan) and span.base == span.end == span.first
