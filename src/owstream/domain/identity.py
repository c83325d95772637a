"""Whose answer is it: the rules that prove a player's identity before any of its data is stored. Pure.

OverFast resolves a BattleTag on Blizzard's site (the career page of ``Name-1234`` leads to the account), so
an answer fetched *by the BattleTag* is that player's, and its summary's ``username`` is the BattleTag's
name. OverFast's search (``/players?name=``) is weaker: Blizzard's search shows names without the number
after the ``#``, OverFast keeps the public players whose name equals the one asked (case-sensitively) and
labels a single hit with the search input as its ``player_id`` -- whoever that account is (OverFast issue
#382: ``Player-137712``, a private profile, came back as the only public account named "Player"). So:

* **A search hit proves a Blizzard id only when it agrees with the player's own answer**, fetched by its
  BattleTag moments before: the same name, public (Blizzard's search lists public profiles only: for a private
  profile every hit is someone else), and the same ``last_updated_at`` (Blizzard's second of the account's
  last update; two accounts of one name share it only by accident). A hit labelled with another BattleTag
  (another number) never counts. Exactly one hit must agree: none is a *mismatch*, several are *ambiguous*.
* **Every answer fetched by a Blizzard id on behalf of a BattleTag is checked again**: its ``username`` must
  be the BattleTag's name. One that is not is a *mismatch* (the account is named otherwise now: renamed, or
  the id was never this player's): stored as an outcome with why, never as the player's data.
* **A verdict other than proven is checked again on a backoff** (1 h, 3 h, 9 h ... at most a week), so a
  player costs one search per backoff, not one per fetch; a failed search waits too.
* **Case**: OverFast compares names case-sensitively. A BattleTag not found as typed is looked up under the
  usual spellings of its name (``Rook``, ``ROOK``, ``rook``); a single hit whose name and number equal it
  apart from case is offered ("did you mean Rook#33834?"), never switched to.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from owstream.domain.battletag import BattleTag, BlizzardId, is_blizzard_id
from owstream.domain.outcomes import utc
from owstream.errors import InvalidBattleTag

Verdict = Literal["proven", "private", "not_listed", "mismatch", "ambiguous", "failed", "legacy"]
VERDICTS: tuple[Verdict, ...] = ("proven", "private", "not_listed", "mismatch", "ambiguous", "failed", "legacy")

RECHECK_FIRST = 3600.0  # seconds before an unproven identity is searched again, the first time
RECHECK_FACTOR = 3.0
RECHECK_MAX = 7 * 86400.0


@dataclass(frozen=True, slots=True)
class Hit:
    """One hit of OverFast's search, as the rules need it."""

    player_id: str  # the search input (a single hit) or the account's Blizzard id (several), as OverFast sent it
    name: str
    blizzard_id: str | None  # decoded (``hex|hex``), lower case; None if OverFast sent none or no Blizzard id
    last_updated_at: int | None
    is_public: bool | None


@dataclass(frozen=True, slots=True)
class Profile:
    """The player's own answer, fetched by its BattleTag."""

    username: str
    last_updated_at: int | None
    private: bool


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    blizzard_id: str | None  # the proven id (verdict ``proven``), else None
    why: str  # one line, for people

    @property
    def proven(self) -> bool:
        return self.verdict == "proven"


def blizzard_of(text: str | None) -> str | None:
    """``hex|hex`` of OverFast's ``blizzard_id`` (``hex%7Chex``); None if it is not one."""
    if not text:
        return None
    decoded = unquote(text).strip().lower()
    return BlizzardId.parse(decoded).value if is_blizzard_id(decoded) else None


def same_name(a: str, b: str) -> bool:
    """Names equal as Blizzard shows them (NFC: a name typed decomposed is the same name)."""
    return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def same_apart_from_case(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).casefold() == unicodedata.normalize("NFC", b).casefold()


def judge(tag: BattleTag, profile: Profile, hits: Sequence[Hit]) -> Judgement:
    """Whether OverFast's search proves ``tag``'s Blizzard id, given the player's own answer (see the module)."""
    if profile.private:
        return Judgement(
            "private",
            None,
            f"{tag}'s profile is private: Blizzard's search lists public profiles only, so a hit would be another "
            "player; checked again once it is public",
        )
    named = [h for h in hits if same_name(h.name, tag.name) and _number_fits(h, tag)]
    if not named:
        return Judgement("not_listed", None, f"OverFast's search lists no public player named {tag.name}")
    agreeing = [h for h in named if _agrees(h, profile)]
    if len(agreeing) == 1 and agreeing[0].blizzard_id is not None:
        hit = agreeing[0]
        return Judgement(
            "proven",
            hit.blizzard_id,
            f"the search's only public {tag.name} updated at {utc(hit.last_updated_at)} is {tag}'s own profile",
        )
    if len(agreeing) > 1:
        return Judgement(
            "ambiguous",
            None,
            f"{len(agreeing)} public players named {tag.name} were updated when {tag} was: none is proven to be {tag}",
        )
    return Judgement("mismatch", None, _mismatch_why(tag, profile, named))


