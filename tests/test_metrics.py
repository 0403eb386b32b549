"""/metrics: Prometheus text with per-process request figures and deployment figures read from
the real PostgreSQL and Redis; open in debug, behind a bearer token in production."""

from __future__ import annotations

import logging
import re

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from catalog.models import Track
from history.services.interactions import interaction_record
from musicrec.metrics import DeploymentCollector
from musicrec.registry import metrics_collectors

pytestmark = pytest.mark.django_db


def _sample(body: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.MULTILINE)
    assert found, f"{name}{labels} not in /metrics"
    return float(found.group(1))


def test_deployment_figures_come_from_the_database_and_redis(client, user, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    interaction_record(user=user, track_id=Track.objects.first().pk, kind="play")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for service in ("database", "redis", "broker"):
        assert _sample(body, "musicrec_service_up", f'{{service="{service}"}}') == 1.0
    assert _sample(body, "musicrec_catalog_tracks") == Track.objects.count()
    assert _sample(body, "musicrec_listeners") == 1.0
    assert _sample(body, "musicrec_interactions_last_hour", '{kind="play"}') == 1.0
    assert _sample(body, "musicrec_interactions_last_hour", '{kind="skip"}') == 0.0
    assert _sample(body, "musicrec_listen_imports", '{status="pending"}') == 0.0
    assert _sample(body, "musicrec_celery_queue_length") >= 0
    assert "process_resident_memory_bytes" in body


def test_requests_are_counted_by_route_not_by_raw_path(client, settings):
    settings.DEBUG = True
    track = Track.objects.order_by("id").first()
    labels = {"method": "GET", "route": "/api/v1/tracks/<int:pk>/", "status": "200"}
    before = REGISTRY.get_sample_value("musicrec_http_requests_total", labels) or 0.0

    assert client.get(f"/api/v1/tracks/{track.pk}/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404

    assert REGISTRY.get_sample_value("musicrec_http_requests_total", labels) == before + 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert REGISTRY.get_sample_value("musicrec_http_requests_total", unmatched) >= 1
    timed = {"method": "GET", "route": "/api/v1/tracks/<int:pk>/"}
    assert REGISTRY.get_sample_value("musicrec_http_request_duration_seconds_count", timed) >= 1


@pytest.mark.parametrize(
    ("token", "header", "status"),
    [
        ("", "", 403),  # production without a token configured: closed
        ("s3cret-metrics", "", 403),
        ("s3cret-metrics", "Bearer wrong", 403),
        ("s3cret-metrics", "Bearer été", 403),
        ("s3cret-metrics", "Bearer s3cret-metrics", 200),
    ],
)
def test_production_needs_the_bearer_token(client, settings, token, header, status):
    settings.DEBUG = False
    settings.METRICS_TOKEN = token
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == status
    if status == 403:
        assert b"METRICS_TOKEN" in response.content
        assert b"musicrec_" not in response.content


def test_metrics_is_read_only(client, settings):
    settings.DEBUG = True
    assert client.post("/metrics").status_code == 405


@pytest.mark.django_db
def test_registering_the_deployment_collector_runs_no_query(django_assert_num_queries):
    # Registering a collector without describe() made prometheus-client collect() at once:
    # queries at import time, which printed a traceback during the first migrate.
    registry = CollectorRegistry(auto_describe=True)
    collector = DeploymentCollector()

    with django_assert_num_queries(0):
        registry.register(collector)

    assert collector.describe() == []  # nothing read to learn the names


@pytest.mark.django_db
def test_each_app_contributes_its_figures_through_the_registry():
    assert {name for name, _ in metrics_collectors.items()} >= {"catalog", "accounts", "history"}


@pytest.mark.django_db
def test_a_failing_app_figure_is_logged_and_the_others_still_answer(client, caplog, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""

    def broken():
        raise RuntimeError("figures failed")
        yield  # pragma: no cover

    metrics_collectors.register("broken", broken)
    try:
        with caplog.at_level(logging.ERROR, logger="musicrec.metrics"):
            body = client.get("/metrics").content.decode()
    finally:
        metrics_collectors.unregister("broken")

    assert "musicrec_catalog_tracks " in body
    assert "musicrec_listeners " in body
    assert "the figures of broken failed" in caplog.text
