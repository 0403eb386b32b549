"""Listener pages: sign-up/in/out, password change and reset, onboarding, profile, export and
account deletion, with the Django test client against the real database."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import GenrePreference, User
from accounts.services import (
    listener_context_update,
    listener_demographics_update,
    listener_preferences_set,
)
from accounts.sessions import ListenerSession
from catalog.models import Genre
from tests.helpers import response_json

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Listen-42"
STORED = {"age": 30, "gender": "F", "country": "DE", "occupation": "engineer"}
FORM = {**{k: str(v) for k, v in STORED.items()}, "time_zone": "Europe/Berlin"}


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Real hashing costs ~0.3 s per password; these tests check pages, not PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _listener(username: str, **demographics) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    return listener_demographics_update(
        user=user, values={**STORED, "time_zone": "Europe/Berlin", **demographics}
    )


@pytest.fixture
def ada() -> User:
    return _listener("ada")


@pytest.fixture
def bob() -> User:
    return _listener("bob", age=55, gender="M", country="US", occupation="retired")


@pytest.fixture
def ada_client(ada) -> Client:
    client = Client()
    client.force_login(ada)
    return client


def _genres(*slugs: str) -> list[Genre]:
    genres = list(Genre.objects.filter(slug__in=slugs))
    assert len(genres) == len(slugs)
    return genres


def _stored(user: User) -> tuple:
    fresh = User.objects.get(pk=user.pk)
    return (fresh.age, fresh.gender, fresh.country, fresh.occupation, fresh.time_zone)


def _preferences(user: User) -> set[tuple[str, str]]:
    return set(GenrePreference.objects.filter(user=user).values_list("kind", "genre__slug"))


def _field_errors(html: str, field: str) -> str:
    """The text of the error list Django renders for ``field`` (empty when there is none)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def _selected(html: str, field: str) -> str | None:
    select = re.search(rf'<select name="{field}".*?</select>', html, re.S)
    assert select, f"no select named {field}"
    option = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(0))
    return unescape(option.group(1)) if option else None


# --------------------------------------------------------------------------- validation table
DEMOGRAPHIC_PAGES = ["/accounts/profile/about/", "/accounts/onboarding/"]


@pytest.mark.parametrize("url", DEMOGRAPHIC_PAGES)
@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("age", "13", 13),
        ("age", "100", 100),
        ("gender", "NB", "NB"),
        ("country", "US", "US"),
        ("country", "us", "US"),
        ("occupation", "student", "student"),
        ("age", "", None),
        ("country", "", ""),
    ],
)
def test_web_form_accepts_valid_demographics(ada, ada_client, url, field, typed, stored):
    # given a listener with stored demographics
    # when they submit the form with one field changed
    response = ada_client.post(url, {**FORM, field: typed})

    # then it is stored (normalised) and the next page follows
    assert response.status_code == 302
    assert getattr(User.objects.get(pk=ada.pk), field) == stored


@pytest.mark.parametrize("url", DEMOGRAPHIC_PAGES)
@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("age", "12", "greater than or equal to 13"),
        ("age", "101", "less than or equal to 100"),
        ("age", "abc", "must be an integer"),
        ("gender", "X", "not a valid choice"),
        ("country", "USA", "USA is not the two-letter ISO 3166-1 code"),
        ("country", "840", "840 is not the two-letter ISO 3166-1 code"),
        ("country", "XX", "XX is not the two-letter ISO 3166-1 code"),
        ("occupation", "astronaut", "not a valid choice"),
        ("time_zone", "Mars/Olympus", "not a time zone name"),
    ],
)
def test_web_form_refuses_invalid_demographics_and_changes_nothing(
    ada, ada_client, url, field, typed, message
):
    # given a listener with stored demographics
    before = _stored(ada)

    # when they submit an invalid value together with valid changes to the other fields
    changed = {"age": "44", "gender": "O", "country": "FR", "occupation": "artist"}
    response = ada_client.post(url, {**FORM, **changed, "time_zone": "Asia/Tokyo", field: typed})

    # then the page shows the error under that field, keeps what was typed, and stores nothing
    html = response.content.decode()
    assert response.status_code == 200
    assert message in _field_errors(html, field)
    if field == "age":
        assert re.search(rf'name="age" value="{typed}"', html)
    else:
        assert _selected(html, field) == typed
    assert _selected(html, "gender") == (typed if field == "gender" else "O")
    assert _selected(html, "country") == (typed if field == "country" else "FR")
    assert _stored(ada) == before


