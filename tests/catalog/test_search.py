"""Search internals: typo correction and query parsing (real database, demo catalog)."""

from __future__ import annotations

import pytest

from catalog.search import edit_distance
from catalog.selectors import ParsedQuery, _one_edit_variants, search_query_parse, track_search


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("beatles", "beatles", 0),
        ("beatels", "beatles", 1),  # a swap is one edit, not two
        ("beatels", "beaten", 2),
        ("wrie", "wire", 1),
        ("rapsody", "rhapsody", 1),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance_counts_transpositions_as_one(a, b, distance):
    assert edit_distance(a, b) == distance


def test_one_edit_variants_are_swaps_and_drops():
    assert _one_edit_variants("abc") == {"bac", "acb", "bc", "ac", "ab"}


@pytest.mark.django_db
def test_parse_corrects_unknown_words_and_keeps_their_order():
    parsed = search_query_parse(text="hey jdue beatels")

    assert parsed.corrected == "hey jude beatles"
    assert parsed.alternatives[0] == [("hey", False)]
    assert ("jude", False) in parsed.alternatives[1]


@pytest.mark.django_db
def test_only_an_unknown_last_word_is_treated_as_a_prefix():
    complete = search_query_parse(text="love")
    partial = search_query_parse(text="bohem")

    assert all(not prefix for _, prefix in complete.alternatives[-1])
    assert ("bohem", True) in partial.alternatives[-1]
    assert track_search(query="bohem", limit=5)[0].title.startswith("Bohemian Rhapsody")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("cmoe together", "Come Together"),  # swapped letters in a short word
        ("hey jdue beatels", "Hey Jude"),
        ("a day in teh life", "A Day In The Life"),
    ],
)
def test_typos_find_the_track(query, title):
    titles = [track.title for track in track_search(query=query, limit=3)]

    assert any(t.startswith(title) for t in titles), titles


def test_common_words_are_left_out_of_candidate_matching_unless_all_are_common():
    parsed = ParsedQuery(
        text="the beatles",
        alternatives=[[("the", False)], [("beatles", False), ("beatle", False)]],
        corrected="the beatles",
        common=[True, False],
    )
    all_common = ParsedQuery(
        text="the love", alternatives=[[("the", False)], [("love", False)]],
        corrected="the love", common=[True, True],
    )  # fmt: skip

    assert parsed.tsquery() == "('the') & ('beatles' | 'beatle')"
    assert parsed.tsquery(distinctive_only=True) == "('beatles' | 'beatle')"
    assert all_common.tsquery(distinctive_only=True) == "('the') & ('love')"


def test_tsquery_quotes_special_characters():
    parsed = ParsedQuery(
        text="x", alternatives=[[("it's", False), ("a\\b", True)]], corrected="x", common=[False]
    )

    assert parsed.tsquery() == "('it''s' | 'a\\\\b':*)"
