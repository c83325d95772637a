"""Bytes a refresh puts on ``fetch-results`` (kept forever), per player (issue 23): before (the summary and both
gamemodes' stats without a platform filter, every refresh), and now: a changed refresh (the summary and each
platform's stats), and an unchanged scheduled refresh (``summary_only``: the summary's digest, its bytes being the
ones stored), which must be at most a tenth of before; and one whose summary changed while ``last_updated_at``
did not (the summary itself goes out: ``new_summary``). Measured on the recorded real answers
(tests/fixtures/overfast) and on the simulator's players, as the fetcher encodes them.

    .venv/bin/python bench/bench_result_bytes.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from owstream.messages import codec
from owstream.simulator import Simulator
from owstream.simulator import data as simdata

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "overfast"
RECORDED = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
MODES = ("quickplay", "competitive")
ENVELOPE = {"request_ids": ["0" * 32], "fetched_at": 1_767_225_600.123456, "status": 200,
            "cache_headers": {"x-cache-ttl": "600", "cache-control": "public, max-age=600", "age": "0"}}  # fmt: skip


def _recorded(name: str) -> bytes:
    for directory in ("responses2", "responses"):
        path = FIXTURES / directory / name
        if path.exists():
            return path.read_bytes()
    raise FileNotFoundError(name)


def sizes(
    player_id: str, summary: bytes, summed: dict[str, bytes], per_platform: dict[str, dict[str, bytes]]
) -> dict[str, int]:
    """(before, changed, unchanged) bytes of one player's result."""
    common = {"player_id": player_id, "outcome": "ok", "summary": summary, **ENVELOPE}
    digest = codec.digest(summary)
    before = codec.encode(codec.wire_result(stats=summed, **common))
    changed = codec.encode(codec.wire_result(platform_stats=per_platform, summary_digest=digest, **common))
    # an unchanged scheduled refresh: its summary is the one stored (by digest), so only the digest goes out;
    # one whose summary changed without last_updated_at moving carries it
    same = {**common, "summary": None}
    unchanged = codec.encode(codec.wire_result(summary_only=True, summary_digest=digest, **same))
    other = codec.encode(codec.wire_result(summary_only=True, summary_digest=digest, **common))
    return {"before": len(before), "changed": len(changed), "unchanged": len(unchanged), "new_summary": len(other)}


def recorded_players() -> dict[str, dict[str, int]]:
    out = {}
    for pid in RECORDED:
        summed = {m: _recorded(f"players_{pid}_stats_summary_{m}_all.json") for m in MODES}
        platforms = {
            p: {m: _recorded(f"players_{pid}_stats_summary_{m}_{p}.json") for m in MODES} for p in ("pc", "console")
        }
        out[pid] = sizes(pid, _recorded(f"players_{pid}_summary.json"), summed, platforms)
    return out


def simulated_players(seed: int = 0) -> dict[str, dict[str, int]]:
    simulator = Simulator(seed=seed)
    out = {}
    for pid in simulator.player_ids():
        player = simulator.player(pid)
        assert player is not None
        if player.private:
            continue
        summary = json.dumps(simdata.summary_body(player)).encode()
        summed = {m: json.dumps(simdata.stats_summary_body(player, m, None)).encode() for m in MODES}
        platforms = {p: {m: json.dumps(simdata.stats_summary_body(player, m, p)).encode() for m in MODES}
                     for p in player.platforms}  # fmt: skip
        out[pid] = sizes(pid, summary, summed, platforms)
    return out


def run() -> dict[str, Any]:
    found = {**recorded_players(), **simulated_players()}
    ratios = [per["unchanged"] / per["before"] for per in found.values()]
    figures: dict[str, Any] = {
        "players": len(found),
        "before_median_bytes": round(statistics.median(per["before"] for per in found.values())),
        "changed_median_bytes": round(statistics.median(per["changed"] for per in found.values())),
        "unchanged_median_bytes": round(statistics.median(per["unchanged"] for per in found.values())),
        "unchanged_vs_before_median": round(statistics.median(ratios), 3),
        "unchanged_vs_before_worst": round(max(ratios), 3),
        "unchanged_new_summary_median_bytes": round(statistics.median(per["new_summary"] for per in found.values())),
    }
    for pid in RECORDED:
        per = found[pid]
        figures[f"{pid}_bytes_before_changed_unchanged"] = f"{per['before']} / {per['changed']} / {per['unchanged']}"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