def _number_fits(hit: Hit, tag: BattleTag) -> bool:
    """A hit labelled with a BattleTag of another number is another player (a Blizzard-id label says nothing)."""
    label = unquote(hit.player_id)
    if is_blizzard_id(label):
        return True
    try:
        labelled = BattleTag.parse(label)
    except InvalidBattleTag:
        return False
    return labelled.number == tag.number


def _agrees(hit: Hit, profile: Profile) -> bool:
    return (
        hit.is_public is not False
        and hit.last_updated_at is not None
        and hit.last_updated_at == profile.last_updated_at
        and same_name(hit.name, profile.username)
    )


def _mismatch_why(tag: BattleTag, profile: Profile, named: Sequence[Hit]) -> str:
    if len(named) == 1:
        hit = named[0]
        return (
            f"the search's only {hit.name} (labelled {unquote(hit.player_id)}) was updated at "
            f"{utc(hit.last_updated_at)}, {tag} at {utc(profile.last_updated_at)}: another account of that name"
        )
    return f"none of the {len(named)} players named {tag.name} was updated when {tag} was: none is {tag}"


def recheck_after(checks: int) -> float:
    """Seconds before an identity checked ``checks`` times without proof is searched again."""
    return min(RECHECK_MAX, RECHECK_FIRST * RECHECK_FACTOR ** max(0, checks - 1))


# --- the answer fetched: is it the player asked for? ---------------------------------------------------------


def answer_problem(requested: str, username: str, *, by: str) -> str | None:
    """Why an answer named ``username`` is not ``requested``'s (a BattleTag as OverFast wants it, ``Name-1234``),
    fetched by the id ``by`` (the BattleTag itself or its Blizzard id); None if it is. A Blizzard id asked for
    directly names no one: any answer is its own."""
    try:
        tag = BattleTag.parse(requested)
    except InvalidBattleTag:
        return None
    if same_name(username, tag.name):
        return None
    asked = "by its BattleTag" if by == requested else f"by its Blizzard id {by}"
    if same_apart_from_case(username, tag.name):
        return (
            f"OverFast's answer for {tag} ({asked}) is named {username}, not {tag.name}: BattleTags differ by case; "
            f"did you mean {BattleTag(username, tag.number)}?"
        )
    return (
        f"OverFast's answer for {tag} ({asked}) is named {username}: not {tag}'s data (renamed, or another "
        "account), so it is not stored as theirs"
    )


def case_suggestion(requested: str, username: str) -> str | None:
    """``Rook-33834`` when an answer for ``rook-33834`` is named ``Rook``; None otherwise."""
    try:
        tag = BattleTag.parse(requested)
    except InvalidBattleTag:
        return None
    if same_apart_from_case(username, tag.name) and not same_name(username, tag.name):
        return BattleTag(username, tag.number).player_id
    return None


# --- case: a BattleTag not found as typed ------------------------------------------------------------------


def case_variants(name: str) -> list[str]:
    """The spellings of ``name`` worth a search when it was not found as typed (OverFast's search compares names
    case-sensitively): capitalised, upper and lower case, each once, the typed one left out."""
    spellings = [name[:1].upper() + name[1:].lower(), name.upper(), name.lower()]
    return [s for s in dict.fromkeys(spellings) if s != name]


def suggestion(tag: BattleTag, searched: str, hits: Sequence[Hit]) -> BattleTag | None:
    """The BattleTag to offer for ``tag`` (not found as typed) from the answer of a search for ``searched``
    (``Name-1234`` in another case): its single hit, when its name and the number it is labelled with equal
    ``tag``'s apart from case. Several hits carry no number: nothing is offered."""
    if len(hits) != 1:
        return None
    hit = hits[0]
    label = unquote(hit.player_id)
    if label != searched or not same_apart_from_case(hit.name, tag.name) or same_name(hit.name, tag.name):
        return None
    return BattleTag(unicodedata.normalize("NFC", hit.name), tag.number)
