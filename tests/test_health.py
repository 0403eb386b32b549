"""/health/ against real services: a Redis this test starts, then stops."""

from __future__ import annotations

import pytest
from django.test import override_settings

from musicrec import embedded
from tests.services import helper_instance

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_everything_answers(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}


@pytest.fixture
def own_redis():
    """A Redis of this test's own (var/<instance>/helpers/health/), so stopping it harms
    nobody else."""
    instance = helper_instance("health")
    try:
        url, _ = embedded.start_redis(instance)
        yield instance, url
    finally:
        embedded.stop_redis(instance)


def _settings_for(url: str) -> dict:
    from django.conf import settings

    caches = {"default": {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}}
    return {"CACHES": caches, "CELERY_BROKER_URL": url}


def test_health_names_redis_when_it_is_stopped(client, own_redis):
    from musicrec.celery import app

    instance, url = own_redis
    original_broker = app.conf.broker_url  # restored after: later tests use the real broker
    with override_settings(**_settings_for(url)):
        app.conf.broker_url = url
        try:
            # given: our own Redis is up
            assert client.get("/health/").status_code == 200

            # when: it stops
            assert embedded.stop_redis(instance)
            response = client.get("/health/")
        finally:
            app.conf.broker_url = original_broker

    # then
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert "redis" in body["down"]
    assert body["checks"]["database"] == "ok"


def test_pages_still_answer_when_redis_is_down(client, own_redis):
    instance, url = own_redis
    embedded.stop_redis(instance)

    with override_settings(**_settings_for(url)):
        home = client.get("/")
        api = client.get("/api/v1/tracks/", {"page_size": 1})

    assert home.status_code == 200
    assert api.status_code == 200
