"""The staff dashboard page, /staff/insights/: who may see it, what it says with no data (empty
states that say what to do), with lots of data (the figures the task stored, read in a bounded
number of queries), escaped, and with Redis down. The task, the lock and "Refresh now":
``test_dashboard_task.py``."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_redis import get_redis_connection

from history.models import Interaction, ListenImport
from insights.selectors.dashboard import staff_dashboard_compute
from insights.services import dashboard as dashboard_services
from insights.services.dashboard import dashboard_refresh
from musicrec import embedded
from musicrec.metrics import latency_key
from recommendations.models import Experiment, ExperimentVariant, Impression, ModelVersion
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

URL = "/staff/insights/"

#: the whole computation's queries (the task's 12 and the page's 2), measured with the data
#: below
DASHBOARD_QUERIES = 14
#: a page view with the figures stored: the session, the user, the model versions and the
#: running experiments (the list cache and the latency are Redis reads)
PAGE_QUERIES = 4


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[str]:
    """The tasks the page enqueues, recorded instead of sent (the task itself is tested in
    test_dashboard_task.py)."""
    names: list[str] = []
    monkeypatch.setattr(dashboard_services, "enqueue", lambda name, *a, **k: names.append(name))
    return names


def test_the_url_name():
    assert reverse("insights:staff") == URL


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={URL}"


def test_a_listener_who_is_not_staff_is_refused(listener_web):
    response = listener_web.get(URL)

    assert response.status_code == 403
    assert "Platform dashboard" not in response.content.decode()


def test_staff_see_it_curators_and_superusers(curator_web, superuser_web):
    for web in (curator_web, superuser_web):
        response = web.get(URL)
        assert response.status_code == 200
        assert "<h1>Platform dashboard</h1>" in response.content.decode()


def test_it_is_read_only_every_method_refused_as_get_is_and_writes_405(
    client, listener_web, curator_web
):
    for method in ("head", "post", "put", "delete", "options"):
        # a visitor is sent to sign in and a listener refused, whatever the method
        assert getattr(client, method)(URL).status_code == 302
        assert getattr(listener_web, method)(URL).status_code == 403
    # staff may read it (HEAD too); a write is no request this page answers
    assert curator_web.head(URL).status_code == 200
    for method in ("post", "put", "delete"):
        assert getattr(curator_web, method)(URL).status_code == 405


def test_the_nav_links_the_dashboard_for_staff_only(curator_web, listener_web):
    link = f'href="{URL}"'
    assert link in curator_web.get(reverse("history:page")).content.decode()
    assert link not in listener_web.get(reverse("history:page")).content.decode()


def test_with_no_data_every_section_says_what_produces_it(curator_web):
    dashboard_refresh()
    page = curator_web.get(URL).content.decode()

    for section in ("Activity", "Catalog popularity", "Cohorts", "Recommender health"):
        assert f">{section}</h2>" in page
    for empty in (
        "No listener has liked, played or skipped anything in this window yet",
        "No plays, likes, skips or playlist additions recorded in this window",
        "No listening history was imported in this window",
        "No plays in the last 90 days: tracks show up here",
        "No plays in the last 90 days: genres show up here",
        "Nobody signed up in these weeks yet",
        "No model has been trained yet",
        "No list has been asked for yet",
        "No request timed in the last 24 hours",
        "No recommendation list was served in this window",
        "No experiment is running",
    ):
        assert empty in page, empty
    assert "<canvas" not in page  # no chart without figures
    assert "{#" not in page and "#}" not in page  # no template comment leaks as text
    assert "within 30 minutes after it was served" in page  # the attribution rule, in one line


def _lots(now: dt.datetime) -> dict:
    """Listeners over ten weeks with plays, likes and skips; served lists answered; imports;
    three model versions; a running experiment; latency counts. Returns what the test checks."""
    rng = random.Random(14)
    genres = [GenreFactory(name=f"genre {n}") for n in range(6)]
    evil = ArtistFactory(name="<script>alert('artist')</script>")
    tracks = [
        TrackFactory(genres=[genres[n % 6]], artists=[evil] if n == 0 else None) for n in range(40)
    ]
    listeners = [
        UserFactory(date_joined=now - dt.timedelta(days=rng.randrange(0, 70))) for _ in range(40)
    ]
    events = []
    for listener in listeners:
        for _ in range(30):
            at = now - dt.timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440))
            events.append(
                Interaction(
                    user=listener,
                    track=tracks[min(int(rng.expovariate(0.15)), 39)],
                    kind=rng.choice(["play", "play", "play", "like", "skip", "dislike"]),
                    occurred_at=at,
                    recorded_at=at,
                )
            )
    Interaction.objects.bulk_create(events)
    for listener in listeners[:20]:
        served = rng.sample(tracks, 10)
        impression = Impression.objects.create(
            user=listener,
            surface="web",
            served_at=now - dt.timedelta(hours=rng.randrange(1, 100)),
            items=[
                {
                    "track_id": t.pk,
                    "position": i + 1,
                    "score": 0.5,
                    "sources": {"collaborative": 0.5, "content": 0.2 * (i % 2)},
                }
                for i, t in enumerate(served)
            ],
        )
        Interaction.objects.create(
            user=listener, track=served[0], kind="play", impression_id=impression.pk
        )
    for n, status in enumerate(["done", "done", "failed", "pending"]):
        ListenImport.objects.create(
            user=listeners[n],
            format="lastfm",
            status=status,
            created_at=now - dt.timedelta(days=n),
            listens=100,
            matched=90,
            unmatched=10,
        )
    for n, status in enumerate(["retired", "active", "failed"]):
        ModelVersion.objects.create(
            status=status,
            created_at=now - dt.timedelta(days=3 - n),
            training_seconds=30.0 + n,
            figures={"holdout": {"ndcg@10": 0.25 + n / 100, "recall@10": 0.3, "coverage@10": 0.1}},
        )
    experiment = Experiment.objects.create(
        name="<b>Less popularity</b>", share=0.2, starts_at=now - dt.timedelta(days=1)
    )
    ExperimentVariant.objects.create(experiment=experiment, key="control")
    ExperimentVariant.objects.create(experiment=experiment, key="b")
    redis = get_redis_connection("default")
    redis.hincrby(latency_key(now), "GET /api/v1/recommendations/|0.05", 90)
    redis.hincrby(latency_key(now), "GET /api/v1/recommendations/|0.25", 10)
    return {"evil": evil.name, "experiment": experiment.name}


def test_with_lots_of_data_it_renders_every_figure_in_bounded_queries(
    curator_web, django_assert_max_num_queries
):
    # given
    made = _lots(timezone.now())

    dashboard_refresh()  # the task's work

    # when (the page reads the stored figures: a fixed number of cheap queries)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = curator_web.get(URL)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    for key in (
        "active-listeners",
        "interactions",
        "imports",
        "popular-tracks",
        "popular-genres",
        "retention",
        "served-source",
        "served-position",
    ):
        assert f'id="chart-{key}-data"' in page, key
    assert page.count("<canvas") == 8
    # tables: model versions, the latency of the list API, the experiment, the retention
    assert "ndcg@10 0.260" in page and "31.0 s" in page
    assert "<code>GET /api/v1/recommendations/</code>" in page
    assert "&lt;b&gt;Less popularity&lt;/b&gt;" in page and made["experiment"] not in page
    assert "Retention by sign-up week" in page
    assert "This week (so far)" in page  # the unfinished week is named as such, not a fall
    # catalog text is escaped everywhere, the JSON of the charts included
    assert made["evil"] not in page
    assert "No experiment is running" not in page
    assert "{#" not in page
    assert "the collaborative source has the best click-through" in page


def test_the_query_count_does_not_grow_with_the_data(django_assert_max_num_queries):
    now = timezone.now()
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        staff_dashboard_compute(now=now)
    _lots(now)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        figures = staff_dashboard_compute(now=now)
    assert figures.figures.popular_tracks.rows and figures.figures.served.by_source
    assert figures.health.experiments


@pytest.fixture
def own_redis():
    """A Redis of this test's own (var/test-dash-redis/) as the cache, stopped by the test; it
    is stopped in any case when the test ends."""
    instance = embedded.Instance("test-dash-redis")
    url, _ = embedded.start_redis(instance)
    try:
        cache_settings = {**settings.CACHES["default"], "LOCATION": url.replace("/0", "/1")}
        with override_settings(CACHES={"default": cache_settings}):
            yield instance
    finally:
        embedded.stop_redis(instance)


def test_with_redis_down_the_page_still_answers(own_redis, curator):
    web = Client()
    web.force_login(curator)
    assert web.get(URL).status_code == 200

    assert embedded.stop_redis(own_redis)
    response = web.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Redis did not answer: the latency figures are unknown." in page
    assert "Redis did not answer: the cache's figures are unknown." in page
    assert "the activity, popularity, cohort and served-list figures are unavailable" in page
    assert "No model has been trained yet" in page  # the cheap parts, read from the database


def test_the_admin_start_page_links_the_dashboard(curator_web):
    page = curator_web.get(reverse("admin:index")).content.decode()

    assert f'<a href="{URL}">Platform dashboard</a>' in page