def test_web_form_shows_every_invalid_field_at_once(ada, ada_client):
    response = ada_client.post(
        "/accounts/profile/about/", {**FORM, "age": "101", "country": "XX", "gender": "X"}
    )

    html = response.content.decode()
    assert all(_field_errors(html, name) for name in ("age", "country", "gender"))
    assert not _field_errors(html, "occupation")
    assert _stored(ada) == (30, "F", "DE", "engineer", "Europe/Berlin")


def test_error_messages_escape_what_was_typed(ada, ada_client):
    response = ada_client.post("/accounts/profile/about/", {**FORM, "country": "<b>x</b>"})

    html = response.content.decode()
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt; is not the two-letter ISO 3166-1 code" in html


@pytest.mark.parametrize("url", ["/accounts/profile/genres/", "/accounts/onboarding/genres/"])
def test_a_genre_both_preferred_and_disliked_is_refused(ada, ada_client, url):
    # given stored preferences
    listener_preferences_set(user=ada, preferred=_genres("pop"), disliked=_genres("metal"))
    before = _preferences(ada)

    # when rock is ticked in both groups (with jazz liked too)
    response = ada_client.post(url, {"preferred": ["rock", "jazz"], "disliked": ["rock"]})

    # then the error names rock, both boxes stay ticked, and nothing is stored
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be both preferred and disliked: rock" in _field_errors(html, "disliked")
    for name, slug in [("preferred", "rock"), ("preferred", "jazz"), ("disliked", "rock")]:
        assert re.search(rf'<input type="checkbox" name="{name}" value="{slug}"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="disliked" value="pop"[^>]*checked', html)
    assert _preferences(ada) == before
    assert User.objects.get(pk=ada.pk).onboarded_at is None


def test_an_unknown_genre_is_refused(ada, ada_client):
    listener_preferences_set(user=ada, preferred=_genres("pop"), disliked=[])

    response = ada_client.post("/accounts/profile/genres/", {"preferred": ["rock", "no-such"]})

    assert response.status_code == 200
    assert "no-such" in _field_errors(response.content.decode(), "preferred")
    assert _preferences(ada) == {("preferred", "pop")}


def test_preferences_are_saved_and_shown(ada, ada_client):
    response = ada_client.post(
        "/accounts/profile/genres/", {"preferred": ["rock", "jazz"], "disliked": ["metal"]}
    )
    page = ada_client.get("/accounts/profile/")

    assert response.status_code == 302
    assert _preferences(ada) == {
        ("preferred", "rock"),
        ("preferred", "jazz"),
        ("disliked", "metal"),
    }
    html = page.content.decode()
    liked = re.search(r'data-testid="preferred-genres">(.*?)</dd>', html, re.S).group(1)
    assert re.findall(r'class="tag"[^>]*>([^<]+)<', liked) == ["jazz", "rock"]


def test_context_is_saved_with_the_time_it_changed_in_the_listeners_zone(ada, ada_client):
    listener_demographics_update(user=ada, values={"time_zone": "Asia/Tokyo"})

    response = ada_client.post("/accounts/profile/context/", {"mood": "calm", "activity": "focus"})

    fresh = User.objects.get(pk=ada.pk)
    assert response.status_code == 302
    assert (fresh.mood, fresh.activity) == ("calm", "focus")
    # shown in Tokyo time (UTC+9), e.g. "Context changed 4 May 2025, 18:30 JST"
    local = fresh.context_updated_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    html = ada_client.get("/accounts/profile/").content.decode()
    assert "Context changed" in html
    assert f"{local:%H:%M} JST" in html


