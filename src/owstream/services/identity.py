"""Which history a fetch belongs to and which id OverFast is asked by: one history per player across a
BattleTag change, when OverFast gives the same Blizzard id.

* The mapping lives in the store's ``player_aliases`` table: requested id (BattleTag or Blizzard id) ->
  history id (the first id the store knew the player by) and Blizzard id.
* A BattleTag fetched ok (or private) for the first time is looked up once in OverFast's search
  (``/players?name=``), which lists ``blizzard_id``. If another history already has that Blizzard id, the
  BattleTag is a new name of that player: this result and every later one go to that history. Later
  fetches ask OverFast by the Blizzard id, which survives the next rename.
* Unknown (the search does not list the player, or fails): the BattleTag keeps its own history, and is
  not searched again (the alias row says so, with no Blizzard id). A Blizzard id requested directly
  belongs to the history that has it, else to its own.

A store that cannot be read: every id is its own history (what owstream did before).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from owstream.domain.battletag import is_blizzard_id
from owstream.errors import OverFastError
from owstream.overfast.client import OverFastClient
from owstream.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    requested: str
    history_id: str  # the player id results are stored under
    upstream_id: str  # the id OverFast is asked by
    known: bool  # an alias row exists: nothing to learn


class Identities:
    def __init__(self, store: Store | None) -> None:
        self._store = store

    def resolve(self, requested: str) -> Identity:
        if self._store is None:
            return Identity(requested, requested, requested, True)
        try:
            found = self._store.aliases.lookup(requested)
            if found is not None:
                return Identity(requested, found.player_id, found.blizzard_id or requested, True)
            if is_blizzard_id(requested):
                owner = self._store.aliases.owner_of(requested)
                return Identity(requested, owner or requested, requested, False)
        except Exception as exc:  # a database error: fetch as before
            log.warning("player aliases unreadable (%s): %s is its own history", exc, requested)
            return Identity(requested, requested, requested, True)
        return Identity(requested, requested, requested, False)

    def learn(self, client: OverFastClient, identity: Identity) -> Identity:
        """After an ok/private fetch of an id with no alias yet: record whose history it is."""
        if identity.known or self._store is None:
            return identity
        requested = identity.requested
        if is_blizzard_id(requested):
            blizzard: str | None = requested
        else:
            try:
                blizzard = client.blizzard_id(requested)
            except OverFastError as exc:
                log.info("OverFast's search did not answer for %s (%s): asked again next fetch", requested, exc)
                return identity
        aliases = self._store.aliases
        owner = aliases.owner_of(blizzard) if blizzard else None
        history = owner or identity.history_id
        now = time.time()
        aliases.add(requested, history, blizzard, now)
        if blizzard and not is_blizzard_id(requested):
            aliases.add(blizzard, history, blizzard, now)
        if history != requested:
            log.info("%s is a new name of %s (Blizzard id %s): one history", requested, history, blizzard)
        return Identity(requested, history, blizzard or requested, True)
