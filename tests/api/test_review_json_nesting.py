"""Found in review: a JSON body nested deeper than Python's recursion limit made DRF's parser
raise RecursionError (not the ValueError it turns into a 400): a 500 on every JSON endpoint."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

NESTED = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/playlists/"),
        ("POST", "/api/v1/playlists/generate/"),
        ("PUT", "/api/v1/me/preferences/"),
        ("POST", "/api/v1/me/blocks/"),
        ("POST", "/api/v1/history/"),
        ("POST", "/api/v1/interactions/"),
        ("POST", "/api/v1/auth/register/"),
    ],
)
def test_a_deeply_nested_json_body_is_a_400(listener_api, method, path):
    # given a body of JSON nested 100,000 deep (a few hundred kB)
    # when it is sent
    response = listener_api.generic(method, path, NESTED, content_type="application/json")

    # then it is a malformed body, not a server error
    assert response.status_code == 400, response.status_code
    assert response.json()["code"] == "parse_error"
