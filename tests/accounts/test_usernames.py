"""A username can never be (someone's) e-mail address: no ``@`` in usernames, everywhere."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.services import listener_register
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NO_AT = "It cannot contain @"


def test_the_model_refuses_a_username_with_an_at_sign():
    user = User(username="bob@example.com", email="bob@example.org")

    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])

    assert NO_AT in str(refused.value.message_dict["username"])


def test_registering_with_someone_elses_address_as_username_is_refused(listener):
    with pytest.raises(ValidationError) as refused:
        listener_register(username=listener.email, email="mallory@example.org", password=PASSWORD)

    assert NO_AT in " ".join(refused.value.message_dict["username"])
    assert not User.objects.filter(email="mallory@example.org").exists()


def test_api_sign_up_refuses_an_at_sign_in_the_username(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": "ada@example.com", "email": "ada@example.org", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert NO_AT in response.json()["username"][0]
    assert not User.objects.filter(email="ada@example.org").exists()


def test_web_sign_up_shows_why_an_at_sign_is_refused(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "ada@example.com",
            "email": "ada@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert NO_AT in response.content.decode()
    assert not User.objects.filter(email="ada@example.org").exists()


def test_admin_refuses_an_at_sign_when_adding_or_renaming(superuser_web, listener):
    # when a superuser adds an account, or renames one, with an "@" in the username
    added = superuser_web.post(
        "/admin/accounts/user/add/",
        {
            "username": "new@example.com",
            "usable_password": "true",
            "password1": "An0ther-Secret",
            "password2": "An0ther-Secret",
        },
    )
    renamed = superuser_web.post(
        f"/admin/accounts/user/{listener.pk}/change/",
        {
            "username": "other@example.com",
            "email": listener.email,
            "is_active": "on",
            "time_zone": "UTC",
            "genre_preferences-TOTAL_FORMS": "0",
            "genre_preferences-INITIAL_FORMS": "0",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    # then both forms come back with the reason and nothing changed
    assert added.status_code == 200
    assert NO_AT in added.content.decode()
    assert not User.objects.filter(username="new@example.com").exists()
    assert renamed.status_code == 200
    assert NO_AT in renamed.content.decode()
    assert User.objects.get(pk=listener.pk).username == "listener"


def test_an_older_username_that_is_an_address_does_not_take_its_owners_sign_in():
    # given an account made before the rule (create_user does not validate) whose username is
    # Ada's e-mail address, older than Ada's own account
    User.objects.create_user("ADA@example.com", "squat@example.org", "Squat-pw-4242")
    ada = UserFactory(username="ada", email="ada@example.com")
    client = Client()

    # when Ada signs in with her address
    response = client.post(
        "/accounts/login/", {"username": "ada@example.com", "password": PASSWORD}
    )

    # then she is in
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ada.pk)