def test_an_invalid_context_is_refused_and_nothing_changes(ada, ada_client):
    listener_context_update(user=ada, mood="happy", activity="party")

    response = ada_client.post("/accounts/profile/context/", {"mood": "angry", "activity": "relax"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "not a valid choice" in _field_errors(html, "mood")
    assert _selected(html, "mood") == "angry"
    assert _selected(html, "activity") == "relax"
    fresh = User.objects.get(pk=ada.pk)
    assert (fresh.mood, fresh.activity) == ("happy", "party")


def test_member_since_is_in_the_listeners_time_zone(ada, ada_client):
    # 23:30 UTC on 31 Dec is already 1 January in Tokyo
    User.objects.filter(pk=ada.pk).update(
        date_joined=dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC), time_zone="Asia/Tokyo"
    )

    html = ada_client.get("/accounts/profile/").content.decode()

    assert "Member since" in html
    assert "1 January 2025" in html


# --------------------------------------------------------------------------- two listeners
def test_pages_act_only_on_the_signed_in_listener(ada, bob, ada_client):
    # given Bob's data
    listener_preferences_set(user=bob, preferred=_genres("blues"), disliked=_genres("pop"))
    listener_context_update(user=bob, mood="sad", activity="commute")
    bob_before = (_stored(bob), _preferences(bob), ("sad", "commute"))

    # when Ada reads her pages and posts every form, naming Bob wherever she can
    bob_refs = {"user": bob.pk, "user_id": bob.pk, "pk": bob.pk, "id": bob.pk, "username": "bob"}
    profile = ada_client.get("/accounts/profile/", bob_refs)
    export = ada_client.get("/accounts/profile/export/", bob_refs)
    posts = [
        ada_client.post(
            "/accounts/profile/about/?user=" + str(bob.pk), {**FORM, **bob_refs, "age": "20"}
        ),
        ada_client.post("/accounts/profile/context/", {**bob_refs, "mood": "happy"}),
        ada_client.post("/accounts/profile/genres/", {**bob_refs, "preferred": ["rock"]}),
        ada_client.post("/accounts/onboarding/", {**FORM, **bob_refs, "age": "21"}),
        ada_client.post("/accounts/onboarding/genres/", {**bob_refs, "preferred": ["jazz"]}),
    ]

    # then she saw and changed only her own data, and Bob's is as it was
    assert "bob@example.com" not in profile.content.decode()
    assert "ada@example.com" in profile.content.decode()
    data = response_json(export)
    assert data["account"]["username"] == "ada"
    assert "blues" not in json.dumps(data)
    assert all(response.status_code == 302 for response in posts)
    fresh = User.objects.get(pk=bob.pk)
    assert (_stored(bob), _preferences(bob), (fresh.mood, fresh.activity)) == bob_before
    assert User.objects.get(pk=ada.pk).age == 21
    assert _preferences(ada) == {("preferred", "jazz")}


def test_account_deletion_deletes_only_the_signed_in_listener(ada, bob, ada_client):
    response = ada_client.post("/accounts/delete/", {"password": PASSWORD, "user": bob.pk})

    assert response.status_code == 302
    assert not User.objects.filter(pk=ada.pk).exists()
    assert User.objects.filter(pk=bob.pk).exists()


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/profile/", "<h1>ada</h1>"),
        ("/accounts/onboarding/", "Step 1 of 2"),
        ("/accounts/onboarding/genres/", "Step 2 of 2"),
        ("/accounts/password/change/", "Change your password"),
        ("/accounts/delete/", "Delete your account"),
    ],
)
def test_listener_pages_render(ada_client, url, heading):
    response = ada_client.get(url)

    assert response.status_code == 200
    assert heading in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/signup/", "Create your account"),
        ("/accounts/login/", "Sign in"),
        ("/accounts/password/reset/", "Forgot your password?"),
        ("/accounts/password/reset/sent/", "Check your e-mail"),
        ("/accounts/password/reset/MQ/bad-token/", "This link no longer works"),
        ("/accounts/password/reset/done/", "Your password was changed"),
    ],
)
def test_public_account_pages_render(client, url, heading):
    response = client.get(url)

    assert response.status_code == 200
    assert heading in response.content.decode()


