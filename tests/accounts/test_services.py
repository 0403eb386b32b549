"""Listener services: one validation for every door, all-or-nothing writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import GenrePreference, User
from accounts.services import (
    listener_context_update,
    listener_delete,
    listener_demographics_update,
    listener_preferences_replace,
    listener_preferences_set,
    listener_register,
)
from accounts.validators import age_band
from catalog.models import Genre, Track
from musicrec.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    user = listener_register(username="Ada", email="ada@example.com", password="pw-Ada-123456")
    return listener_demographics_update(
        user=user, values={"age": 30, "gender": "F", "country": "DE", "occupation": "engineer"}
    )


def _stored(user):
    fresh = User.objects.get(pk=user.pk)
    return (fresh.age, fresh.gender, fresh.country, fresh.occupation)


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ({"age": 13}, 13),
        ({"age": 100}, 100),
        ({"gender": "NB"}, "NB"),
        ({"country": "US"}, "US"),
        ({"country": "us"}, "US"),
        ({"occupation": "student"}, "student"),
        ({"age": None}, None),
        ({"country": ""}, ""),
    ],
)
def test_valid_values_are_stored(listener, values, stored):
    updated = listener_demographics_update(user=listener, values=values)

    (name,) = values
    assert getattr(User.objects.get(pk=listener.pk), name) == stored == getattr(updated, name)


@pytest.mark.parametrize(
    "values",
    [
        {"age": 12},
        {"age": 101},
        {"gender": "X"},
        {"country": "USA"},
        {"country": "840"},
        {"country": "XX"},
        {"occupation": "astronaut"},
        {"age": 40, "country": "USA"},  # one bad field: the good one is not saved either
        {"time_zone": "Mars/Olympus"},
    ],
)
def test_invalid_values_change_nothing(listener, values):
    before = _stored(listener)

    with pytest.raises(ValidationError) as excinfo:
        listener_demographics_update(user=listener, values=values)

    bad = {name for name in values if not (name == "age" and values[name] == 40)}
    assert set(excinfo.value.message_dict) == bad
    assert _stored(listener) == before


def test_register_rejects_duplicates_in_any_case_and_weak_passwords():
    listener_register(username="Bob", email="bob@example.com", password="pw-Bob-123456")

    with pytest.raises(ValidationError) as excinfo:
        listener_register(username="BOB", email="BOB@example.com", password="123")

    errors = excinfo.value.message_dict
    assert set(errors) == {"username", "email", "password"}
    assert User.objects.filter(username__iexact="bob").count() == 1


def test_preferences_by_id_or_slug_and_not_both(listener):
    rock, jazz = (Genre.objects.get(slug=s) for s in ("rock", "jazz"))

    listener_preferences_replace(user=listener, preferred=[rock.pk, "pop"], disliked=[jazz.slug])
    with pytest.raises(ValidationError):
        listener_preferences_set(user=listener, preferred=[rock], disliked=[rock])
    with pytest.raises(ApplicationError) as unknown:
        listener_preferences_replace(
            user=listener, preferred=["rock", "no-such-genre", "999999", "²"], disliked=[]
        )
    with pytest.raises(ApplicationError) as both:
        listener_preferences_replace(user=listener, preferred=["rock"], disliked=[rock.pk])

    kinds = dict(GenrePreference.objects.filter(user=listener).values_list("genre__slug", "kind"))
    assert kinds == {"rock": "preferred", "pop": "preferred", "jazz": "disliked"}
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_genre")
    assert unknown.value.extra["unknown"] == {"preferred": ["no-such-genre", "999999", "²"]}
    assert (both.value.status, both.value.code) == (409, "genre_in_both_lists")


def test_context_change_is_timestamped_only_when_it_changes(listener):
    first = listener_context_update(user=listener, mood="happy", activity="exercise")
    same = listener_context_update(user=listener, mood="happy", activity="exercise")

    assert first.context_updated_at is not None
    assert same.context_updated_at == first.context_updated_at
    with pytest.raises(ValidationError):
        listener_context_update(user=listener, mood="angry", activity=None)


def test_delete_needs_the_password(listener):
    with pytest.raises(ApplicationError):
        listener_delete(user=listener, password="wrong")
    assert User.objects.filter(pk=listener.pk).exists()

    listener_delete(user=listener, password="pw-Ada-123456")

    assert not User.objects.filter(pk=listener.pk).exists()


@pytest.mark.parametrize(
    ("age", "band"),
    [(13, "13-17"), (17, "13-17"), (18, "18-24"), (34, "25-34"), (64, "55-64"), (65, "65+"),
     (100, "65+"), (None, None)],
)  # fmt: skip
def test_age_bands(age, band):
    assert age_band(age) == band


def test_export_includes_history_interactions_and_opinions(listener):
    from accounts.selectors import listener_export
    from history.services.entries import history_entry_add
    from history.services.interactions import interaction_record

    track = Track.objects.order_by("id").first()
    history_entry_add(user=listener, track_id=track.pk)
    interaction_record(user=listener, track_id=track.pk, kind="like")

    data = listener_export(user=listener)

    assert data["history"] == [
        {"track_id": track.pk, "slot": 1, "added_at": data["history"][0]["added_at"]}
    ]
    assert [(i["track_id"], i["kind"]) for i in data["interactions"]] == [(track.pk, "like")]
    assert data["imports"] == []
    assert data["opinions"][0]["value"] == "like"


def test_a_registered_export_part_may_not_replace_another_key(listener):
    from django.core.exceptions import ImproperlyConfigured

    from accounts.selectors import listener_export
    from musicrec.registry import listener_export_parts

    listener_export_parts.register("impostor", lambda user: {"account": {"id": 0}})
    try:
        with pytest.raises(ImproperlyConfigured, match="would replace \\['account'\\]"):
            listener_export(user=listener)
    finally:
        listener_export_parts.unregister("impostor")
