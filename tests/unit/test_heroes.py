"""Hero display names: one function for the CLI, the dashboard and the alerts."""

from __future__ import annotations

import pytest

from owstream.domain.heroes import hero_name


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("soldier-76", "Soldier 76"),
        ("wrecking-ball", "Wrecking Ball"),
        ("ana", "Ana"),
        ("junker-queen", "Junker Queen"),
    ],
)
def test_a_hero_key_reads_as_a_name(key: str, name: str) -> None:
    assert hero_name(key) == name
