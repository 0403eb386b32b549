"""The staff dashboard's heavy figures, computed by the Celery task ``insights.refresh_dashboard``
and never in a request: the task stores them, the page reads them (no heavy query), enqueues
the task once when nothing is stored, the lock keeps two computations apart (real threads),
"Refresh now" is for staff, and beat runs a registered task. Real PostgreSQL and Redis."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from history.models import Interaction
from insights.selectors.dashboard import (
    FIGURES_KEY,
    LOCK_KEY,
    REQUESTED_KEY,
    DashboardFigures,
    stored_dashboard_figures,
)
from insights.services import dashboard as dashboard_services
from insights.services.dashboard import (
    RefreshRequest,
    dashboard_refresh,
    dashboard_refresh_request,
)
from insights.tasks import refresh_dashboard
from musicrec import embedded
from musicrec.celery import app
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory
from tests.services import helper_instance

pytestmark = pytest.mark.django_db

URL = "/staff/insights/"
REFRESH_URL = "/staff/insights/refresh/"
TASK = "insights.refresh_dashboard"
#: the tables only the heavy figures read
HEAVY_TABLES = ("history_interaction", "recommendations_impression", "history_listenimport")
COMPUTING = "The figures are being computed; reload in a minute."


@pytest.fixture
def enqueued(monkeypatch) -> list[str]:
    """The tasks the services enqueue, recorded instead of sent to the broker."""
    names: list[str] = []

    def record(name: str, *args: object, **kwargs: object) -> bool:
        names.append(name)
        return True

    monkeypatch.setattr(dashboard_services, "enqueue", record)
    return names


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def broker_down():
    """Point Celery at a Redis that this test started and then stopped (as
    tests/catalog/test_tasks.py)."""
    instance = helper_instance("dashboard-broker")
    try:
        url, _ = embedded.start_redis(instance)
    finally:
        stopped = embedded.stop_redis(instance)
    assert stopped, "the helper Redis did not stop"
    previous = app.conf.broker_url
    app.conf.broker_url = url
    app.pool.force_close_all()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        app.pool.force_close_all()


def _some_plays(listeners: int = 3) -> None:
    track = TrackFactory(title="Heavy Rotation")
    now = timezone.now() - timedelta(hours=1)
    for _ in range(listeners):
        Interaction.objects.create(
            user=UserFactory(), track=track, kind="play", occurred_at=now, recorded_at=now
        )


def _heavy(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"][:120] for q in queries if any(t in q["sql"] for t in HEAVY_TABLES)]


# --------------------------------------------------------------------------- the task


def test_the_task_stores_the_figures_with_when_they_were_computed():
    _some_plays(3)
    before = timezone.now()

    result = refresh_dashboard.apply().get()

    stored = cache.get(FIGURES_KEY)
    assert isinstance(stored, DashboardFigures)
    assert stored.computed_at >= before
    assert stored.active.last_day == 3
    assert stored.popular_tracks.rows[0].name.startswith("Heavy Rotation")
    assert result["computed"] is True and result["computed_at"] == stored.computed_at.isoformat()
    assert cache.get(LOCK_KEY) is None  # released
    assert stored_dashboard_figures().figures == stored


def test_a_computation_releases_the_request_marker():
    cache.set(REQUESTED_KEY, 1, timeout=60)

    dashboard_refresh()

    assert cache.get(REQUESTED_KEY) is None  # "Refresh now" may send the next one


def test_a_run_while_the_lock_is_held_computes_nothing():
    cache.add(LOCK_KEY, "another worker", timeout=60)

    result = refresh_dashboard.apply().get()

    assert result == {"computed": False, "computed_at": None, "seconds": 0.0}
    assert cache.get(FIGURES_KEY) is None
    assert cache.get(LOCK_KEY) == "another worker"  # not released by the skipped run


@pytest.mark.django_db(transaction=True)
def test_the_lock_keeps_two_concurrent_computations_apart(monkeypatch):
    # given: a computation that waits, inside the lock, until the test lets it go on
    computations: list[str] = []
    inside, go_on = threading.Event(), threading.Event()
    real_compute = dashboard_services.dashboard_figures_compute

    def held(*, now: dt.datetime) -> DashboardFigures:
        computations.append(threading.current_thread().name)
        inside.set()
        assert go_on.wait(60), "the test never let the computation go on"
        return real_compute(now=now)

    monkeypatch.setattr(dashboard_services, "dashboard_figures_compute", held)
    outcomes: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            outcomes[name] = dashboard_refresh()
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert inside.wait(60)

    # when: a second worker starts while the first computes
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    second.join(60)
    go_on.set()
    first.join(60)

    # then: one computation, the second run skipped at once
    assert computations == ["first"]
    assert outcomes["second"].computed is False
    assert outcomes["first"].computed is True
    assert isinstance(cache.get(FIGURES_KEY), DashboardFigures)
    assert cache.get(LOCK_KEY) is None
    # and once it is done the next run computes again
    assert dashboard_refresh().computed is True
    assert computations == ["first", "MainThread"]


def test_the_beat_entry_runs_the_registered_task_every_five_minutes():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE[TASK]

    assert entry["task"] == TASK
    assert TASK in app.tasks
    assert entry["schedule"] == timedelta(minutes=5)
    assert settings.RECOMMENDER["dashboard"]["refresh_minutes"] == 5
    assert app.tasks[TASK].max_retries == 5  # the project's retry policy


# --------------------------------------------------------------------------- the page


def test_the_page_with_stored_figures_makes_no_heavy_query(curator_web, enqueued):
    _some_plays(2)
    dashboard_refresh(now=timezone.now() - timedelta(minutes=3))

    with CaptureQueriesContext(connection) as queries:
        response = curator_web.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert _heavy(queries) == []
    assert len(queries) <= 4, [q["sql"][:80] for q in queries]
    assert "Figures computed 3\xa0minutes ago" in page
    assert 'action="/staff/insights/refresh/"' in page and "Refresh now" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'id="chart-popular-tracks-data"' in page and "Heavy Rotation" in page
    assert enqueued == []  # figures are there: nothing sent


def test_the_page_with_nothing_stored_enqueues_once_and_says_so(
    curator_web, superuser_web, enqueued
):
    _some_plays(2)

    with CaptureQueriesContext(connection) as queries:
        first = curator_web.get(URL)
    second = superuser_web.get(URL)  # a burst of views: the task is already requested

    assert enqueued == [TASK]
    assert _heavy(queries) == []
    for response in (first, second):
        page = response.content.decode()
        assert response.status_code == 200
        assert COMPUTING in page
        assert "Not computed yet: see the note at the top of the page." in page
        # the cheap parts are there, read now
        assert "No model has been trained yet" in page
        assert "No experiment is running" in page
        assert "No list has been asked for yet" in page
        assert "<canvas" not in page


def test_with_nothing_stored_and_the_broker_down_the_page_answers_and_logs(
    curator_web,
    broker_down,
    caplog,
):
    with caplog.at_level(logging.ERROR, logger="musicrec.queue"):
        response = curator_web.get(URL)

    assert response.status_code == 200
    assert "the task queue did not answer" in response.content.decode()
    assert f"could not enqueue {TASK}" in caplog.text


def test_in_eager_mode_the_first_view_computes_and_shows_them(curator_web, eager):
    _some_plays(1)

    page = curator_web.get(URL).content.decode()

    assert "Figures computed" in page and COMPUTING not in page
    assert "Heavy Rotation" in page
    assert "Refresh now" in page  # done: nothing pending


# --------------------------------------------------------------------------- "Refresh now"


def test_refresh_sends_anonymous_visitors_to_sign_in(client, enqueued):
    response = client.post(REFRESH_URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={REFRESH_URL}"
    assert enqueued == []


def test_refresh_refuses_a_listener(listener_web, enqueued):
    assert listener_web.post(REFRESH_URL).status_code == 403
    assert enqueued == []


def test_refresh_is_a_post(curator_web, enqueued):
    assert curator_web.get(REFRESH_URL).status_code == 405
    assert enqueued == []


def test_refresh_needs_the_csrf_token(curator):
    from django.test import Client

    web = Client(enforce_csrf_checks=True)
    web.force_login(curator)

    assert web.post(REFRESH_URL).status_code == 403


def test_refresh_enqueues_once_until_the_task_ran(curator_web, enqueued):
    dashboard_refresh()

    first = curator_web.post(REFRESH_URL, follow=True)
    second = curator_web.post(REFRESH_URL, follow=True)

    assert enqueued == [TASK]  # rate-limited by the marker
    assert first.redirect_chain == [(URL, 302)]
    assert COMPUTING in first.content.decode()
    assert "already being computed" in second.content.decode()
    assert "Refresh now" not in second.content.decode()  # the page says it is on its way
    dashboard_refresh()  # the worker ran it
    curator_web.post(REFRESH_URL)
    assert enqueued == [TASK, TASK]


def test_refresh_while_a_computation_holds_the_lock_sends_nothing(enqueued):
    cache.add(LOCK_KEY, "a worker", timeout=60)

    assert dashboard_refresh_request() is RefreshRequest.PENDING
    assert enqueued == []


def test_in_eager_mode_refresh_now_recomputes(curator_web, eager):
    dashboard_refresh(now=timezone.now() - timedelta(hours=2))
    _some_plays(1)

    page = curator_web.post(REFRESH_URL, follow=True).content.decode()

    assert "Figures computed 0\xa0minutes ago" in page
    assert "Heavy Rotation" in page