def test_signed_in_listener_is_sent_on_from_sign_in_and_sign_up(ada_client):
    assert ada_client.get("/accounts/login/")["Location"] == "/accounts/onboarding/"
    assert ada_client.get("/accounts/signup/")["Location"] == "/"


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/profile/",
        "/accounts/profile/export/",
        "/accounts/onboarding/",
        "/accounts/onboarding/genres/",
        "/accounts/delete/",
        "/accounts/password/change/",
    ],
)
def test_listener_pages_need_a_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    "url", ["/accounts/profile/about/", "/accounts/profile/context/", "/accounts/profile/genres/"]
)
def test_anonymous_posts_change_nothing(client, ada, url):
    response = client.post(url, {**FORM, "age": "20", "mood": "sad", "preferred": ["rock"]})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert _stored(ada)[0] == 30
    assert not _preferences(ada)


def test_forms_are_csrf_protected(ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)

    response = client.post("/accounts/profile/about/", {**FORM, "age": "20"})
    sign_in = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "ada", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert sign_in.status_code == 403
    assert _stored(ada)[0] == 30


# --------------------------------------------------------------------------- sign-up, in, out
def test_sign_up_signs_in_and_leads_to_onboarding_which_can_be_skipped(client):
    # when someone signs up
    response = client.post(
        "/accounts/signup/",
        {
            "username": "Newbie",
            "email": "newbie@example.com",
            "password1": "a-Long-pass-42",
            "password2": "a-Long-pass-42",
        },
    )

    # then they are signed in and on step 1 of onboarding
    user = User.objects.get(username="Newbie")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/onboarding/"
    assert int(client.session[SESSION_KEY]) == user.pk
    step1 = client.get("/accounts/onboarding/")
    assert "Step 1 of 2" in step1.content.decode()

    # when they skip both steps
    skip1 = client.post("/accounts/onboarding/", {"skip": "1"})
    step2 = client.get(skip1["Location"])
    skip2 = client.post("/accounts/onboarding/genres/", {"skip": "1"})

    # then nothing was stored, onboarding is over, and the profile offers to finish it
    assert skip1["Location"] == "/accounts/onboarding/genres/"
    assert "Step 2 of 2" in step2.content.decode()
    assert skip2.status_code == 302
    user.refresh_from_db()
    assert user.onboarded_at is not None
    assert (user.age, user.country) == (None, "")
    assert not _preferences(user)
    profile = client.get("/accounts/profile/").content.decode()
    assert "Finish setting up" in profile
    assert 'href="/accounts/onboarding/"' in profile


