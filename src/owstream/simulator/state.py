"""The simulator's state across restarts: its players, its random generator, how far the meta drifted and
how often each unknown player was asked for, as one JSON file written at once after every refresh."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from owstream.processes import write_atomically
from owstream.simulator import data as simdata
from owstream.simulator.data import SimPlayer

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True)
class SavedState:
    seed: int
    saved_at: float
    meta_step: int
    rng: tuple[Any, ...]  # random.Random.getstate()
    not_found_checks: dict[str, int]
    players: dict[str, SimPlayer]

    def to_json(self) -> str:
        version, internal, gauss = self.rng
        return json.dumps(
            {
                "format": FORMAT,
                "seed": self.seed,
                "saved_at": self.saved_at,
                "meta_step": self.meta_step,
                "rng": [version, list(internal), gauss],
                "not_found_checks": self.not_found_checks,
                "players": [simdata.player_state(player) for player in self.players.values()],
            },
            ensure_ascii=False,
        )


def write(path: Path, state: SavedState) -> None:
    """Replace ``path`` at once (a reader sees the old or the new state, never half of one); a failure is
    logged, the simulator goes on."""
    try:
        write_atomically(path, state.to_json())
    except OSError:
        log.exception("cannot write the simulator's state to %s", path)


def read(path: Path, seed: int, player_ids: list[str]) -> SavedState | None:
    """The state in ``path`` if it is that of a simulator of ``seed`` and ``player_ids``; None (and a warning
    when the file is there) otherwise: the simulator starts from its seed."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("the simulator's state %s cannot be read (%s): starting from the seed", path, exc)
        return None
    try:
        if raw["format"] != FORMAT or raw["seed"] != seed:
            raise ValueError(f"format {raw['format']}, seed {raw['seed']}")
        players = {player.player_id: player for player in map(simdata.player_from_state, raw["players"])}
        if list(players) != player_ids:
            raise ValueError("other players")
        version, internal, gauss = raw["rng"]
        state = SavedState(
            seed=seed,
            saved_at=float(raw["saved_at"]),
            meta_step=int(raw["meta_step"]),
            rng=(int(version), tuple(int(n) for n in internal), gauss),
            not_found_checks={str(k): int(v) for k, v in raw["not_found_checks"].items()},
            players=players,
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("the simulator's state %s is not this simulator's (%s): starting from the seed", path, exc)
        return None
    log.info("simulator state read from %s (saved at %s)", path, state.saved_at)
    return state
