"""The text patterns of musicrec/api/schema_params.py say what Python says: blank is what
str.strip() removes, a digit is what str.isdigit() calls one, for every character."""

from __future__ import annotations

import re
import sys

from hypothesis import given
from hypothesis import strategies as st

from musicrec.api.schema_params import (
    NON_BLANK_TEXT_PATTERN,
    PYTHON_DIGITS,
    TEXT_PATTERN,
    character_class,
    text_with_pattern,
)

EVERY_CHARACTER = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]


def test_not_blank_is_what_strip_leaves_something_of():
    pattern = re.compile(NON_BLANK_TEXT_PATTERN)
    for character in EVERY_CHARACTER:
        if character == "\x00":
            continue
        assert bool(pattern.search(f" {character} ")) == bool(character.strip()), hex(
            ord(character)
        )


def test_a_digit_is_what_isdigit_calls_one():
    pattern = re.compile(text_with_pattern(at_least=1, outside=PYTHON_DIGITS))
    for character in EVERY_CHARACTER:
        if character == "\x00":
            continue
        assert bool(pattern.search(character * 8)) == (not character.isdigit()), hex(ord(character))


def test_no_pattern_lets_a_nul_through():
    for pattern in (
        TEXT_PATTERN,
        NON_BLANK_TEXT_PATTERN,
        text_with_pattern(at_least=2, outside=""),
    ):
        assert not re.search(pattern, "ab\x00cd")


@given(st.sets(st.characters(exclude_categories=["Cs"]), max_size=40))
def test_a_character_class_matches_exactly_its_characters(characters):
    inside = character_class(characters)
    if not inside:
        return
    pattern = re.compile(f"[{inside}]")
    for character in characters:
        assert pattern.fullmatch(character)
    for code in (0, 0x41, 0x7F, 0x3000, 0x10FFFF):
        assert bool(pattern.fullmatch(chr(code))) == (chr(code) in characters)
