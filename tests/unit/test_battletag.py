"""BattleTag parsing, property-based: what is accepted keeps its case and letters, everything else is
rejected with a message that says what a valid BattleTag looks like."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from owstream.domain.battletag import BattleTag
from owstream.errors import InvalidBattleTag

ASCII_DIGITS = "0123456789"
# Letters of every script, already in composed (NFC) form, as players type them.
letters = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"]).filter(
    lambda ch: unicodedata.normalize("NFC", ch) == ch
)
name_chars = st.one_of(letters, st.sampled_from(ASCII_DIGITS))
names = st.builds(lambda first, rest: first + "".join(rest), letters, st.lists(name_chars, min_size=2, max_size=11))
numbers = st.text(alphabet=ASCII_DIGITS, min_size=3, max_size=8)
separators = st.sampled_from("#-")


@given(names, numbers, separators)
def test_valid_tags_are_accepted_as_typed(name: str, number: str, sep: str) -> None:
    tag = BattleTag.parse(f"{name}{sep}{number}")
    assert (tag.name, tag.number) == (name, number)  # case and script kept
    assert tag.player_id == f"{name}-{number}"
    assert str(tag) == f"{name}#{number}"
    assert BattleTag.parse(str(tag)) == tag == BattleTag.parse(tag.player_id)


@given(names, numbers, st.sampled_from([" ", "\t", "  \n"]))
def test_surrounding_whitespace_is_ignored(name: str, number: str, space: str) -> None:
    assert BattleTag.parse(f"{space}{name}#{number}{space}") == BattleTag(name, number)


@given(names, numbers)
def test_decomposed_input_gives_the_composed_tag(name: str, number: str) -> None:
    decomposed = unicodedata.normalize("NFD", name)
    assert BattleTag.parse(f"{decomposed}#{number}") == BattleTag.parse(f"{name}#{number}")


def test_examples() -> None:
    assert BattleTag.parse("TeKrop#2217").player_id == "TeKrop-2217"
    assert BattleTag.parse("KIRIKO-12460").name == "KIRIKO"
    assert BattleTag.parse("Лиса#4242").player_id == "Лиса-4242"
    assert BattleTag.parse("夜明けの星#123").name == "夜明けの星"
    assert BattleTag.parse("Zoë-2024") == BattleTag("Zoë", "2024")


def assert_rejected(text: str) -> None:
    with pytest.raises(InvalidBattleTag) as caught:
        BattleTag.parse(text)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert repr(text) in message
    assert "for example TeKrop#2217" in message
    assert "3-12 letters or digits" in message


@given(st.text(max_size=30))
def test_anything_else_is_rejected_with_help(text: str) -> None:
    raw = unicodedata.normalize("NFC", text.strip())
    cut = max(raw.rfind("#"), raw.rfind("-"))
    name, number = raw[:cut], raw[cut + 1 :]
    plausible = (
        cut > 0
        and 3 <= len(name) <= 12
        and name[0].isalpha()
        and all(ch.isalpha() or ch in ASCII_DIGITS for ch in name)
        and 3 <= len(number) <= 8
        and all(ch in ASCII_DIGITS for ch in number)
    )
    assume(not plausible)
    assert_rejected(text)


@given(names, numbers, separators)
def test_bad_parts_are_rejected(name: str, number: str, sep: str) -> None:
    for bad in (
        f"{name}{number}",  # no separator
        f"{name[:2]}{sep}{number}",  # name too short
        f"{name}{'x' * 12}{sep}{number}",  # name too long
        f"7{name[1:]}{sep}{number}",  # starts with a digit
        f"{name[:-1]}!{sep}{number}",  # punctuation
        f"{name[:-1]} {sep}{number}",  # inner space
        f"{name}{sep}{number[:2]}",  # number too short
        f"{name}{sep}{number}123456",  # number too long
        f"{name}{sep}{number[:-1]}٣",  # a digit, but not an ASCII one
        f"{name}{sep}{number[:-1]}x",
        f"{sep}{number}",
        f"{name}{sep}",
    ):
        assert_rejected(bad)


@pytest.mark.parametrize("text", ["", "   ", "#1234", "-1234", "Te#Krop#2217", "TeKrop#22 17", "Te_Krop#2217"])
def test_examples_rejected(text: str) -> None:
    assert_rejected(text)


def test_blizzard_ids_are_accepted_where_a_battletag_is() -> None:
    from owstream.domain.battletag import BlizzardId, parse_player, player_id_problem

    bid = "c65b8798bc61d6ffbba120|cfe9dd77a4382165e2b920bdcc035949"
    for text in (bid, bid.replace("|", "%7C"), bid.replace("|", "%7c"), f"  {bid.upper()} "):
        ref = parse_player(text)
        assert isinstance(ref, BlizzardId) and ref.player_id == bid
    assert parse_player("TeKrop#2217").player_id == "TeKrop-2217"
    assert player_id_problem(bid) is None
    assert player_id_problem(bid.replace("|", "%7C")) is not None  # on a topic: the plain form only
    for bad in ("abc|def", "c65b8798|", "zzzzzz|cfe9dd77", "a" * 40 + "|" + "b" * 40):
        with pytest.raises(InvalidBattleTag, match="hex"):
            parse_player(bad)
