"""With Redis down, the sign-in, sign-up, reset and upload limits fail closed (503 with a clear
message) while the rest of the site answers as before. Against a real Redis this test starts,
then stops."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from rest_framework.test import APIClient

from history.models import ListenImport
from musicrec import embedded
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAUSED = "This is paused for a moment"
SCROBBLES = (
    b"artist,album,title,date\nQueen,A Night at the Opera,Bohemian Rhapsody,01 Jan 2024 10:00\n"
)


@pytest.fixture
def own_redis():
    """A Redis of this test's own (var/test-ratelimit/) as the cache, stopped by the test; it is
    stopped in any case when the test ends, failed or not."""
    instance = embedded.Instance("test-ratelimit")
    url, _ = embedded.start_redis(instance)
    try:
        cache = {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}
        with override_settings(CACHES={"default": cache}):
            yield instance
    finally:
        embedded.stop_redis(instance)


def test_auth_and_upload_limits_fail_closed_while_the_site_answers(own_redis, listener):
    # given Redis answers: signing in works
    api = APIClient()
    credentials = {"username": "listener", "password": PASSWORD}
    assert api.post("/api/v1/auth/token/", credentials, format="json").status_code == 200

    # when it stops
    assert embedded.stop_redis(own_redis)
    token = api.post("/api/v1/auth/token/", credentials, format="json")
    register = api.post(
        "/api/v1/auth/register/",
        {"username": "newcomer", "email": "newcomer@example.com", "password": "a-Long-pass-42"},
        format="json",
    )
    web = Client()
    sign_in = web.post("/accounts/login/", credentials)
    reset = web.post("/accounts/password/reset/", {"email": "listener@example.com"})
    admin_sign_in = web.post("/admin/login/", credentials)
    uploader = APIClient()
    uploader.force_authenticate(listener)
    upload = uploader.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("scrobbles.csv", SCROBBLES)},
        format="multipart",
    )
    tracks = api.get("/api/v1/tracks/", {"page_size": 1})
    home = web.get("/")

    # then every limit that fails closed refuses, saying why …
    assert token.status_code == 503
    assert token.json()["code"] == "rate_limit_unavailable"
    assert PAUSED in token.json()["error"]
    assert int(token["Retry-After"]) > 0
    assert register.status_code == 503
    assert not listener.__class__.objects.filter(username="newcomer").exists()
    for page in (sign_in, reset, admin_sign_in):
        assert page.status_code == 503
        assert PAUSED in page.content.decode()
    assert "_auth_user_id" not in web.session
    assert mail.outbox == []
    assert upload.status_code == 503
    assert not ListenImport.objects.filter(user=listener).exists()
    # … and the rest of the site answers (its throttles fail open, uncached)
    assert tracks.status_code == 200
    assert home.status_code == 200
