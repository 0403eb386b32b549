"""GET /api/v1/stats/: catalog and usage figures; staff see more; cached for a minute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Artist, Genre, Track
from history.models import Interaction
from recommendations.selectors.stats import STATS_CACHE_SECONDS, site_stats, site_stats_compute
from recommendations.services.popularity import refresh_popularity
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory
from tests.recommendations.popularity_data import event

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"

PUBLIC = {
    "generated_at",
    "catalog",
    "listeners",
    "interactions",
    "model",
    "popularity",
    "cache",
}


def test_a_listener_sees_the_public_figures(listener_api):
    refresh_popularity()

    response = listener_api.get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PUBLIC
    assert body["catalog"] == {
        "tracks": Track.objects.count(),
        "artists": Artist.objects.count(),
        "genres": Genre.objects.count(),
    }
    assert body["listeners"]["total"] == User.objects.filter(is_staff=False).count()
    assert body["model"] is None  # before the first training
    assert set(body["popularity"]) == {"refreshed_at", "age_seconds", "seconds", "trending_tracks"}
    assert body["cache"] == {
        "hits": 0,
        "misses": 0,
        "requests": 0,
        "hit_rate": None,
        "available": True,
    }


def test_a_visitor_sees_what_a_listener_sees(api_client):
    assert set(api_client.get(URL).json()) == PUBLIC


def test_staff_see_the_training_figures_weights_and_queue(curator, trained_model):
    staff = APIClient()
    staff.force_authenticate(curator)

    body = staff.get(URL).json()

    assert set(body) == PUBLIC | {"weights", "queue"}
    assert body["model"]["version"] == trained_model.version.pk
    assert body["model"]["age_seconds"] >= 0
    assert body["model"]["training"]["listeners"] == trained_model.version.listeners
    assert body["weights"]["collaborative"] > 0
    assert set(body["queue"]) == {"celery"}


def test_a_listener_sees_the_model_but_not_its_training(listener_api, trained_model):
    body = listener_api.get(URL).json()

    assert body["model"]["version"] == trained_model.version.pk
    assert "training" not in body["model"]
    assert "weights" not in body and "queue" not in body


def test_interactions_count_the_last_24_hours_and_in_all():
    before = site_stats_compute()["interactions"]
    listener = UserFactory()
    track = Track.objects.order_by("id").first()
    event(listener, track, days_ago=0)
    event(listener, track, days_ago=2)

    after = site_stats_compute()["interactions"]

    assert after["total"] == before["total"] + 2 == Interaction.objects.count()
    assert after["last_24h"] == before["last_24h"] + 1


def test_signed_in_listeners_of_the_last_day():
    before = site_stats_compute()["listeners"]
    UserFactory(last_login=dt.datetime.now(dt.UTC))
    UserFactory(last_login=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))

    after = site_stats_compute()["listeners"]

    assert after["total"] == before["total"] + 2
    assert after["signed_in_24h"] == before["signed_in_24h"] + 1


def test_figures_are_kept_a_minute_and_cost_no_query_meanwhile(django_assert_num_queries):
    first = site_stats()
    TrackFactory()

    with django_assert_num_queries(0):
        second = site_stats()

    assert second == first
    assert STATS_CACHE_SECONDS == 60
    cache.clear()  # a minute later
    assert site_stats()["catalog"]["tracks"] == first["catalog"]["tracks"] + 1


def test_staff_figures_are_kept_apart_from_the_public_ones():
    public = site_stats()
    staff = site_stats(staff=True)

    assert "weights" in staff and "weights" not in public
    assert "weights" not in site_stats()
