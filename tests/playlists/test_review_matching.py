"""Import matching on hostile entries found in review: bounded time whatever the text."""

from __future__ import annotations

import time

import pytest

from playlists.formats import ParsedEntry
from playlists.selectors.transfer import playlist_entries_match, title_stem

pytestmark = pytest.mark.django_db


def test_a_title_of_spaces_is_stemmed_in_linear_time():
    title = "a" + " " * 998 + "b"

    started = time.monotonic()
    for _ in range(100):
        assert title_stem(title) == title
    assert title_stem("x" + " " * 500 + "(live)") == "x"

    assert time.monotonic() - started < 0.2


def test_entries_of_long_spaced_titles_and_many_credits_are_matched_quickly():
    # given entries as long as a file may hold: spaced titles, an artist naming 300 credits
    artist = ", ".join(f"a{i}" for i in range(300))
    entries = [ParsedEntry(title=f"t{n}" + " " * 990 + "z", artists=(artist,)) for n in range(20)]

    # when they are matched
    started = time.monotonic()
    matches = playlist_entries_match(entries=entries)

    # then in well under a second or two
    assert [m.track_id for m in matches] == [None] * 20
    assert time.monotonic() - started < 2.0
