"""Heroes as people know them: the display name of an OverFast hero key.

One function for the CLI, the dashboard and the alerts alike. Its source is a local fallback for now (the
key in title case: ``soldier-76`` -> ``Soldier 76``, so a new hero needs no table); the names OverFast's
``/heroes`` gives (``D.Va``, ``Soldier: 76``, ``Lúcio``) replace it behind this same function.
"""

from __future__ import annotations


def hero_name(key: str) -> str:
    """``soldier-76`` -> ``Soldier 76``, ``wrecking-ball`` -> ``Wrecking Ball``."""
    return " ".join(part.capitalize() for part in key.split("-"))
