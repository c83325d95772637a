"""Player references: BattleTags (``Name#1234`` as players type them, ``Name-1234`` as OverFast wants them)
and Blizzard's own player ids (``hex|hex``, ``%7C`` for the bar in URLs), which OverFast accepts too and
which stay the same when a player changes their BattleTag. :func:`parse_player` takes either."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from owstream.errors import InvalidBattleTag

NAME_MIN, NAME_MAX = 3, 12
NUMBER_MIN, NUMBER_MAX = 3, 8
_ASCII_DIGITS = frozenset("0123456789")

HELP = (
    "a BattleTag is a name of 3-12 letters or digits (not starting with a digit), then # or -, "
    "then 3-8 digits, for example TeKrop#2217 or TeKrop-2217"
)


@dataclass(frozen=True, slots=True)
class BattleTag:
    """A valid BattleTag. Case is kept: OverFast player ids are case-sensitive."""

    name: str
    number: str

    @classmethod
    def parse(cls, text: str) -> BattleTag:
        """Accept ``Name#1234`` or ``Name-1234`` (surrounding spaces ignored); raise InvalidBattleTag.

        The text is normalised to NFC first: a name typed in decomposed form (``e`` + combining
        diaeresis, as some keyboards send it) is the same BattleTag as the composed ``ë``."""
        raw = unicodedata.normalize("NFC", text).strip()
        cut = max(raw.rfind("#"), raw.rfind("-"))
        if cut <= 0:
            raise InvalidBattleTag(f"{text!r} is not a BattleTag: {HELP}")
        name, number = raw[:cut], raw[cut + 1 :]
        problem = _name_problem(name) or _number_problem(number)
        if problem:
            raise InvalidBattleTag(f"{text!r} is not a BattleTag ({problem}): {HELP}")
        return cls(name, number)

    @property
    def player_id(self) -> str:
        """The id OverFast uses in URLs: ``Name-1234``."""
        return f"{self.name}-{self.number}"

    def __str__(self) -> str:
        return f"{self.name}#{self.number}"


def _name_problem(name: str) -> str | None:
    if not NAME_MIN <= len(name) <= NAME_MAX:
        return f"the name has {len(name)} characters, not {NAME_MIN}-{NAME_MAX}"
    if any(not (ch.isalpha() or ch in _ASCII_DIGITS) for ch in name):
        return "the name may hold only letters and digits"
    if not name[0].isalpha():
        return "the name must start with a letter"
    return None


def _number_problem(number: str) -> str | None:
    if not NUMBER_MIN <= len(number) <= NUMBER_MAX or any(ch not in _ASCII_DIGITS for ch in number):
        return f"the number must be {NUMBER_MIN}-{NUMBER_MAX} digits"
    return None


_BLIZZARD_ID = re.compile(r"^([0-9a-f]{6,40})(?:\||%7c)([0-9a-f]{6,40})$")


@dataclass(frozen=True, slots=True)
class BlizzardId:
    """Blizzard's player id: two hexadecimal parts joined by ``|`` (lower case, as OverFast gives it)."""

    value: str

    @classmethod
    def parse(cls, text: str) -> BlizzardId:
        """Accept ``hex|hex`` or ``hex%7Chex`` (any case, surrounding spaces ignored); raise InvalidBattleTag."""
        found = _BLIZZARD_ID.match(text.strip().lower())
        if found is None or len(found.group(1)) + len(found.group(2)) + 1 > 64:
            raise InvalidBattleTag(f"{text!r} is not a Blizzard player id (hex|hex)")
        return cls(f"{found.group(1)}|{found.group(2)}")

    @property
    def player_id(self) -> str:
        """The id as the messages and the store keep it (the client URL-encodes the bar)."""
        return self.value

    def __str__(self) -> str:
        return self.value


PlayerRef = BattleTag | BlizzardId


def is_blizzard_id(text: str) -> bool:
    return _BLIZZARD_ID.match(text.strip().lower()) is not None


def parse_player(text: str) -> PlayerRef:
    """A BattleTag (``Name#1234``, ``Name-1234``) or a Blizzard player id (``hex|hex``); InvalidBattleTag
    saying what either looks like otherwise."""
    if is_blizzard_id(text):
        return BlizzardId.parse(text)
    try:
        return BattleTag.parse(text)
    except InvalidBattleTag as exc:
        raise InvalidBattleTag(f"{exc}; or Blizzard's player id (hex|hex)") from None


def player_id_problem(player_id: str) -> str | None:
    """Why ``player_id`` is not a player id OverFast takes (``Name-1234`` or ``hex|hex``), or None if it is one."""
    try:
        ref = parse_player(player_id)
    except InvalidBattleTag as exc:
        return str(exc)
    if ref.player_id != player_id:
        return f"{player_id!r} is not in the form Name-1234 (or hex|hex)"
    return None
