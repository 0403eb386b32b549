"""Catalog selectors: the one genre resolver that the track filter and the preferences share."""

from __future__ import annotations

import pytest

from catalog.models import ID_MAX, Genre
from catalog.selectors import genre_resolve, genres_resolve
from musicrec.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_genres_resolve_takes_ids_and_slugs_once_each_in_order():
    # given
    rock, pop = Genre.objects.get(slug="rock"), Genre.objects.get(slug="pop")

    # when
    resolved = genres_resolve(references=[pop.pk, "rock", str(pop.pk), " pop ", ""])

    # then
    assert resolved.genres == [pop, rock]
    assert resolved.unknown == []


@pytest.mark.parametrize(
    "reference",
    ["no-such-genre", "²", "١٢", "1e3", "-1", "0", str(ID_MAX + 1), "9" * 40, "a\x00b", "x" * 500],
)
def test_genres_resolve_names_what_is_no_genre_without_failing(reference):
    # when
    resolved = genres_resolve(references=["rock", reference])

    # then
    assert [genre.slug for genre in resolved.genres] == ["rock"]
    assert resolved.unknown == [reference]


def test_genre_resolve_one_value():
    jazz = Genre.objects.get(slug="jazz")

    assert genre_resolve(value="jazz") == jazz
    assert genre_resolve(value=str(jazz.pk)) == jazz
    with pytest.raises(ApplicationError) as unknown:
        genre_resolve(value="²")
    assert unknown.value.code == "unknown_genre"
    assert unknown.value.status == 400
