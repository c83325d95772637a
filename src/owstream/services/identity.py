"""Which history a fetch belongs to, which id OverFast is asked by, and whether the answer is the player's:
the fetcher's side of :mod:`owstream.domain.identity` (the rules), kept in the store's ``player_aliases``.

* A BattleTag's Blizzard id is learned from OverFast's search once it is **proven** (the hit agrees with the
  player's own answer, fetched by the BattleTag); from then on the player is asked for by the Blizzard id,
  which survives a rename, and a new BattleTag proven to have it continues the same history.
* An identity that is not proven (not listed, ambiguous, another account, a failed search, learned before
  proofs existed) is checked again on a backoff: one search per backoff, not one per fetch. A private
  profile is not searched (Blizzard's search lists public profiles only) until it is public again.
* Every answer fetched by a Blizzard id on behalf of a BattleTag is checked by its ``username``; one named
  otherwise is a ``mismatch`` (the fetcher stores the outcome, not the data) and the Blizzard id is no longer
  used until proven again.
* A BattleTag OverFast does not find is looked up under the usual spellings of its name: a single hit equal
  to it apart from case is offered as a suggestion, never fetched in its place.

A store that cannot be read: every id is its own history and is asked for as it is (what owstream did before).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from owstream.domain.battletag import BattleTag, is_blizzard_id
from owstream.domain.identity import (
    Hit,
    Judgement,
    Profile,
    blizzard_of,
    case_variants,
    judge,
    recheck_after,
    suggestion,
)
from owstream.errors import InvalidBattleTag, OverFastError
from owstream.messages.bodies import SearchHit
from owstream.overfast.client import OverFastClient
from owstream.store import Store
from owstream.store.aliases import Alias

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    requested: str
    history_id: str  # the player id results are stored under
    upstream_id: str  # the id OverFast is asked by
    alias: Alias | None = None  # the requested id's row, if any

    @property
    def by_blizzard_id(self) -> bool:
        """Asked for by a proven Blizzard id on behalf of another id (a BattleTag)."""
        return self.upstream_id != self.requested


def hits_of(found: list[SearchHit]) -> list[Hit]:
    return [Hit(h.player_id, h.name, blizzard_of(h.blizzard_id), h.last_updated_at, h.is_public) for h in found]


class Identities:
    def __init__(self, store: Store | None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def resolve(self, requested: str) -> Identity:
        if self._store is None:
            return Identity(requested, requested, requested)
        try:
            found = self._store.aliases.lookup(requested)
            if found is not None and found.proven:
                assert found.blizzard_id is not None
                return Identity(requested, found.player_id, found.blizzard_id, found)
            if found is not None:  # a legacy row's history may be another player's: its own until proven
                history = requested if found.verdict == "legacy" else found.player_id
                return Identity(requested, history, requested, found)
            if is_blizzard_id(requested):
                owner = self._store.aliases.owner_of(requested)
                return Identity(requested, owner or requested, requested)
        except Exception as exc:  # a database error: fetch as before
            log.warning("player aliases unreadable (%s): %s is its own history", exc, requested)
            return Identity(requested, requested, requested)
        return Identity(requested, requested, requested)

    # --- after an ok or private answer that is the player's ---------------------------------------------------
    def learn(self, client: OverFastClient, identity: Identity, profile: Profile) -> Identity:
        """Check the identity of an id answered ok/private (by its BattleTag), if it is due; the identity the
        result is stored under (a proven new name of a known account: that account's history)."""
        tag = self._to_check(identity)
        if tag is None:
            return identity
        row = identity.alias
        if profile.private:
            if row is None or row.verdict != "private":
                why = judge(tag, profile, []).why
                self._record(identity, None, "private", why, checks=row.checks if row else 0, next_check=None)
            return identity
        if row is not None and row.verdict != "private" and not row.due(self._clock()):
            return identity  # checked lately: the backoff holds
        verdict = self._search(client, identity, tag, profile)
        return self._proven(identity, verdict) if verdict is not None and verdict.proven else identity

    def _to_check(self, identity: Identity) -> BattleTag | None:
        """The BattleTag whose identity may need a check; None when there is nothing to learn (no store, proven
        already, a Blizzard id asked for directly: recorded as its own proof)."""
        if self._store is None or (identity.alias is not None and identity.alias.proven):
            return None
        if is_blizzard_id(identity.requested):
            self._store.aliases.add(identity.requested, identity.history_id, identity.requested, self._clock())
            return None
        try:
            return BattleTag.parse(identity.requested)
        except InvalidBattleTag:
            return None

    def _search(self, client: OverFastClient, identity: Identity, tag: BattleTag, profile: Profile) -> Judgement | None:
        """OverFast's search judged (None: it did not answer); anything but a proof is recorded with its backoff."""
        now = self._clock()
        checks = (identity.alias.checks if identity.alias is not None else 0) + 1
        again = now + recheck_after(checks)
        try:
            answer = client.search(identity.requested)
        except OverFastError as exc:
            why = f"OverFast's search did not answer ({str(exc)[:200]})"
            log.info("identity of %s not checked: %s; again in %.0f s", identity.requested, why, again - now)
            self._record(identity, None, "failed", why, checks=checks, next_check=again)
            return None
        verdict = judge(tag, profile, hits_of(answer.checked.results))
        if not verdict.proven:
            log.info("identity of %s not proven (%s): %s", identity.requested, verdict.verdict, verdict.why)
            self._record(identity, None, verdict.verdict, verdict.why, checks=checks, next_check=again)
        return verdict

    def _proven(self, identity: Identity, verdict: Judgement) -> Identity:
        assert self._store is not None and verdict.blizzard_id is not None
        blizzard, aliases = verdict.blizzard_id, self._store.aliases
        history = aliases.owner_of(blizzard) or self._legacy_history(identity, blizzard) or identity.history_id
        why = verdict.why
        if history != identity.requested:
            why += f"; a new name of {history}'s account (Blizzard id {blizzard}): one history"
            log.info("%s is a new name of %s (Blizzard id %s): one history", identity.requested, history, blizzard)
        moved = replace(identity, history_id=history)
        self._record(moved, blizzard, "proven", why, checks=0, next_check=None)
        aliases.add(blizzard, history, blizzard, self._clock())
        return Identity(identity.requested, history, blizzard, aliases.lookup(identity.requested))

    def _legacy_history(self, identity: Identity, blizzard: str) -> str | None:
        """The history a legacy row joined this id to, when that history's own id had the same Blizzard id: a
        rename linked before proofs existed, now proven on this side."""
        assert self._store is not None
        row = identity.alias
        if row is None or row.verdict != "legacy" or row.player_id == identity.requested:
            return None
        other = self._store.aliases.lookup(row.player_id)
        return row.player_id if other is not None and other.blizzard_id == blizzard else None

    def reject(self, identity: Identity, why: str) -> None:
        """An answer by the Blizzard id is named otherwise: the id is not used again until proven again."""
        if self._store is None:
            return
        now = self._clock()
        row = identity.alias
        checks = (row.checks if row is not None else 0) + 1
        blizzard = row.blizzard_id if row is not None else None
        self._record(identity, blizzard, "mismatch", why, checks=checks, next_check=now + recheck_after(checks))

    def _record(
        self, identity: Identity, blizzard: str | None, verdict: str, why: str, *, checks: int, next_check: float | None
    ) -> None:
        assert self._store is not None
        now = self._clock()
        first = identity.alias.learned_at if identity.alias is not None else now
        row = Alias(identity.requested, identity.history_id, blizzard, verdict, why, now, next_check, checks, first)
        try:
            self._store.aliases.record(row)
        except Exception as exc:  # a store that cannot be written: checked again next time
            log.warning("the identity of %s cannot be recorded (%s)", identity.requested, exc)

    # --- a BattleTag not found as typed -----------------------------------------------------------------------
    def suggest(self, client: OverFastClient, requested: str) -> str | None:
        """A BattleTag OverFast knows that equals ``requested`` apart from case (its player id), or None."""
        try:
            tag = BattleTag.parse(requested)
        except InvalidBattleTag:
            return None
        for name in case_variants(tag.name):
            searched = BattleTag(name, tag.number).player_id
            try:
                answer = client.search(searched)
            except OverFastError as exc:
                log.info("no suggestion for %s: OverFast's search did not answer (%s)", requested, exc)
                return None
            found = suggestion(tag, searched, hits_of(answer.checked.results))
            if found is not None:
                return found.player_id
        return None