def test_finishing_onboarding_stores_both_steps_and_hides_the_prompt(client):
    client.post(
        "/accounts/signup/",
        {
            "username": "finisher",
            "email": "finisher@example.com",
            "password1": "a-Long-pass-42",
            "password2": "a-Long-pass-42",
        },
    )

    step1 = client.post("/accounts/onboarding/", {**FORM, "country": "us"})
    step2 = client.post("/accounts/onboarding/genres/", {"preferred": ["rock", "jazz"]})

    user = User.objects.get(username="finisher")
    assert step1["Location"] == "/accounts/onboarding/genres/"
    assert step2["Location"] == "/"
    assert (user.age, user.country, user.time_zone) == (30, "US", "Europe/Berlin")
    assert _preferences(user) == {("preferred", "rock"), ("preferred", "jazz")}
    assert user.onboarded_at is not None
    assert "Finish setting up" not in client.get("/accounts/profile/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "ADA"}, "username", "already exists"),
        ({"email": "Ada@Example.com"}, "email", "already exists"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"username": "no spaces"}, "username", "Enter a valid username"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"password2": "something-else-42"}, "password2", "do not match"),
    ],
)
def test_sign_up_errors_are_shown_field_by_field(client, ada, changes, field, message):
    data = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "a-Long-pass-42",
        "password2": "a-Long-pass-42",
        **changes,
    }

    response = client.post("/accounts/signup/", data)

    html = response.content.decode()
    assert response.status_code == 200
    assert message in _field_errors(html, field)
    assert f'value="{data["username"]}"' in html
    assert f'value="{data["email"]}"' in html
    assert 'type="password" name="password1"' in html
    assert f'value="{data["password1"]}"' not in html  # passwords are never sent back
    assert User.objects.count() == 1
    assert SESSION_KEY not in client.session


def test_sign_in_with_the_e_mail_address_in_upper_case(client, ada):
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "ADA@EXAMPLE.COM", "password": PASSWORD}
    )

    assert "Username or e-mail" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/accounts/onboarding/"  # never onboarded: offered now
    assert int(client.session[SESSION_KEY]) == ada.pk


def test_sign_in_goes_home_or_to_next_once_onboarded(client, ada):
    User.objects.filter(pk=ada.pk).update(onboarded_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))

    home = client.post("/accounts/login/", {"username": "Ada", "password": PASSWORD})
    client.logout()
    to_next = client.post(
        "/accounts/login/?next=/accounts/profile/", {"username": "ada", "password": PASSWORD}
    )

    assert home["Location"] == "/"
    assert to_next["Location"] == "/accounts/profile/"


def test_sign_in_with_a_wrong_password_keeps_the_username(client, ada):
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "do not match an account" in html
    assert 'value="ada"' in html
    assert SESSION_KEY not in client.session


def test_sign_out_is_post_only(ada, ada_client):
    get = ada_client.get("/accounts/logout/")
    still_in = ada_client.get("/accounts/profile/")
    post = ada_client.post("/accounts/logout/")
    after = ada_client.get("/accounts/profile/")

    assert get.status_code == 405
    assert still_in.status_code == 200
    assert post.status_code == 302
    assert post["Location"] == "/"
    assert after.status_code == 302
    assert not ListenerSession.objects.filter(user=ada).exists()


def test_navigation_shows_the_listeners_links(client, ada_client):
    anonymous = client.get("/").content.decode()
    signed_in = ada_client.get("/").content.decode()

    assert 'href="/accounts/login/"' in anonymous
    assert 'href="/accounts/signup/"' in anonymous
    assert 'href="/accounts/profile/"' not in anonymous
    assert 'href="/accounts/profile/"' in signed_in
    assert re.search(
        r'<form class="nav-signout" action="/accounts/logout/" method="post">', signed_in
    )
    assert 'href="/accounts/login/"' not in signed_in


# --------------------------------------------------------------------------- passwords
def test_password_change_ends_other_sessions_and_revokes_refresh_tokens(ada):
    # given Ada signed in on a laptop and a phone, and a mobile app's refresh token
    laptop, phone = Client(), Client()
    assert laptop.login(username="ada", password=PASSWORD)
    assert phone.login(username="ada", password=PASSWORD)
    refresh = RefreshToken.for_user(ada)

    # when she changes her password on the laptop
    response = laptop.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-Secret-pw",
            "new_password2": "n3w-Secret-pw",
        },
    )

    # then the laptop stays signed in, the phone is out, and the token is blacklisted
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert laptop.get("/accounts/profile/").status_code == 200
    assert phone.get("/accounts/profile/").status_code == 302
    assert ListenerSession.objects.filter(user=ada).count() == 1
    token = OutstandingToken.objects.get(jti=refresh["jti"])
    assert BlacklistedToken.objects.filter(token=token).exists()
    assert User.objects.get(pk=ada.pk).check_password("n3w-Secret-pw")


