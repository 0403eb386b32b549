"""System checks and the one error format of the API."""

from __future__ import annotations

import pytest

from musicrec.checks import check_database_ctype, ctype_errors


@pytest.mark.parametrize("ctype", ["C", "POSIX", "c"])
def test_c_locale_is_refused(ctype):
    errors = ctype_errors(ctype)

    assert [error.id for error in errors] == ["musicrec.E001"]


@pytest.mark.parametrize("ctype", ["C.UTF-8", "en_US.UTF-8"])
def test_utf8_locales_pass(ctype):
    assert ctype_errors(ctype) == []


@pytest.mark.django_db
def test_the_test_database_has_a_utf8_ctype():
    assert check_database_ctype(None) == []


@pytest.mark.django_db
def test_a_bad_token_is_a_401_in_the_error_format(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get("/api/v1/tracks/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")
