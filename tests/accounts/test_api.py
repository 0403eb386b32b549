"""Listener API: registration, JWT, the caller's profile, validation, isolation, deletion."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.api.serializers import CountryField
from accounts.models import GenrePreference, User
from accounts.services import (
    artist_block,
    listener_context_update,
    listener_demographics_update,
    listener_preferences_set,
    listener_register,
)
from accounts.validators import Activity, Mood, Occupation, country_codes
from catalog.models import Artist, Genre
from tests.helpers import response_json

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Listen-42"
ME_ENDPOINTS = [
    ("get", "/api/v1/me/"),
    ("delete", "/api/v1/me/"),
    ("put", "/api/v1/me/demographics/"),
    ("patch", "/api/v1/me/demographics/"),
    ("put", "/api/v1/me/preferences/"),
    ("put", "/api/v1/me/context/"),
    ("get", "/api/v1/me/export/"),
    ("get", "/api/v1/me/blocks/"),
    ("post", "/api/v1/me/blocks/"),
    ("delete", "/api/v1/me/blocks/1/"),
]


def _genres(*slugs: str) -> list[Genre]:
    return [Genre.objects.get(slug=slug) for slug in slugs]


def _make_listener(name: str, *, age: int = 30, country: str = "DE") -> User:
    user = listener_register(username=name, email=f"{name}@example.com", password=PASSWORD)
    listener_demographics_update(
        user=user, values={"age": age, "gender": "F", "country": country, "occupation": "engineer"}
    )
    rock, jazz = _genres("rock", "jazz")
    listener_preferences_set(user=user, preferred=[rock], disliked=[jazz])
    return listener_context_update(user=user, mood="calm", activity="focus")


def _stored(user: User) -> dict[str, Any]:
    """Everything the /me/ endpoints can change, read fresh from the database."""
    fresh = User.objects.get(pk=user.pk)
    prefs = GenrePreference.objects.filter(user=user).order_by("genre__slug")
    return {
        "username": fresh.username,
        "email": fresh.email,
        "demographics": (fresh.age, fresh.gender, fresh.country, fresh.occupation),
        "time_zone": fresh.time_zone,
        "context": (fresh.mood, fresh.activity, fresh.context_updated_at),
        "preferences": sorted(prefs.values_list("genre__slug", "kind")),
    }


def _signed_in(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def _token_pair(client: APIClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def ada() -> User:
    return _make_listener("ada")


@pytest.fixture
def bob() -> User:
    return _make_listener("bob", age=50, country="FR")


# --------------------------------------------------------------------------- validation table


@pytest.mark.parametrize(
    ("values", "field", "stored"),
    [
        ({"age": 13}, "age", 13),
        ({"age": 100}, "age", 100),
        ({"gender": "NB"}, "gender", "NB"),
        ({"country": "US"}, "country", "US"),
        ({"country": "us"}, "country", "US"),
        ({"occupation": "student"}, "occupation", "student"),
        ({"age": None}, "age", None),
        ({"country": ""}, "country", ""),
        ({"country": "de"}, "country", "DE"),
        ({"country": "Fr"}, "country", "FR"),
        ({"country": None}, "country", ""),
        ({"gender": None}, "gender", ""),
        ({"gender": ""}, "gender", ""),
        ({"occupation": None}, "occupation", ""),
    ],
)
def test_valid_demographics_are_stored(ada, values, field, stored):
    # when
    response = _signed_in(ada).patch("/api/v1/me/demographics/", values, format="json")

    # then
    assert response.status_code == 200, response.content
    assert getattr(User.objects.get(pk=ada.pk), field) == stored
    shown = response.json()["demographics"][field]
    assert shown == (stored or None)


@pytest.mark.parametrize(
    ("values", "bad_fields"),
    [
        ({"age": 12}, {"age"}),
        ({"age": 101}, {"age"}),
        ({"gender": "X"}, {"gender"}),
        ({"country": "USA"}, {"country"}),
        ({"country": "840"}, {"country"}),
        ({"country": 840}, {"country"}),
        ({"country": "XX"}, {"country"}),
        ({"occupation": "astronaut"}, {"occupation"}),
        ({"time_zone": "Mars/Olympus"}, {"time_zone"}),
        ({"age": "thirty"}, {"age"}),
        ({"age": 30.5}, {"age"}),
        ({"age": True}, {"age"}),
        ({"gender": ["F"]}, {"gender"}),
        # exactly the schema's values: no numbers as text, no blanks, no mixed case
        ({"age": ""}, {"age"}),
        ({"age": "30"}, {"age"}),
        ({"gender": " M"}, {"gender"}),
        ({"gender": "m"}, {"gender"}),
        ({"country": "ıt"}, {"country"}),
        ({"country": " US"}, {"country"}),
        ({"occupation": "Student"}, {"occupation"}),
        ({"time_zone": " UTC"}, {"time_zone"}),
        # one bad field among good ones: the good ones are not stored either
        ({"age": 40, "gender": "M", "country": "USA"}, {"country"}),
        # every bad field is named in the one answer
        ({"age": 101, "gender": "X", "country": "XX", "occupation": "pilot"},
         {"age", "gender", "country", "occupation"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("method", ["put", "patch"])
def test_invalid_demographics_are_refused_field_by_field_and_change_nothing(
    ada, method, values, bad_fields
):
    # given
    before = _stored(ada)

    # when
    response = getattr(_signed_in(ada), method)("/api/v1/me/demographics/", values, format="json")

    # then
    assert response.status_code == 400
    body = response.json()
    assert set(body) == bad_fields
    assert all(isinstance(messages, list) and messages for messages in body.values())
    assert _stored(ada) == before


def test_put_demographics_replaces_all_fields_and_patch_only_the_given_ones(ada):
    client = _signed_in(ada)

    # when: PATCH one field
    client.patch("/api/v1/me/demographics/", {"occupation": "teacher"}, format="json")

    # then: the others are kept
    fresh = User.objects.get(pk=ada.pk)
    assert (fresh.age, fresh.gender, fresh.country, fresh.occupation) == (30, "F", "DE", "teacher")

    # when: PUT with only the age
    response = client.put("/api/v1/me/demographics/", {"age": 70}, format="json")

    # then: the missing fields are cleared (the time zone back to the site's default)
    assert response.status_code == 200
    fresh = User.objects.get(pk=ada.pk)
    assert (fresh.age, fresh.gender, fresh.country, fresh.occupation) == (70, "", "", "")
    assert response.json()["demographics"] == {
        "age": 70,
        "age_band": "65+",
        "gender": None,
        "country": None,
        "occupation": None,
    }


def test_time_zone_is_set_and_blank_resets_it(ada, settings):
    client = _signed_in(ada)

    response = client.patch("/api/v1/me/demographics/", {"time_zone": "Asia/Tokyo"}, format="json")
    assert response.json()["time_zone"] == "Asia/Tokyo"

    response = client.patch("/api/v1/me/demographics/", {"time_zone": ""}, format="json")
    assert response.status_code == 200
    assert User.objects.get(pk=ada.pk).time_zone == settings.TIME_ZONE


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"preferred": [99999999999999999999]}, "preferred"),
        ({"preferred": [0]}, "preferred"),
        ({"preferred": [""]}, "preferred"),
        ({"preferred": ["rock,pop"]}, "preferred"),
        ({"preferred": ["x" * 101]}, "preferred"),
        ({"disliked": [1.5]}, "disliked"),
        ({"preferred": ["²"]}, "preferred"),
        ({"preferred": "rock"}, "preferred"),
        ({"preferred": [{"id": 1}]}, "preferred"),
        ({"disliked": [True]}, "disliked"),
    ],
)
def test_invalid_preferences_are_refused_and_change_nothing(ada, payload, named):
    # given
    before = _stored(ada)

    # when
    response = _signed_in(ada).put("/api/v1/me/preferences/", payload, format="json")

    # then
    assert response.status_code == 400
    assert named in response.json()
    assert isinstance(response.json()[named], list)
    assert _stored(ada) == before


def test_a_genre_both_preferred_and_disliked_is_a_409_naming_it(ada):
    before = _stored(ada)
    rock = Genre.objects.get(slug="rock")

    response = _signed_in(ada).put(
        "/api/v1/me/preferences/",
        {"preferred": ["rock", "pop"], "disliked": [rock.pk]},
        format="json",
    )

    # a well-formed request (the schema cannot say "two disjoint lists") that contradicts itself
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "genre_in_both_lists"
    assert body["genres"] == [rock.name]
    assert "pop" not in body["error"].lower()
    assert _stored(ada) == before


def test_unknown_genres_of_both_lists_are_a_404_naming_them_at_once(ada):
    before = _stored(ada)

    response = _signed_in(ada).put(
        "/api/v1/me/preferences/",
        {"preferred": ["rock", "nope-one", "999999"], "disliked": [" nope-two "]},
        format="json",
    )

    # well-formed references to genres that do not exist: like a track id of no track
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_genre"
    assert body["unknown"] == {"preferred": ["nope-one", "999999"], "disliked": ["nope-two"]}
    assert _stored(ada) == before


def test_preferences_by_id_or_slug_replace_the_previous_ones(ada):
    # given
    (pop,) = _genres("pop")

    # when
    response = _signed_in(ada).put(
        "/api/v1/me/preferences/",
        {"preferred": [pop.pk, "k-pop"], "disliked": [str(Genre.objects.get(slug="jazz").pk)]},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert _stored(ada)["preferences"] == [
        ("jazz", "disliked"),
        ("k-pop", "preferred"),
        ("pop", "preferred"),
    ]
    preferred = response.json()["preferences"]["preferred"]
    assert {g["slug"] for g in preferred} == {"pop", "k-pop"}
    assert set(preferred[0]) == {"id", "slug", "name"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/logout/",
    ],
)
def test_auth_endpoints_take_json_only(user, url, openapi):
    body = f"username=listener&email=x@example.com&password={PASSWORD}&refresh=x"

    response = APIClient().post(url, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert list(openapi["paths"][url]["post"]["requestBody"]["content"]) == ["application/json"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/me/preferences/"),
        ("put", "/api/v1/me/demographics/"),
        ("patch", "/api/v1/me/demographics/"),
        ("put", "/api/v1/me/context/"),
        ("delete", "/api/v1/me/"),
    ],
)
def test_me_writes_take_json_only(ada, method, url):
    # given: form data, which cannot say null (nor a list of one): the schema says JSON only
    before = _stored(ada)

    # when
    response = _signed_in(ada).generic(
        method.upper(),
        url,
        f"preferred=pop&mood=happy&age=40&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )

    # then
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert _stored(ada) == before


def test_empty_preferences_clear_them(ada):
    response = _signed_in(ada).put("/api/v1/me/preferences/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["preferences"] == {"preferred": [], "disliked": []}
    assert not GenrePreference.objects.filter(user=ada).exists()


def test_context_is_set_timestamped_and_cleared(ada):
    client = _signed_in(ada)
    before = User.objects.get(pk=ada.pk).context_updated_at

    # when
    response = client.put(
        "/api/v1/me/context/", {"mood": "energetic", "activity": "exercise"}, format="json"
    )

    # then
    assert response.status_code == 200
    fresh = User.objects.get(pk=ada.pk)
    assert (fresh.mood, fresh.activity) == ("energetic", "exercise")
    assert fresh.context_updated_at > before
    assert response.json()["context"]["mood"] == "energetic"

    # when: null and "" clear
    response = client.put("/api/v1/me/context/", {"mood": None, "activity": ""}, format="json")

    # then
    assert response.status_code == 200
    fresh = User.objects.get(pk=ada.pk)
    assert (fresh.mood, fresh.activity) == ("", "")
    assert response.json()["context"]["mood"] is None


@pytest.mark.parametrize(
    "payload", [{"mood": "angry"}, {"mood": "happy", "activity": "sleeping"}, {"mood": 3}]
)
def test_invalid_context_changes_nothing(ada, payload):
    before = _stored(ada)

    response = _signed_in(ada).put("/api/v1/me/context/", payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) <= {"mood", "activity"}
    assert _stored(ada) == before


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"'])
def test_malformed_bodies_are_400s(ada, body):
    before = _stored(ada)

    response = _signed_in(ada).generic(
        "PATCH", "/api/v1/me/demographics/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert _stored(ada) == before


# --------------------------------------------------------------------------- profile and export


def test_me_shows_the_whole_profile(ada):
    response = _signed_in(ada).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == ada.pk
    assert body["username"] == "ada"
    assert body["email"] == "ada@example.com"
    assert body["demographics"] == {
        "age": 30,
        "age_band": "25-34",
        "gender": "F",
        "country": "DE",
        "occupation": "engineer",
    }
    assert [g["slug"] for g in body["preferences"]["preferred"]] == ["rock"]
    assert [g["slug"] for g in body["preferences"]["disliked"]] == ["jazz"]
    assert body["context"]["mood"] == "calm"
    assert body["context"]["activity"] == "focus"
    assert body["context"]["updated_at"] is not None
    assert body["history"] == {"count": 0, "limit": 50, "remaining": 50}
    assert "password" not in body


def test_me_reads_a_fixed_number_of_queries(ada, django_assert_max_num_queries):
    client = _signed_in(ada)

    with django_assert_max_num_queries(3):  # the user (authentication), their preferences
        response = client.get("/api/v1/me/")

    assert response.status_code == 200


def test_export_is_a_json_attachment_of_the_listeners_data(ada):
    response = _signed_in(ada).get("/api/v1/me/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="musicrec-ada-' in disposition
    data = response_json(response)
    assert data["account"]["username"] == "ada"
    assert data["demographics"]["country"] == "DE"
    assert [g["slug"] for g in data["preferences"]["preferred"]] == ["rock"]


@pytest.mark.parametrize(("method", "url"), ME_ENDPOINTS)
def test_me_endpoints_need_credentials(ada, method, url):
    before = _stored(ada)

    response = getattr(APIClient(), method)(url, {"password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert set(response.json()) >= {"error", "code"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert User.objects.filter(pk=ada.pk).exists()
    assert _stored(ada) == before


def test_session_auth_works_and_writes_need_the_csrf_token(ada):
    # given: a web session (no JWT)
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="ada", password=PASSWORD)
    before = _stored(ada)

    # when / then
    assert client.get("/api/v1/me/").json()["username"] == "ada"
    response = client.put("/api/v1/me/context/", {"mood": "happy"}, format="json")
    assert response.status_code == 403
    assert _stored(ada) == before


# --------------------------------------------------------------------------- two listeners


def test_a_listener_only_ever_reads_their_own_data(ada, bob):
    client = _signed_in(ada)

    # when: bob's id is given every way a client might try
    me = client.get(f"/api/v1/me/?id={bob.pk}&user={bob.pk}&username=bob").json()
    export = response_json(client.get(f"/api/v1/me/export/?user={bob.pk}"))

    # then
    assert me["id"] == ada.pk
    assert me["username"] == "ada"
    assert export["account"]["id"] == ada.pk
    assert "bob" not in str(export)
    assert client.get(f"/api/v1/me/{bob.pk}/").status_code == 404
    assert client.get(f"/api/v1/users/{bob.pk}/").status_code == 404


def test_a_listener_cannot_change_another_listeners_data(ada, bob):
    # given
    client = _signed_in(ada)
    bob_before = _stored(bob)
    foreign = {"id": bob.pk, "user": bob.pk, "user_id": bob.pk, "username": "bob"}

    # when: every write, with bob's id in the body and the query
    responses = [
        client.patch(
            f"/api/v1/me/demographics/?user={bob.pk}", {**foreign, "age": 99}, format="json"
        ),
        client.put(
            f"/api/v1/me/demographics/?user={bob.pk}", {**foreign, "age": 98}, format="json"
        ),
        client.put(
            f"/api/v1/me/preferences/?user={bob.pk}",
            {**foreign, "preferred": ["pop"], "disliked": []},
            format="json",
        ),
        client.put(f"/api/v1/me/context/?user={bob.pk}", {**foreign, "mood": "sad"}, format="json"),
        client.post(f"/api/v1/me/{bob.pk}/", foreign, format="json"),
        client.patch(f"/api/v1/me/{bob.pk}/demographics/", {"age": 97}, format="json"),
    ]

    # then: the writes that exist landed on ada; bob is untouched
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 404]
    assert _stored(bob) == bob_before
    fresh_ada = User.objects.get(pk=ada.pk)
    assert (fresh_ada.username, fresh_ada.age, fresh_ada.mood) == ("ada", 98, "sad")


def test_a_listener_cannot_delete_another_listener(ada, bob):
    # when: ada deletes with bob's password and bob's id
    response = _signed_in(ada).delete(
        f"/api/v1/me/?user={bob.pk}", {"password": PASSWORD, "id": bob.pk}, format="json"
    )

    # then: ada (whose password it also is) is gone, bob is not
    assert response.status_code == 204
    assert not User.objects.filter(pk=ada.pk).exists()
    assert User.objects.filter(pk=bob.pk).exists()


# --------------------------------------------------------------------------- registration and JWT


def test_register_token_me_refresh_me():
    client = APIClient()

    # when: register
    response = client.post(
        "/api/v1/auth/register/",
        {"username": "Cleo", "email": "Cleo@Example.com", "password": "pw-Cleo-123456"},
        format="json",
    )

    # then: the profile, no tokens
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "Cleo"
    assert response.json()["history"] == {"count": 0, "limit": 50, "remaining": 50}
    assert "access" not in response.json()
    assert "password" not in response.json()

    # when: sign in, read the profile, refresh, read it again with the new access token
    pair = _token_pair(client, "cleo", "pw-Cleo-123456")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.get("/api/v1/me/").json()["username"] == "Cleo"

    client.credentials()
    refreshed = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh"] != pair["refresh"]

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new['access']}")
    assert client.get("/api/v1/me/").json()["username"] == "Cleo"

    # then: the rotated refresh token is refused, the new one works
    client.credentials()
    again = client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"
    assert (
        client.post(
            "/api/v1/auth/token/refresh/", {"refresh": new["refresh"]}, format="json"
        ).status_code
        == 200
    )


@pytest.mark.parametrize("login", ["listener@example.com", "LISTENER@Example.COM", "LiStEnEr"])
def test_sign_in_by_username_or_email_in_any_case(user, login):
    pair = _token_pair(APIClient(), login)

    assert str(AccessToken(pair["access"])["user_id"]) == str(user.pk)


def test_a_wrong_password_is_a_401_in_the_error_format(user):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "listener", "password": "nope"}, format="json"
    )

    assert response.status_code == 401
    assert set(response.json()) == {"error", "code"}


@pytest.mark.parametrize(
    ("payload", "taken"),
    [
        ({"username": "LISTENER", "email": "new@example.com", "password": "pw-New-123456"},
         ["username"]),
        ({"username": "newbie", "email": "Listener@EXAMPLE.com", "password": "pw-New-123456"},
         ["email"]),
        ({"username": "Listener", "email": "LISTENER@example.com", "password": "pw-New-123456"},
         ["email", "username"]),
        # first the name: a password the policy refuses is told once the name is free
        ({"username": "LISTENER", "email": "new@example.com", "password": "password1"},
         ["username"]),
    ],
)  # fmt: skip
def test_register_answers_a_taken_name_with_a_409_naming_the_fields(user, payload, taken):
    users_before = User.objects.count()

    response = APIClient().post("/api/v1/auth/register/", payload, format="json")

    # well-formed, but another account has the name: a conflict, not bad input
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["fields"]) == ("account_exists", taken)
    assert "already exists" in body["error"]
    assert User.objects.count() == users_before


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"username": "newbie", "email": "new@example.com", "password": "123"}, {"password"}),
        ({"username": "newbie", "email": "new@example.com", "password": "12345678"},
         {"password"}),
        ({"username": "newbie", "email": "new@example.com", "password": "password1"},
         {"password"}),
        ({"username": "newbie", "email": "new@example.com", "password": "newbie123"},
         {"password"}),
        ({"username": "new bie", "email": "new@example.com", "password": "pw-New-123456"},
         {"username"}),
        ({"username": "newbie", "email": " new@example.com", "password": "pw-New-123456"},
         {"email"}),
        ({"username": 12345, "email": "new@example.com", "password": "pw-New-123456"},
         {"username"}),
        ({"username": "newbie", "email": "not-an-address", "password": "pw-New-123456"},
         {"email"}),
        # the "email" format alone would take these; Django (and the schema's pattern) do not
        ({"username": "newbie", "email": "ndcg@10", "password": "pw-New-123456"}, {"email"}),
        ({"username": "newbie", "email": "new@localhost", "password": "pw-New-123456"},
         {"email"}),
        ({}, {"username", "email", "password"}),
        ({"username": ["x"], "email": "new@example.com", "password": "pw-New-123456"},
         {"username"}),
    ],
)  # fmt: skip
def test_register_refuses_duplicates_and_bad_input_naming_the_field(user, payload, named):
    users_before = User.objects.count()

    response = APIClient().post("/api/v1/auth/register/", payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) == named
    assert User.objects.count() == users_before


def test_logout_blacklists_the_refresh_token(user):
    # given
    client = APIClient()
    pair = _token_pair(client, "listener")

    # when: no access token needed, the refresh token is the credential
    response = client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    # then
    assert response.status_code == 205
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    refused = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert refused.status_code == 401
    # a revoked token is refused as the credential it is, like /auth/token/refresh/ does
    again = client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("payload", [{}, {"refresh": None}, {"refresh": ""}, {"refresh": 12}])
def test_logout_without_a_token_is_a_400(user, payload):
    response = APIClient().post("/api/v1/auth/logout/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["refresh"]


def test_logout_with_a_token_that_is_not_valid_is_a_401(user):
    response = APIClient().post("/api/v1/auth/logout/", {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_refuses_an_access_token(user):
    response = APIClient().post(
        "/api/v1/auth/logout/", {"refresh": str(AccessToken.for_user(user))}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert not BlacklistedToken.objects.exists()


def test_an_expired_access_token_is_a_401(user):
    # given
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    # when
    response = client.get("/api/v1/me/")

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_expired_access_token_error_reads_as_a_sentence(user):
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get("/api/v1/me/")

    assert "ErrorDetail" not in response.json()["error"]
    assert response.json()["error"] == "Given token not valid for any token type"


def test_auth_endpoints_are_throttled_with_retry_after(user, monkeypatch):
    # given: a low rate for the "auth" scope (the class read the settings at import)
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/min"}
    )
    client = APIClient()
    credentials = {"username": "listener", "password": PASSWORD}

    # when
    statuses = [
        client.post("/api/v1/auth/token/", credentials, format="json").status_code for _ in range(3)
    ]
    throttled = client.post("/api/v1/auth/token/", credentials, format="json")
    register = client.post("/api/v1/auth/register/", {}, format="json")

    # then
    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"
    assert "error" in throttled.json()
    assert register.status_code == 429  # one budget for all auth endpoints


# --------------------------------------------------------------------------- account deletion


def _rows_by_table(user_pk: int) -> dict[str, int]:
    """Rows that belong to the listener, per table: every table with a foreign key to the user
    (found from the models, hidden relations and many-to-many tables included), and the tables
    that hang off those (blacklisted tokens hang off outstanding tokens)."""
    models_ = apps.get_models(include_auto_created=True)
    lookups: dict[type[models.Model], list[str]] = {User: ["pk"]}
    for model in models_:
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                lookups.setdefault(model, []).append(field.name)
    owners = {model: names for model, names in lookups.items() if model is not User}
    for model in models_:
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in owners:
                for name in owners[field.related_model]:
                    lookups.setdefault(model, []).append(f"{field.name}__{name}")
    counts = {}
    for model, names in lookups.items():
        query = models.Q()
        for name in names:
            query |= models.Q(**{name: user_pk})
        counts[model._meta.db_table] = model._default_manager.filter(query).count()
    return counts


def _rows_per_table(tables: dict[str, int]) -> dict[str, int]:
    by_table = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
    return {table: by_table[table]._default_manager.count() for table in tables}


def _give_rows_everywhere(user: User) -> None:
    """The listener signs in on the web and the API, refreshes, is in a group, has a
    permission and an admin log entry, besides the preferences the fixture made."""
    web = APIClient()
    assert web.login(username=user.username, password=PASSWORD)
    api = APIClient()
    pair = _token_pair(api, user.username)
    api.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )  # blacklists it
    _token_pair(api, user.username)
    artist_block(user=user, artist_id=Artist.objects.order_by("pk").values_list("pk", flat=True)[0])
    group, _ = Group.objects.get_or_create(name="testers")
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.first())
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=ADDITION,
    )


def test_deleting_the_account_removes_every_row_of_the_listener(ada, bob):
    # given: both listeners have rows in every table that can belong to a listener
    _give_rows_everywhere(ada)
    _give_rows_everywhere(bob)
    ada_before, bob_before = _rows_by_table(ada.pk), _rows_by_table(bob.pk)
    expected_tables = {
        "accounts_user",
        "accounts_genrepreference",
        "accounts_artistblock",
        "accounts_session",
        "accounts_user_groups",
        "accounts_user_user_permissions",
        "django_admin_log",
        "token_blacklist_outstandingtoken",
        "token_blacklist_blacklistedtoken",
    }
    assert expected_tables <= set(ada_before)
    assert all(ada_before[table] > 0 for table in expected_tables), ada_before
    totals_before = _rows_per_table(ada_before)
    client = _signed_in(ada)

    # when
    response = client.delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    # then
    assert response.status_code == 204
    assert _rows_by_table(ada.pk) == dict.fromkeys(ada_before, 0)
    assert _rows_by_table(bob.pk) == bob_before
    # and gone, not kept with the listener blanked out (simplejwt's foreign key is SET_NULL)
    totals_after = _rows_per_table(ada_before)
    assert totals_after == {t: totals_before[t] - ada_before[t] for t in totals_before}
    # the access token still in the client's hands no longer signs anyone in
    assert client.get("/api/v1/me/").status_code == 401


def test_a_refresh_token_of_a_deleted_account_is_a_401(ada):
    # given
    pair = _token_pair(APIClient(), "ada")
    _signed_in(ada).delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    # when
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    )

    # then
    assert response.status_code == 401
    assert set(response.json()) == {"error", "code"}
    assert not OutstandingToken.objects.filter(token=pair["refresh"]).exists()


@pytest.mark.parametrize(
    ("payload", "status", "body"),
    [
        # a well-formed request the account's password does not match: forbidden
        ({"password": "wrong"}, 403, {"code": "wrong_password"}),
        ({"password": f" {PASSWORD}"}, 403, {"code": "wrong_password"}),
        # the body the schema requires is missing or malformed
        ({}, 400, {"password": ["This field is required."]}),
        ({"password": ""}, 400, {"password": ["This field may not be blank."]}),
        ({"password": 12345678}, 400, {"password": ["Expected text."]}),
        (None, 400, {"password": ["This field is required."]}),
    ],
)
def test_deleting_needs_the_right_password_and_deletes_nothing_otherwise(
    ada, payload, status, body
):
    # given
    _give_rows_everywhere(ada)
    before = _rows_by_table(ada.pk)

    # when
    response = _signed_in(ada).delete("/api/v1/me/", payload, format="json")

    # then
    assert response.status_code == status
    assert response.json().items() >= body.items()
    assert _rows_by_table(ada.pk) == before


# ------------------------------------------------------------------- the schema tells the truth


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _resolve(openapi: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _body(openapi: dict, path: str, method: str) -> tuple[dict, dict]:
    """(the requestBody, its JSON schema resolved)."""
    body = openapi["paths"][path][method]["requestBody"]
    return body, _resolve(openapi, body["content"]["application/json"]["schema"])


def _enum(openapi: dict, schema: dict) -> set:
    """Every value a (possibly oneOf-composed) enum property takes."""
    values: set = set()
    for part in schema.get("oneOf", [schema]):
        values |= set(_resolve(openapi, part).get("enum", []))
    return values


def _pattern(schema: dict) -> str:
    """The pattern of a string property (drf-spectacular writes one that may be blank as
    ``oneOf: [{pattern}, {maxLength: 0}]``)."""
    (pattern,) = [part["pattern"] for part in schema.get("oneOf", [schema]) if "pattern" in part]
    return pattern


def _statuses(openapi: dict, path: str, method: str) -> set[str]:
    return set(openapi["paths"][path][method]["responses"])


@pytest.mark.parametrize("method", ["put", "patch"])
def test_demographics_body_states_each_fields_values(openapi, method):
    body, schema = _body(openapi, "/api/v1/me/demographics/", method)
    fields = schema["properties"]

    assert list(body["content"]) == ["application/json"]
    assert "required" not in schema  # every field optional (PUT clears a missing one)
    assert fields["age"]["type"] == "integer"
    assert (fields["age"]["minimum"], fields["age"]["maximum"]) == (13, 100)
    assert fields["age"]["nullable"] is True
    assert _enum(openapi, fields["gender"]) == {"M", "F", "NB", "O", "", None}
    assert _enum(openapi, fields["occupation"]) == {*Occupation.values, "", None}
    # long lists as patterns: generated clients would make AD and ad one enum member
    country = re.compile(_pattern(fields["country"]))
    assert fields["country"]["nullable"] is True
    assert all(country.search(code) for code in ("US", "us", "Us", "de", ""))
    assert not any(country.search(code) for code in ("XX", "xx", "USA", "840", " US", "ıt"))
    time_zone = re.compile(_pattern(fields["time_zone"]))
    assert fields["time_zone"]["nullable"] is True
    assert all(time_zone.search(name) for name in [*zoneinfo.available_timezones(), ""])
    assert not any(time_zone.search(name) for name in ("Mars/Olympus", "europe/berlin", " UTC"))


def test_every_documented_country_is_accepted_and_stored_upper_case():
    field = CountryField()
    for code in sorted(country_codes()):
        for typed in (code, code.lower(), code.capitalize()):
            assert field.run_validation(typed) == code


def test_context_body_states_moods_and_activities(openapi):
    _, schema = _body(openapi, "/api/v1/me/context/", "put")

    assert _enum(openapi, schema["properties"]["mood"]) == {*Mood.values, "", None}
    assert _enum(openapi, schema["properties"]["activity"]) == {*Activity.values, "", None}


def test_register_body_states_required_fields_lengths_and_formats(openapi):
    body, schema = _body(openapi, "/api/v1/auth/register/", "post")
    fields = schema["properties"]

    assert body["required"] is True
    assert set(schema["required"]) == {"username", "email", "password"}
    assert fields["username"]["maxLength"] == 150
    assert re.search(fields["username"]["pattern"], "ada.lovelace+1")
    assert not re.search(fields["username"]["pattern"], "ada@example.com")
    assert (fields["email"]["format"], fields["email"]["maxLength"]) == ("email", 254)
    email = re.compile(fields["email"]["pattern"])
    assert email.search("ada.lovelace+1@example.co.uk")
    assert not any(email.search(text) for text in ("ndcg@10", "a@b", "a..b@example.com"))
    assert not email.search("x" * 65 + "@example.com")
    assert fields["password"]["minLength"] == 8
    password = re.compile(fields["password"]["pattern"])
    assert password.search("12345678x") and not password.search("12345678")
    assert not password.search("١٢٣٤٥٦٧٨")  # all digits to str.isdigit(), as Django sees it


def test_every_status_of_the_account_operations_is_documented(openapi):
    assert _statuses(openapi, "/api/v1/auth/register/", "post") >= {
        "201", "400", "409", "413", "415", "429", "503",
    }  # fmt: skip
    for path in ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/"):
        assert _statuses(openapi, path, "post") >= {"200", "400", "401", "429", "503"}
    assert _statuses(openapi, "/api/v1/auth/logout/", "post") >= {
        "205", "400", "401", "429", "503",
    }  # fmt: skip
    assert _statuses(openapi, "/api/v1/me/", "get") >= {"200", "401", "429"}
    assert _statuses(openapi, "/api/v1/me/", "delete") >= {"204", "400", "401", "403", "429"}
    for method in ("put", "patch"):
        assert _statuses(openapi, "/api/v1/me/demographics/", method) >= {
            "200", "400", "401", "403", "415", "429",
        }  # fmt: skip
    assert _statuses(openapi, "/api/v1/me/preferences/", "put") >= {
        "200", "400", "401", "403", "404", "409", "415", "429",
    }  # fmt: skip
    assert _statuses(openapi, "/api/v1/me/context/", "put") >= {"200", "400", "401", "403"}
    assert _statuses(openapi, "/api/v1/me/export/", "get") >= {"200", "401", "429", "503"}


def test_account_deletion_documents_its_json_body(openapi):
    body, schema = _body(openapi, "/api/v1/me/", "delete")

    assert body["required"] is True
    assert list(body["content"]) == ["application/json"]
    assert schema["required"] == ["password"]
    assert schema["properties"]["password"]["minLength"] == 1


def test_preferences_body_states_references_and_json_only(openapi):
    body, schema = _body(openapi, "/api/v1/me/preferences/", "put")
    preferred = schema["properties"]["preferred"]

    assert list(body["content"]) == ["application/json"]
    assert preferred["maxItems"] == 1000
    integer, text = preferred["items"]["oneOf"]
    assert (integer["type"], integer["minimum"]) == ("integer", 1)
    assert text["maxLength"] == 100
    assert re.search(text["pattern"], " k-pop ") and not re.search(text["pattern"], "k pop")


def test_export_documents_a_json_object_and_its_rate_limit(openapi):
    ok = openapi["paths"]["/api/v1/me/export/"]["get"]["responses"]["200"]
    schema = _resolve(openapi, ok["content"]["application/json"]["schema"])

    assert set(schema["required"]) == {
        "exported_at", "account", "demographics", "preferences", "context", "blocks",
    }  # fmt: skip
    assert "additionalProperties" not in schema or schema["additionalProperties"] is not False


def test_what_the_token_schemas_allow_is_answered_without_a_400(user):
    """Schema-valid credentials are checked, never refused as malformed: a blank-padded
    username is a 401 (wrong), one of spaces only a 400 (the pattern says not blank)."""
    client = APIClient()
    padded = client.post(
        "/api/v1/auth/token/", {"username": " nobody ", "password": " x "}, format="json"
    )
    blank = client.post("/api/v1/auth/token/", {"username": " ", "password": "x"}, format="json")
    number = client.post("/api/v1/auth/token/", {"username": 5, "password": "x"}, format="json")

    assert padded.status_code == 401
    assert blank.status_code == 400
    assert list(blank.json()) == ["username"]
    assert number.status_code == 400
