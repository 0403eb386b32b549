"""Sign-in, sign-up and password reset are limited per client address and per account aimed at,
on the API, the pages and the admin alike; X-Forwarded-For does not change who is counted."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many attempts. Please wait"
WRONG = "not-the-password"


def _token(client: APIClient, username: str, password: str = WRONG, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra
    )


def _sign_in(client: Client, username: str, password: str = WRONG, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


# --------------------------------------------------------------------------- API


def test_a_forged_x_forwarded_for_does_not_escape_the_address_limit(throttle_rates, listener):
    # given
    throttle_rates(auth="3/minute")
    client = APIClient()

    # when each attempt claims another client address in X-Forwarded-For
    statuses = [
        _token(client, f"user{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(4)
    ]

    # then they are all the same client
    assert statuses == [401, 401, 401, 429]


def test_api_sign_in_is_limited_per_account_whatever_the_address(throttle_rates, listener):
    # given a low per-account rate
    throttle_rates(auth_account="3/minute")

    # when three clients guess the listener's password, by username and by e-mail address
    guesses = [
        _token(APIClient(REMOTE_ADDR=f"198.51.100.{n}"), name).status_code
        for n, name in enumerate(["listener", "LISTENER@example.com", "listener"])
    ]
    refused = _token(APIClient(REMOTE_ADDR="198.51.100.9"), "listener", PASSWORD)

    # then the fourth attempt is refused, even with the right password; others are not affected
    assert guesses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert (
        _token(APIClient(), "other", PASSWORD).status_code == 401
    )  # no such account: counted apart


def test_api_sign_up_is_limited_per_e_mail_address(throttle_rates, listener):
    throttle_rates(auth_account="2/minute")

    def register(n: int):
        return APIClient(REMOTE_ADDR=f"198.51.100.{n}").post(
            "/api/v1/auth/register/",
            {"username": f"new{n}", "email": "taken@example.com", "password": "x"},
            format="json",
        )

    assert [register(n).status_code for n in range(3)] == [400, 400, 429]


# --------------------------------------------------------------------------- pages


def test_web_sign_in_is_limited_per_address_with_a_message(throttle_rates, listener):
    # given
    throttle_rates(auth="3/minute")
    client = Client()

    # when three wrong passwords for three names, then the right one
    wrong = [_sign_in(client, name).status_code for name in ("a", "b", "c")]
    refused = _sign_in(client, "listener", PASSWORD)

    # then the fourth attempt is refused with a message on the page, and nobody is signed in
    assert wrong == [200, 200, 200]
    assert refused.status_code == 429
    assert TOO_MANY in refused.content.decode()
    assert SESSION_KEY not in client.session


def test_web_sign_in_is_limited_per_account_and_shares_the_apis_budget(throttle_rates, listener):
    # given
    throttle_rates(auth_account="3/minute")

    # when the listener's password is guessed on the API, then on the page from other addresses
    assert _token(APIClient(), "listener").status_code == 401
    pages = [
        _sign_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), "listener@example.com").status_code
        for n in range(3)
    ]

    # then
    assert pages == [200, 200, 429]


def test_sign_up_is_limited_per_address(throttle_rates):
    throttle_rates(auth="2/minute")
    client = Client()

    def sign_up(n: int):
        return client.post(
            "/accounts/signup/",
            {
                "username": f"newcomer{n}",
                "email": f"newcomer{n}@example.com",
                "password1": "a-Long-pass-42",
                "password2": "a-Long-pass-42",
            },
        )

    # signing up signs in; sign out between the attempts
    first = sign_up(1)
    client.logout()
    second = sign_up(2)
    client.logout()
    third = sign_up(3)

    assert (first.status_code, second.status_code) == (302, 302)
    assert third.status_code == 429
    assert TOO_MANY in third.content.decode()
    assert not User.objects.filter(username="newcomer3").exists()


def test_password_reset_mails_are_limited_per_e_mail_address(throttle_rates, listener):
    # given
    throttle_rates(password_reset="2/hour")

    # when the reset is asked for again and again, from different addresses
    responses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(
            "/accounts/password/reset/", {"email": "Listener@example.com"}
        )
        for n in range(3)
    ]

    # then two mails are sent and the third request is refused with a message
    assert [r.status_code for r in responses] == [302, 302, 429]
    assert TOO_MANY in responses[2].content.decode()
    assert len(mail.outbox) == 2


def test_password_reset_is_limited_per_address(throttle_rates):
    throttle_rates(auth="3/minute")
    client = Client()

    statuses = [
        client.post("/accounts/password/reset/", {"email": f"n{n}@example.com"}).status_code
        for n in range(4)
    ]

    assert statuses == [302, 302, 302, 429]


def test_admin_sign_in_is_limited_with_a_message(throttle_rates, superuser):
    # given
    throttle_rates(auth="2/minute")
    client = Client()

    # when
    wrong = [_sign_in(client, "admin", url="/admin/login/").status_code for _ in range(2)]
    refused = _sign_in(client, "admin", PASSWORD, url="/admin/login/")

    # then
    assert wrong == [200, 200]
    assert refused.status_code == 429
    assert TOO_MANY in refused.content.decode()
    assert SESSION_KEY not in client.session


def test_admin_sign_in_still_works(superuser):
    client = Client()

    response = _sign_in(client, "admin", PASSWORD, url="/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "a\\u0000b", "password": "x"}',
        '{"username": "' + "x" * 5000 + '", "password": "x"}',
        '{"username": ["listener"], "password": "x"}',
        '["listener"]',
        '{"username": ',
    ],
)
def test_odd_sign_in_bodies_are_refused_cleanly(body):
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code in {400, 401}
