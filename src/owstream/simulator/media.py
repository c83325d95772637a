"""The simulator's own pictures: avatars, namecards, rank, tier, role and endorsement icons, hero portraits and
gamemode icons as small SVGs it draws itself, served under ``/_sim/media/<kind>/<name>.svg``.

The bodies the simulator serves point there (not at Blizzard's CDN), so the offline demo shows them without
the internet. Each picture is drawn from its name alone: the same URL is the same image on every run.
"""

from __future__ import annotations

import hashlib
from html import escape

PREFIX = "/_sim/media"
KINDS = frozenset({"avatar", "namecard", "rank", "tier", "role", "endorsement", "hero", "gamemode"})
DEFAULT_BASE = "http://127.0.0.1:8080"  # `owstream simulate`'s default port, until the server says its own

# OverFast's division keys and a colour each (bronze ... ultimate, shown as Champion)
_DIVISION_COLOURS = {
    "bronze": "#a0672f", "silver": "#a9b3bd", "gold": "#e0b341", "platinum": "#7fb8c9", "diamond": "#6f8fe8",
    "master": "#b68ce8", "grandmaster": "#e86f9c", "ultimate": "#f2665c",
}  # fmt: skip
_ROLE_LETTERS = {"tank": "T", "damage": "D", "support": "S", "open": "O"}


def url(base: str, kind: str, name: str) -> str:
    """Where the picture ``kind``/``name`` is served by the simulator at ``base``."""
    return f"{base.rstrip('/')}{PREFIX}/{kind}/{name}.svg"


def svg(kind: str, name: str) -> bytes | None:
    """The picture, or None for a kind this simulator does not draw."""
    if kind not in KINDS or not name or len(name) > 128:
        return None
    colour = _colour(name)
    initials = "".join(part[:1] for part in name.split("-"))[:2].upper()
    drawn = {
        "avatar": lambda: _identicon(name),
        "namecard": lambda: _picture(460, 100, colour, ""),
        "rank": lambda: _badge(_DIVISION_COLOURS.get(name.lower(), colour), name[:1].upper()),
        "role": lambda: _badge("#4a5568", _ROLE_LETTERS.get(name, name[:1].upper())),
        "tier": lambda: _badge("#2d3748", name[:2]),
        "endorsement": lambda: _badge("#38a169", name[:2]),
    }
    return drawn.get(kind, lambda: _picture(128, 128, colour, initials))()


def _colour(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return "#" + "".join(f"{64 + b % 160:02x}" for b in digest[:3])


def _identicon(name: str) -> bytes:
    """A 5x5 mirrored grid of squares in a colour of the name (GitHub-style)."""
    bits = hashlib.sha256(name.encode()).digest()
    colour = _colour(name)
    cells = []
    for row in range(5):
        for col in range(3):
            if bits[3 + row * 3 + col] & 1:
                for x in {col, 4 - col}:
                    cells.append(f'<rect x="{8 + x * 16}" y="{8 + row * 16}" width="16" height="16" fill="{colour}"/>')
    body = "".join(cells)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" rx="12" fill="#f0f2f6"/>{body}</svg>'
    ).encode()


def _badge(colour: str, text: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<polygon points="32,2 60,18 60,46 32,62 4,46 4,18" fill="{colour}"/>'
        '<text x="32" y="41" font-family="Helvetica,Arial,sans-serif" font-size="24" font-weight="bold" '
        f'text-anchor="middle" fill="#ffffff">{escape(text)}</text></svg>'
    ).encode()


def _picture(width: int, height: int, colour: str, text: str) -> bytes:
    label = (
        f'<text x="{width // 2}" y="{height // 2 + 14}" font-family="Helvetica,Arial,sans-serif" font-size="40" '
        f'text-anchor="middle" fill="#ffffff">{escape(text)}</text>'
        if text
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" rx="10" fill="{colour}"/>{label}</svg>'
    ).encode()
