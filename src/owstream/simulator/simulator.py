"""An OverFast-compatible HTTP server with synthetic players whose stats advance over time, for the
offline demo (``owstream simulate``) and for tests. It binds to 127.0.0.1 only.

Endpoints: ``/players/{id}/summary``, ``/players/{id}/stats/summary?gamemode=&platform=``,
``/players/{id}`` (``{id}``: the BattleTag or the player's Blizzard id), ``/players?name=`` (the search, as
OverFast answers it), ``/heroes``, ``/heroes/stats?platform=&gamemode=&region=...`` (the meta: it drifts one step
each time every player advances), ``/roles``, ``/gamemodes``; admin endpoints under ``/_sim/``:
``POST /_sim/advance[?player=ID]``, ``GET /_sim/history/{id}``, ``GET /_sim/players``,
``POST /_sim/faults`` (``{"status": 429|503|504|500, "count": n}``, ``{"garbage": n}``,
``{"delay": seconds, "count": n}``, ``{"trickle": n, "interval": seconds}``: a byte at a time,
``{"huge": n, "size": bytes}``: a JSON body that big, ``{"deep": n, "depth": d}``: ``d`` nested arrays),
``POST /_sim/ratelimit`` (``{"rps": N}``, 0 or null: off),
``GET /_sim/media/<kind>/<name>.svg`` (the pictures the bodies point at: :mod:`owstream.simulator.media`).

Every player id that is not simulated, e.g. :data:`UNKNOWN_PLAYER_ID`, answers 404 with the nested
body of the real app, its ``retry_after`` growing 600 -> 1800 -> 5400 -> 16200 -> 21600 s.

With a ``state_path`` (``simulate --state``, :mod:`owstream.simulator.state`) a restarted simulator goes on
where it stopped instead of starting its players again from the seed.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from owstream.domain.vocabulary import GAMEMODES, PLATFORMS
from owstream.simulator import data as simdata
from owstream.simulator import media
from owstream.simulator import state as simstate
from owstream.simulator.data import SimPlayer
from owstream.simulator.endpoints import endpoint_of
from owstream.simulator.herostats import hero_stats
from owstream.simulator.responses import (
    ERROR_BODIES,
    RATE_LIMIT_BODY,
    Fault,
    SimResponse,
    cached,
    json_response,
    validation_error,
)
from owstream.simulator.search import search_body
from owstream.simulator.server import SimulatorServer

__all__ = [
    "UNKNOWN_PLAYER_ID",
    "Fault",
    "SimResponse",
    "Simulator",
    "player_ids",
    "serve_forever",
]

log = logging.getLogger(__name__)

UNKNOWN_PLAYER_ID = "Unknown-1234"
_LATIN = ("Zephyr", "Nova", "Kestrel", "Tidepool", "Ashfall", "Pixel", "Moonbeam", "Rook", "Cobalt", "Vesper")
_UNICODE = ("Ñandú", "Лиса", "夜明け", "Zoë", "Ωmega", "Çağrı", "불꽃놀이")
RATE_LIMIT_BURST = 5  # the public instance's nginx burst


class Simulator:
    """Synthetic players, deterministic from ``seed``; thread-safe.

    ``players``: how many (default 8-12 from the seed, one of them private) or the exact player ids
    to simulate. ``advance_every``: seconds of real time between automatic refreshes of every player.
    ``state_path``: where the players are kept across restarts (read at start when it holds the same seed
    and players, written after every refresh).
    """

    def __init__(
        self,
        seed: int = 0,
        players: int | Sequence[str] | None = None,
        advance_every: float | None = None,
        *,
        clock: Callable[[], float] = time.time,
        state_path: Path | None = None,
    ) -> None:
        self.seed = seed
        self.state_path = state_path
        self._rng = random.Random(seed)  # noqa: S311 - synthetic data, not crypto
        self._clock = clock
        self._lock = threading.RLock()
        self._players: dict[str, SimPlayer] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._not_found_checks: dict[str, int] = {}
        self._faults: deque[Fault] = deque()
        self._rps: int | None = None
        self._last_request: float | None = None  # when the limiter last saw a request
        self._excess = 0.0  # requests in the leaky bucket
        self.served: Counter[int] = Counter()  # API answers by status, for benchmarks
        self.calls: Counter[str] = Counter()  # API requests by endpoint (summary, stats, search, ...), for benchmarks
        self.media_base = media.DEFAULT_BASE  # where its pictures are served: the server's URL once bound
        self.advance_every = advance_every
        self.meta_step = 0  # how far /heroes/stats has drifted: one step per advance of every player
        self._next_tick = clock() + advance_every if advance_every else None
        for index, player_id in enumerate(self._ids(players)):
            private = index == 1  # one private profile among the players
            self._players[player_id] = simdata.new_player(self._rng, player_id, private=private)
            self._history[player_id] = []
        saved = simstate.read(state_path, seed, list(self._players)) if state_path is not None else None
        if saved is not None:  # the state of this simulator (same seed and players) when it last refreshed
            self._players, self.meta_step = saved.players, saved.meta_step
            self._not_found_checks = saved.not_found_checks
            self._rng.setstate(saved.rng)

    def _ids(self, players: int | Sequence[str] | None) -> list[str]:
        if players is not None and not isinstance(players, int):
            return list(players)
        count = self._rng.randint(8, 12) if players is None else players
        names = self._rng.sample(_UNICODE, 2) + self._rng.sample(_LATIN, len(_LATIN))
        names += [f"Player{index}" for index in range(len(names), count)]
        numbers = self._rng.sample(range(1000, 99999), count)
        return [f"{name}-{number}" for name, number in zip(names[:count], numbers, strict=True)]

    def bound(self, url: str) -> None:
        """Called by the HTTP server with its URL: the bodies' pictures point there."""
        self.media_base = url

    # --- players -----------------------------------------------------------------------------------
    def player_ids(self) -> list[str]:
        return list(self._players)

    def private_player_ids(self) -> list[str]:
        return [pid for pid, player in self._players.items() if player.private]

    def player(self, player_id: str) -> SimPlayer | None:
        return self._players.get(player_id)

    def history(self, player_id: str) -> list[dict[str, Any]]:
        """One dict per gamemode per refresh: refresh, gamemode, platform, games, wins, losses, at."""
        with self._lock:
            return [dict(entry) for entry in self._history.get(player_id, [])]

    def advance(self, player_id: str | None = None) -> list[dict[str, Any]]:
        """One refresh of one player (all public players without ``player_id``); returns the new entries."""
        with self._lock:
            if player_id is not None and player_id not in self._players:
                raise KeyError(player_id)
            targets = [player_id] if player_id else list(self._players)
            if player_id is None:
                self.meta_step += 1
            entries: list[dict[str, Any]] = []
            for pid in targets:
                if not self._players[pid].private:
                    entries.extend(self._refresh(self._players[pid]))
            self._save_state()
            return entries

    def _refresh(self, player: SimPlayer) -> list[dict[str, Any]]:
        rng = self._rng
        modes = ["quickplay"]
        if player.plays_competitive:
            modes = rng.choice((["quickplay"], ["competitive"], ["quickplay", "competitive"]))
        player.last_updated_at = max((player.last_updated_at or 0) + 1, int(self._clock()))
        player.refreshes += 1
        refresh = player.refreshes
        entries = []
        for mode in modes:
            platform = rng.choice(player.platforms)
            games, wins = rng.randint(1, 4), 0
            per_hero = player.stats.setdefault((platform, mode), {})
            for _ in range(games):
                key = rng.choice(player.pool[:4])
                won = rng.random() < player.skill
                wins += won
                per_hero.setdefault(key, simdata.Totals()).add(simdata.play(rng, simdata.HERO_BY_KEY[key], 1, int(won)))
            if mode == "competitive":
                self._maybe_move_rank(player, platform, wins * 2 >= games)
            entry = {"refresh": refresh, "gamemode": mode, "platform": platform, "games": games}
            entry |= {"wins": wins, "losses": games - wins, "at": player.last_updated_at}
            entries.append(entry)
        self._history[player.player_id].extend(entries)
        return entries

    def _maybe_move_rank(self, player: SimPlayer, platform: str, up: bool) -> None:
        ranks = player.ranks.get(platform)
        if not ranks or self._rng.random() > 0.4:
            return
        ranked_roles = [role for role, rank in ranks.items() if rank is not None]
        if ranked_roles:
            role = self._rng.choice(ranked_roles)
            current = ranks[role]
            assert current is not None
            ranks[role] = simdata.move_rank(current, up)

    def _tick(self) -> None:
        if self._next_tick is None or self.advance_every is None:
            return
        now = self._clock()
        while now >= self._next_tick:
            self.advance()
            self._next_tick += self.advance_every

    # --- the state across restarts ------------------------------------------------------------------
    def _save_state(self) -> None:
        if self.state_path is not None:
            rng, checks = self._rng.getstate(), self._not_found_checks
            saved = simstate.SavedState(self.seed, self._clock(), self.meta_step, rng, checks, self._players)
            simstate.write(self.state_path, saved)

    # --- faults and the rate limit -----------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def set_rate_limit(self, rps: int | None) -> None:
        with self._lock:
            self._rps = rps or None
            self._last_request = None
            self._excess = 0.0

    def _take_fault(self) -> Fault | None:
        with self._lock:
            while self._faults and self._faults[0].count <= 0:
                self._faults.popleft()
            if not self._faults:
                return None
            self._faults[0].count -= 1
            return self._faults[0]

    def _over_rate(self) -> bool:
        """nginx ``limit_req`` as the public instance configures it (rate N/s, burst 5, nodelay): a
        leaky bucket that drains N requests per second and refuses a request that would overflow it."""
        with self._lock:
            if self._rps is None:
                return False
            now = self._clock()
            last = now if self._last_request is None else self._last_request
            excess = max(0.0, self._excess - (now - last) * self._rps) + 1.0
            self._last_request = now
            if excess > RATE_LIMIT_BURST + 1:
                self._excess = excess - 1.0  # the refused request does not fill the bucket
                return True
            self._excess = excess
            return False

    # --- HTTP routing (pure: the server only moves bytes) -------------------------------------------
    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        """Answer one request; API answers are counted by status in ``served``."""
        response = self._route(method, target, body)
        if not target.startswith("/_sim/"):
            with self._lock:
                self.served[response.status] += 1
                self.calls[endpoint_of(target)] += 1
        return response

    def _route(self, method: str, target: str, body: bytes) -> SimResponse:
        parts = urlsplit(target)
        segments = [unquote(seg) for seg in parts.path.strip("/").split("/")]
        # blank values kept (``?platform=``), as FastAPI keeps them: they fail validation, not count as absent
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if segments[0] == "_sim":
            return self._admin(method, segments[1:], query, body)
        if method != "GET":
            return json_response(405, {"error": "Method Not Allowed"})
        if self._over_rate():
            return json_response(429, RATE_LIMIT_BODY, {"Retry-After": "1"})
        fault = self._take_fault()
        if fault is not None and (fault.status or fault.garbage or fault.huge or fault.deep):
            return self._fault_response(fault)
        with self._lock:
            self._tick()
            response = self._api(segments, query)
        if fault is not None and (fault.delay or fault.trickle):
            return SimResponse(response.status, response.body, response.headers, fault.delay, fault.trickle)
        return response

    def _fault_response(self, fault: Fault) -> SimResponse:
        if fault.garbage:
            return SimResponse(200, b"<html>not json", {"Content-Type": "text/html"}, fault.delay)
        if fault.huge:
            padding = b"x" * max(0, fault.huge - len(b'{"padding":""}'))
            return SimResponse(200, b'{"padding":"' + padding + b'"}')
        if fault.deep:
            return SimResponse(200, b"[" * fault.deep + b"]" * fault.deep)
        status = fault.status or 500
        if status == 429:
            return json_response(429, RATE_LIMIT_BODY, {"Retry-After": "1"})
        message = ERROR_BODIES.get(status, ERROR_BODIES[500]).format(retry_after=fault.retry_after)
        headers = {"Retry-After": str(fault.retry_after)} if status == 503 else {}
        return json_response(status, {"error": message}, headers)

    def _api(self, segments: list[str], query: dict[str, str]) -> SimResponse:  # noqa: PLR0911 - router
        statics = {"heroes": simdata.heroes_body, "roles": simdata.roles_body}
        statics["gamemodes"] = simdata.gamemodes_body
        if len(segments) == 1 and segments[0] in statics:
            return cached(statics[segments[0]](self.media_base))
        if segments == ["heroes", "stats"]:
            status, body, headers = hero_stats(self.seed, self.meta_step, query)
            return json_response(status, body, headers)
        if segments == ["players"]:
            return self._search(query)
        if segments[0] != "players" or len(segments) < 2:
            return json_response(404, {"error": "Route not found"})
        player = self._players.get(segments[1]) or self._by_blizzard_id(segments[1])
        if player is None:
            return self._not_found(segments[1])
        rest = segments[2:]
        if rest == ["summary"]:
            return cached(simdata.summary_body(player, self.media_base))
        if rest == []:
            return cached(simdata.player_body(player, self.media_base))
        if rest == ["stats", "summary"]:
            return self._stats_summary(player, query)
        return json_response(404, {"error": "Route not found"})

    def _by_blizzard_id(self, player_id: str) -> SimPlayer | None:
        wanted = player_id.lower()
        return next((p for p in self._players.values() if p.blizzard_id == wanted), None)

    def _search(self, query: dict[str, str]) -> SimResponse:
        status, body = search_body(list(self._players.values()), query, self.media_base)
        return cached(body) if status == 200 else json_response(status, body)

    def _stats_summary(self, player: SimPlayer, query: dict[str, str]) -> SimResponse:
        gamemode, platform = query.get("gamemode"), query.get("platform")
        if gamemode is not None and gamemode not in GAMEMODES:
            return validation_error("gamemode", gamemode, GAMEMODES)
        if platform is not None and platform not in PLATFORMS:
            return validation_error("platform", platform, PLATFORMS)
        return cached(simdata.stats_summary_body(player, gamemode, platform))

    def _not_found(self, player_id: str) -> SimResponse:
        checks = self._not_found_checks[player_id] = self._not_found_checks.get(player_id, 0) + 1
        retry_after = min(600 * 3 ** (checks - 1), 21600)
        error = {"error": "Player not found", "retry_after": retry_after}
        error |= {"next_check_at": int(self._clock()) + retry_after, "check_count": checks}
        return json_response(404, {"error": error})

    def _admin(  # noqa: PLR0911 - a router
        self, method: str, segments: list[str], query: dict[str, str], body: bytes
    ) -> SimResponse:
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(400, {"error": "the body must be JSON"})
        route = (method, segments[0] if segments else "")
        if route == ("GET", "media") and len(segments) == 3:
            picture = media.svg(segments[1], segments[2].removesuffix(".svg"))
            if picture is None:
                return json_response(404, {"error": "no such picture"})
            return SimResponse(
                200, picture, {"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}
            )
        if route == ("POST", "advance"):
            try:
                return json_response(200, {"entries": self.advance(query.get("player"))})
            except KeyError:
                return json_response(404, {"error": f"no simulated player {query.get('player')!r}"})
        if route == ("GET", "history") and len(segments) == 2:
            return json_response(200, self.history(segments[1]))
        if route == ("GET", "players"):
            return json_response(200, self.player_ids())
        if route == ("POST", "faults") and isinstance(payload, dict):
            return self._admin_fault(payload)
        if route == ("POST", "ratelimit") and isinstance(payload, dict):
            self.set_rate_limit(payload.get("rps"))
            return json_response(200, {"rps": self._rps})
        return json_response(404, {"error": "unknown simulator admin route"})

    def _admin_fault(self, payload: dict[str, Any]) -> SimResponse:
        if "garbage" in payload:
            fault = Fault(count=int(payload["garbage"]), garbage=True)
        elif "delay" in payload:
            fault = Fault(count=int(payload.get("count", 1)), delay=float(payload["delay"]))
        elif "trickle" in payload:
            fault = Fault(count=int(payload["trickle"]), trickle=float(payload.get("interval", 0.05)))
        elif "huge" in payload:
            fault = Fault(count=int(payload["huge"]), huge=int(payload.get("size", 4 * 1024 * 1024)))
        elif "deep" in payload:
            fault = Fault(count=int(payload["deep"]), deep=int(payload.get("depth", 200_000)))
        elif payload.get("status") in (429, 500, 503, 504):
            fault = Fault(count=int(payload.get("count", 1)), status=int(payload["status"]))
            fault.retry_after = int(payload.get("retry_after", 1))
        else:
            expected = (
                "expected {status: 429|503|504|500, count}, {garbage: n}, {delay, count}, {trickle: n, interval}, "
                "{huge: n, size} or {deep: n, depth}"
            )
            return json_response(400, {"error": expected})
        self.add_fault(fault)
        return json_response(200, {"queued": fault.__dict__})


def player_ids(seed: int = 0) -> list[str]:
    """The players a simulator with this seed serves (``owstream simulate --players``). One of them
    is private; :data:`UNKNOWN_PLAYER_ID` (or any other id) answers 404."""
    return Simulator(seed=seed).player_ids()


def serve_forever(
    port: int = 8080,
    *,
    host: str = "127.0.0.1",
    seed: int = 0,
    players: int | Sequence[str] | None = None,
    advance_every: float | None = None,
    state_path: Path | None = None,
) -> None:
    """Run a simulator in the foreground (``owstream simulate``) until interrupted."""
    simulator = Simulator(seed=seed, players=players, advance_every=advance_every, state_path=state_path)
    server = SimulatorServer(simulator, host=host, port=port)
    log.info("OverFast simulator on %s with %d players", server.url, len(simulator.player_ids()))
    server.serve_forever()