def test_password_change_errors_change_nothing(ada, ada_client):
    response = ada_client.post(
        "/accounts/password/change/",
        {
            "old_password": "wrong",
            "new_password1": "n3w-Secret-pw",
            "new_password2": "n3w-Secret-pw",
        },
    )

    assert response.status_code == 200
    assert "incorrectly" in _field_errors(response.content.decode(), "old_password")
    assert User.objects.get(pk=ada.pk).check_password(PASSWORD)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, ada):
    # given a signed-in session elsewhere and a refresh token
    elsewhere = Client()
    elsewhere.force_login(ada)
    refresh = RefreshToken.for_user(ada)

    # when Ada asks for a reset (address in another case) and follows the link in the e-mail
    asked = client.post("/accounts/password/reset/", {"email": "ADA@example.com"})
    assert asked["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your musicrec password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Reset-pw-4242", "new_password2": "Reset-pw-4242"},
    )

    # then the new password works, the old sessions and tokens do not
    assert done["Location"] == "/accounts/password/reset/done/"
    assert User.objects.get(pk=ada.pk).check_password("Reset-pw-4242")
    assert elsewhere.get("/accounts/profile/").status_code == 302
    token = OutstandingToken.objects.get(jti=refresh["jti"])
    assert BlacklistedToken.objects.filter(token=token).exists()
    # and the link works once
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


# --------------------------------------------------------------------------- export, deletion
def test_download_my_data_is_a_json_attachment_of_the_listener(ada, ada_client):
    listener_preferences_set(user=ada, preferred=_genres("rock"), disliked=_genres("pop"))

    response = ada_client.get("/accounts/profile/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert re.fullmatch(
        r'attachment; filename="musicrec-data-\d{4}-\d\d-\d\d\.json"',
        response["Content-Disposition"],
    )
    data = response_json(response)
    assert data["account"]["username"] == "ada"
    assert data["demographics"]["country"] == "DE"
    assert [g["slug"] for g in data["preferences"]["preferred"]] == ["rock"]
    assert [g["slug"] for g in data["preferences"]["disliked"]] == ["pop"]


def test_delete_account_with_a_wrong_password_deletes_nothing(ada, ada_client):
    listener_preferences_set(user=ada, preferred=_genres("rock"), disliked=[])

    response = ada_client.post("/accounts/delete/", {"password": "wrong"})

    assert response.status_code == 200
    assert "password is not correct" in _field_errors(response.content.decode(), "password")
    assert User.objects.filter(pk=ada.pk).exists()
    assert _preferences(ada) == {("preferred", "rock")}
    assert ada_client.get("/accounts/profile/").status_code == 200


def test_delete_account_with_the_password_deletes_it_and_signs_out(ada, ada_client):
    listener_preferences_set(user=ada, preferred=_genres("rock"), disliked=[])
    RefreshToken.for_user(ada)

    page = ada_client.get("/accounts/delete/")
    response = ada_client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)

    assert "Delete your account" in page.content.decode()
    assert response.redirect_chain == [("/", 302)]
    assert "Your account and all its data were deleted" in response.content.decode()
    assert not User.objects.filter(pk=ada.pk).exists()
    assert not GenrePreference.objects.filter(user_id=ada.pk).exists()
    assert not ListenerSession.objects.filter(user_id=ada.pk).exists()
    assert not OutstandingToken.objects.filter(user_id=ada.pk).exists()
    assert SESSION_KEY not in ada_client.session
    assert ada_client.get("/accounts/profile/").status_code == 302
