"""A password change, however it is made, ends every JWT issued before it at once (not when the
access token expires 15 minutes later)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "n3w-Secret-pw"


def _tokens(username: str, password: str = PASSWORD) -> dict[str, str]:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me/")


def _refresh(refresh: str):
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")


def test_web_password_change_revokes_access_tokens(listener):
    # given a token pair that works
    tokens = _tokens("listener")
    assert _me(tokens["access"]).status_code == 200
    web = Client()
    web.force_login(listener)

    # when the listener changes the password on the web
    changed = web.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then the old access token is refused, and a new sign-in works
    assert changed.status_code == 302
    refused = _me(tokens["access"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "password_changed", refused.json()
    assert _me(_tokens("listener", NEW_PASSWORD)["access"]).status_code == 200


def test_password_reset_revokes_access_tokens(client, listener):
    # given
    tokens = _tokens("listener")

    # when the listener resets the password from the e-mailed link
    client.post("/accounts/password/reset/", {"email": listener.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then
    assert done.status_code == 302
    assert _me(tokens["access"]).status_code == 401
    assert _refresh(tokens["refresh"]).status_code == 401


def test_a_password_set_in_the_admin_revokes_access_and_refresh_tokens(superuser_web, listener):
    # given
    tokens = _tokens("listener")

    # when a superuser sets a new password in the admin (which revokes no refresh token itself)
    response = superuser_web.post(
        f"/admin/accounts/user/{listener.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    # then neither old token works any more
    assert response.status_code == 302
    assert _me(tokens["access"]).status_code == 401
    refreshed = _refresh(tokens["refresh"])
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "password_changed"


def test_tokens_keep_working_while_the_password_is_unchanged(listener):
    tokens = _tokens("listener")

    refreshed = _refresh(tokens["refresh"])

    assert refreshed.status_code == 200
    assert _me(refreshed.json()["access"]).status_code == 200
