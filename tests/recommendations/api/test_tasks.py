"""The served lists' tasks: precomputing the lists of recently active listeners after a
training, pruning old impressions; and the cache's figures in /metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from history.models import Interaction
from recommendations import tasks
from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors.cache import cache_figures, recently_active_listener_ids
from recommendations.services import training as training_service
from recommendations.services.impressions import impressions_prune
from recommendations.services.lists import precompute_sizes, recommendation_lists_precompute
from tests.accounts.factories import UserFactory
from tests.recommendations.test_training import listening, small_training  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations/"


def _active(user, *, days_ago: float) -> None:
    from catalog.models import Track

    Interaction.objects.create(
        user=user,
        track=Track.objects.order_by("pk").first(),
        kind="play",
        recorded_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_recently_active_listeners_most_recent_first(listener, other_listener):
    signed_in = UserFactory(last_login=timezone.now() - dt.timedelta(hours=1))
    _active(listener, days_ago=2)
    _active(other_listener, days_ago=10)  # too long ago
    gone = UserFactory(is_active=False, last_login=timezone.now())

    found = recently_active_listener_ids(days=7, limit=10)
    capped = recently_active_listener_ids(days=7, limit=1)

    assert found == [signed_in.pk, listener.pk]
    assert gone.pk not in found
    assert capped == [signed_in.pk]


def test_precomputed_lists_make_the_next_request_a_hit(
    listener, listener_api, other_listener, engine_calls
):
    # given one listener active this week, another not
    _active(listener, days_ago=1)

    # when the lists are precomputed (as after a training)
    outcome = tasks.precompute_lists()

    # then only the active listener's default lists were computed (the API's n=5 and the home
    # page's), and their next request is a hit
    assert outcome == {**outcome, "listeners": 1, "computed": 1, "cached": 0, "failed": 0}
    assert [call["user"] for call in engine_calls.calls] == [listener] * len(precompute_sizes())
    assert sorted(call["n"] for call in engine_calls.calls) == precompute_sizes()
    computed = engine_calls.count
    response = listener_api.get(URL)
    assert response.status_code == 200
    assert engine_calls.count == computed
    assert cache_figures().hits == 1
    # nothing was served by the precomputation: the one impression is the request's
    assert Impression.objects.filter(user=listener).count() == 1
    # and a second run finds the list cached
    assert recommendation_lists_precompute().cached == 1


def test_a_list_that_fails_is_logged_and_the_others_are_computed(
    listener, other_listener, engine_calls, monkeypatch, caplog
):
    _active(listener, days_ago=1)
    _active(other_listener, days_ago=2)
    from recommendations.services import lists

    counting = lists.recommendations_for

    def failing_for_one(**kwargs):
        if kwargs["user"] == listener:
            raise RuntimeError("broken")
        return counting(**kwargs)

    monkeypatch.setattr(lists, "recommendations_for", failing_for_one)

    outcome = recommendation_lists_precompute()

    assert (outcome.listeners, outcome.computed, outcome.failed) == (2, 1, 1)
    assert f"precomputing the list of listener {listener.pk} failed" in caplog.text


def test_a_successful_training_enqueues_the_precomputation(small_training, monkeypatch):  # noqa: F811
    listening()
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        training_service, "enqueue_on_commit", lambda name, *args: enqueued.append((name, *args))
    )

    training_service.train_embeddings()

    # the precomputation of the active listeners' lists, beside the live fan-out
    assert ("recommendations.precompute_lists",) in enqueued
    assert ("recommendations.live_fan_out", "training") in enqueued


def test_a_failed_training_enqueues_nothing(small_training, monkeypatch):  # noqa: F811
    listening()
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        training_service, "enqueue_on_commit", lambda name, *args: enqueued.append((name, *args))
    )

    def broken(*args, **kwargs):
        raise FloatingPointError("ALS diverged")

    monkeypatch.setattr(training_service, "train", broken)
    with pytest.raises(FloatingPointError):
        training_service.train_embeddings()

    assert enqueued == []


def _impression(user, *, days_ago: float) -> Impression:
    return Impression.objects.create(
        user=user,
        surface=ImpressionSurface.API,
        served_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_impressions_older_than_the_retention_are_pruned_in_batches(listener, settings):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "impressions": {"retention_days": 30}}
    old = [_impression(listener, days_ago=31 + i) for i in range(5)]
    kept = [_impression(listener, days_ago=29), _impression(listener, days_ago=0)]

    deleted = impressions_prune(batch_size=2)

    assert deleted == len(old)
    assert set(Impression.objects.values_list("pk", flat=True)) == {i.pk for i in kept}
    assert tasks.prune_impressions() == 0


def test_the_retention_defaults_to_the_interactions(listener, settings):
    settings.RECOMMENDER = {k: v for k, v in settings.RECOMMENDER.items() if k != "impressions"}
    settings.INTERACTION_RETENTION_DAYS = 10
    _impression(listener, days_ago=11)
    _impression(listener, days_ago=9)

    assert impressions_prune() == 1


def test_the_cache_figures_are_in_metrics(listener_api, client, settings):
    settings.METRICS_TOKEN = "metrics-token"
    listener_api.get(URL)
    listener_api.get(URL)

    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token").content.decode()

    assert "musicrec_recommendation_cache_hits_total 1.0" in body
    assert "musicrec_recommendation_cache_misses_total 1.0" in body
