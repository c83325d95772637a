"""Heroes as people know them: the display name, role and portrait of each hero key, from OverFast's
``GET /heroes`` (the meta service stores it; :meth:`owstream.store.Store.heroes` reads it back).

Every page, the CLI and the alerts name heroes through :func:`hero_name`. OverFast's keys are slugs
(``soldier-76``, ``dva``); a hero the catalogue does not know yet (before the first ``/heroes`` answer, or a
hero released since) is named from its key (``soldier-76`` -> ``Soldier 76``), so nothing waits for a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ROLE_NAMES: dict[str, str] = {"tank": "Tank", "damage": "Damage", "support": "Support", "open": "Open queue"}
ROLE_ORDER: tuple[str, ...] = ("tank", "damage", "support")


@dataclass(frozen=True, slots=True)
class Hero:
    key: str
    name: str
    role: str | None = None  # tank, damage, support (None: not known)
    portrait: str | None = None  # an image URL (Blizzard's CDN, or the simulator's own)


Catalogue = Mapping[str, Hero]
Names = Mapping[str, "Hero | str"]  # a catalogue, or display names by key (``show --json``'s ``hero_names``)


def name_from_key(key: str) -> str:
    """``soldier-76`` -> ``Soldier 76``, ``wrecking-ball`` -> ``Wrecking Ball``: the fallback name."""
    return " ".join(part.capitalize() for part in key.split("-"))


def hero_name(key: str, catalogue: Names | None = None) -> str:
    """The hero's display name (``Soldier: 76``, ``D.Va``, ``Lúcio``), from its key when not catalogued."""
    found = catalogue.get(key) if catalogue else None
    if isinstance(found, str) and found:
        return found
    return found.name if isinstance(found, Hero) and found.name else name_from_key(key)


def hero_role(key: str, catalogue: Catalogue | None = None, fallback: Mapping[str, str] | None = None) -> str | None:
    """The hero's role from the catalogue, else from ``fallback`` (e.g. the meta's role-filtered answers)."""
    found = catalogue.get(key) if catalogue else None
    if found is not None and found.role:
        return found.role
    return (fallback or {}).get(key)


def hero_portrait(key: str, catalogue: Catalogue | None = None) -> str | None:
    found = catalogue.get(key) if catalogue else None
    return found.portrait if found is not None else None


def role_name(role: str | None) -> str:
    """``Tank``, ``Damage``, ``Support``; ``Unknown role`` for None."""
    if not role:
        return "Unknown role"
    return ROLE_NAMES.get(role, role.capitalize())
