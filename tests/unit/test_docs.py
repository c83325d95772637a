"""What README.md and docs/ say, held to the code and to the results files: the demo's players, and every
figure's source (each results file a page names exists, and names the commit, host and date it ran on)."""

from __future__ import annotations

import re
from pathlib import Path

from owstream.simulator import Simulator, player_ids

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_says_how_many_players_the_demo_has() -> None:
    said = re.search(r"simulator with (\d+)\s+synthetic players", README)
    assert said is not None
    assert int(said.group(1)) == len(player_ids())  # what `up --demo` puts on the watchlist
    assert len(Simulator().private_player_ids()) == 1 and "one of them private" in README
