"""With Redis down, trending, similar tracks, the search pick and the figures still answer:
computed uncached, never an error (SPEC §11). Against a real Redis this test starts, then
stops."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from catalog.models import Track
from musicrec import embedded
from recommendations.selectors import serving

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis():
    """A Redis of this test's own (var/test-capi-redis/) as the cache, stopped by the test; it
    is stopped in any case when the test ends."""
    instance = embedded.Instance("test-capi-redis")
    url, _ = embedded.start_redis(instance)
    try:
        cache = {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}
        with override_settings(CACHES={"default": cache}):
            yield instance
    finally:
        embedded.stop_redis(instance)


def test_the_catalog_side_endpoints_answer_without_redis(own_redis, listener_api):
    # given the figures cached while Redis answered
    serving.serving_state_reset()
    assert listener_api.get("/api/v1/stats/").status_code == 200
    track = Track.objects.order_by("id")[10]

    # when it stops
    assert embedded.stop_redis(own_redis)
    stats = listener_api.get("/api/v1/stats/")
    trending = listener_api.get("/api/v1/recommendations/trending/")
    similar = listener_api.get(f"/api/v1/tracks/{track.pk}/similar/")
    search = listener_api.get("/api/v1/search/", {"q": "beatles"})

    # then every one answers, computed
    assert stats.status_code == 200 and stats.json()["catalog"]["tracks"] > 0
    assert trending.status_code == 200
    assert similar.status_code == 200 and similar.json()["results"]
    assert search.status_code == 200 and search.json()["recommendation"] is not None
