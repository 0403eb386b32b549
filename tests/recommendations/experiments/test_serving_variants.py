"""Serving experiment variants: every served list applies the listener's assignment (a split
test's parameters, or two variants interleaved), is cached under it and records it on the
impression; with no experiment running the path costs one cache read more, no query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from catalog.models import Track
from history.models import HistoryEntry
from recommendations.models import Impression, ImpressionSurface
from recommendations.selectors import serving
from recommendations.selectors.experiments import INTERLEAVED, experiment_assignment
from recommendations.services import lists
from recommendations.services.experiments import VariantSpec, experiment_create, experiment_stop
from recommendations.services.lists import (
    EXPERIMENT_KEY,
    recommendation_list_payload,
    recommendation_list_serve,
    recommendation_lists_precompute,
)
from tests.catalog.factories import ArtistFactory, TrackFactory

pytestmark = pytest.mark.django_db

#: each variant switches one predictor off, so whichever a listener gets shows in ``weights``
NO_CONTENT = {"predictors": {"content": False}}
NO_POPULARITY = {"predictors": {"popularity": False}}


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


@pytest.fixture
def with_history(listener) -> User:
    """The listener with five tracks in their history (so content, demographic and popularity
    all answer)."""
    tracks = list(Track.objects.order_by("id").values_list("pk", flat=True)[:5])
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track_id=track, slot=slot)
        for slot, track in enumerate(tracks, start=1)
    )
    return listener


@pytest.fixture
def engine_calls(monkeypatch) -> list[str]:
    """Which engine path computed each list (the cache's hits are the requests that did not)."""
    calls: list[str] = []
    plain, interleaved = lists.recommendations_for, lists.recommendations_interleaved_for

    def counting_plain(**kwargs):
        calls.append("plain")
        return plain(**kwargs)

    def counting_interleaved(**kwargs):
        calls.append("interleaved")
        return interleaved(**kwargs)

    monkeypatch.setattr(lists, "recommendations_for", counting_plain)
    monkeypatch.setattr(lists, "recommendations_interleaved_for", counting_interleaved)
    return calls


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service's on-commit work (forgetting the cached lookup) as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def split(curator, committed):
    """Define a split test of these variants' parameters (keys v0, v1 …), committed."""

    def define(*variants: dict, share: float = 1.0):
        with committed():
            return experiment_create(
                name="Split",
                variants=[VariantSpec(key=f"v{at}", parameters=p) for at, p in enumerate(variants)],
                by=curator,
                share=share,
            )

    return define


def _ids(payload: dict) -> list[int]:
    return [result["track"]["id"] for result in payload["results"]]


# --- split tests ----------------------------------------------------------------------------


def test_an_enrolled_listener_gets_their_variant_and_the_impression_records_it(with_history, split):
    # given the site's list: every predictor has a weight
    site = recommendation_list_serve(user=with_history, n=10).payload
    assert site["weights"]["content"] > 0 and site["weights"]["popularity"] > 0

    # when an experiment enrolling everyone runs
    experiment = split(NO_CONTENT, NO_POPULARITY)
    served = recommendation_list_serve(user=with_history, n=10, surface=ImpressionSurface.WEB)

    # then the list follows the listener's variant: its predictor is off
    assignment = experiment_assignment(user_id=with_history.pk)
    assert assignment is not None and assignment.experiment.id == experiment.pk
    off = "content" if assignment.variant == "v0" else "popularity"
    assert served.payload["weights"].get(off, 0.0) == 0.0
    assert all(result["sources"].get(off, 0.0) == 0.0 for result in served.payload["results"])
    assert served.payload["results"] and _ids(served.payload) != _ids(site)
    # and the impression records the experiment and the variant (the response does not)
    impression = Impression.objects.get(pk=served.impression_id)
    assert impression.experiment_id == experiment.pk
    assert impression.variant == assignment.variant
    assert EXPERIMENT_KEY not in served.payload
    assert all("team" not in item for item in impression.items)
    # the site's list before it recorded none
    first = Impression.objects.exclude(pk=served.impression_id).get(user=with_history)
    assert first.experiment_id is None and first.variant == ""


def test_a_variant_s_discovery_is_the_default_of_listeners_who_never_moved_theirs(
    listener, other_listener, split
):
    # given a listener who moved their discovery, and one who did not
    User.objects.filter(pk=other_listener.pk).update(discovery=0.2)
    other_listener.refresh_from_db()
    split({"discovery": 0.9}, {"discovery": 0.8})

    # then the variant's default applies to the one who did not, unless the request says
    untouched = recommendation_list_serve(user=listener, n=5).payload["parameters"]
    moved = recommendation_list_serve(user=other_listener, n=5).payload["parameters"]
    asked = recommendation_list_serve(user=listener, n=5, discovery=0.3).payload["parameters"]
    assert untouched["discovery"] in (0.9, 0.8)
    assert moved["discovery"] == 0.2
    assert asked["discovery"] == 0.3


def test_the_cache_key_names_the_enrolment(with_history, curator, engine_calls, split, committed):
    # given a cached list of the site's
    recommendation_list_serve(user=with_history, n=5)
    recommendation_list_serve(user=with_history, n=5)
    assert engine_calls == ["plain"]

    # when the listener is enrolled, the next list is fresh (and then cached)
    experiment = split(NO_CONTENT, NO_POPULARITY)
    recommendation_list_serve(user=with_history, n=5)
    recommendation_list_serve(user=with_history, n=5)
    assert engine_calls == ["plain", "plain"]

    # and once it stops, the site's list again (the one cached before)
    with committed():
        experiment_stop(experiment=experiment, by=curator)
    served = recommendation_list_serve(user=with_history, n=5)
    assert engine_calls == ["plain", "plain"]
    assert Impression.objects.get(pk=served.impression_id).experiment_id is None


def test_the_precompute_after_training_caches_the_variant_s_list(
    with_history, engine_calls, monkeypatch, split
):
    experiment = split(NO_CONTENT, NO_POPULARITY)
    monkeypatch.setattr(lists, "recently_active_listener_ids", lambda **_: [with_history.pk])

    outcome = recommendation_lists_precompute()
    served = recommendation_list_serve(user=with_history, n=5)

    assert outcome.computed == 1
    assert len(engine_calls) == len(lists.precompute_sizes())  # the serve was a hit
    assert Impression.objects.get(pk=served.impression_id).experiment_id == experiment.pk


def test_the_api_serves_the_variant_without_naming_it(with_history, client, split):
    experiment = split(NO_CONTENT, NO_POPULARITY)
    client.force_login(with_history)

    response = client.get("/api/v1/recommendations/?n=4")

    assert response.status_code == 200
    body = response.json()
    assert EXPERIMENT_KEY not in body
    impression = Impression.objects.get(pk=body["impression_id"])
    assert impression.experiment_id == experiment.pk
    assert impression.variant in ("v0", "v1")


def test_a_listener_outside_the_share_gets_the_site_s_list(split):
    # given an experiment enrolling 10 %, and a listener it leaves out
    experiment = split(NO_CONTENT, NO_POPULARITY, share=0.1)
    left_out = next(
        user_id
        for user_id in range(10_000, 20_000)
        if experiment_assignment(user_id=user_id) is None
    )
    user = User.objects.create_user(username="outside", password="x", id=left_out)

    served = recommendation_list_serve(user=user, n=5)

    impression = Impression.objects.get(pk=served.impression_id)
    assert impression.experiment_id is None and impression.variant == ""
    assert experiment.pk


# --- interleaving ---------------------------------------------------------------------------

TEAM_A = {"predictors": {"content": False}}
TEAM_B = {"predictors": {"popularity": False, "demographic": False}}


@pytest.fixture
def interleaving(curator, committed):
    def define():
        with committed():
            return experiment_create(
                name="Interleaved",
                mode="interleave",
                variants=[
                    VariantSpec(key="no-content", parameters=TEAM_A),
                    VariantSpec(key="content-only", parameters=TEAM_B),
                ],
                by=curator,
            )

    return define


def test_an_interleaved_list_draws_from_both_variants_and_names_each_item_s_team(
    with_history, interleaving
):
    # given each variant's own list
    alone = {
        "no-content": serving.recommendations_for(user=with_history, n=10, variant=TEAM_A),
        "content-only": serving.recommendations_for(user=with_history, n=10, variant=TEAM_B),
    }
    ranked = {key: [item.track.pk for item in result.items] for key, result in alone.items()}
    assert ranked["no-content"] != ranked["content-only"]

    # when an interleaving experiment serves the listener
    experiment = interleaving()
    served = recommendation_list_serve(user=with_history, n=10)

    # then the impression is the interleaved variant's, each item with its team …
    impression = Impression.objects.get(pk=served.impression_id)
    assert impression.experiment_id == experiment.pk
    assert impression.variant == INTERLEAVED
    assert len(impression.items) == 10
    teams = [item["team"] for item in impression.items]
    assert set(teams) == {"no-content", "content-only"}
    # … drawn from that team's own list, each team picking about half (team draft)
    for item in impression.items:
        assert item["track_id"] in ranked[item["team"]]
    assert abs(teams.count("no-content") - teams.count("content-only")) <= 1
    assert [item["track_id"] for item in impression.items] == _ids(served.payload)
    assert all("team" not in result for result in served.payload["results"])


def test_an_interleaved_list_is_the_same_when_computed_again(with_history, interleaving):
    interleaving()
    first, _ = recommendation_list_payload(user=with_history, n=10)

    # when it is computed again (nothing cached)
    from django.core.cache import cache

    cache.clear()
    again, hit = recommendation_list_payload(user=with_history, n=10)

    assert not hit
    assert _ids(again) == _ids(first)
    assert again[EXPERIMENT_KEY]["teams"] == first[EXPERIMENT_KEY]["teams"]


# --- the cost when no experiment runs ---------------------------------------------------------


def _cached_serve_queries(user: User) -> list[str]:
    recommendation_list_serve(user=user, n=5)  # computes and caches; the lookup cached too
    with CaptureQueriesContext(connection) as queries:
        recommendation_list_serve(user=user, n=5)
    return [query["sql"] for query in queries.captured_queries]


def test_a_cached_list_costs_no_query_for_experiments(listener, django_assert_num_queries):
    # the hit path as it was: the generations (two primary-key reads) and the impression's
    # INSERT; the experiments' lookup is one cache read and no query
    sqls = _cached_serve_queries(listener)
    assert not any("recommendations_experiment" in sql for sql in sqls)
    with django_assert_num_queries(len(sqls)):
        recommendation_list_serve(user=listener, n=5)
    assert len(sqls) == 3


def test_an_enrolled_listener_s_cached_list_costs_the_same_queries(listener, split):
    baseline = len(_cached_serve_queries(listener))
    split({"relevance": 0.5}, {"relevance": 0.9})

    sqls = _cached_serve_queries(listener)

    assert not any("recommendations_experiment" in sql for sql in sqls)
    assert len(sqls) == baseline


# --- every surface ----------------------------------------------------------------------------


def test_the_home_page_serves_and_records_the_variant(listener, listener_web, split):
    experiment = split({"relevance": 0.5}, {"relevance": 0.9})

    answer = listener_web.get("/")

    assert answer.status_code == 200
    impression = Impression.objects.get(user=listener)
    assert impression.surface == ImpressionSurface.WEB
    assert impression.experiment_id == experiment.pk
    assert impression.variant in ("v0", "v1")


@pytest.mark.django_db(transaction=True)
def test_a_live_update_serves_and_records_the_variant(listener, curator):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from recommendations.services import live

    # given tracks of its own (a transactional test flushes the shared demo catalog), and an
    # experiment (committed: this test's transactions are real)
    artists = [ArtistFactory(), ArtistFactory(), ArtistFactory()]
    for at in range(24):
        TrackFactory(artists=[artists[at % 3]])
    experiment = experiment_create(
        name="Live",
        variants=[VariantSpec(key="a"), VariantSpec(key="b", parameters={"relevance": 0.9})],
        by=curator,
    )
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()

    # when the worker answers a connection's refresh
    assert live.live_update_push(user_id=listener.pk, reason="refresh", reply_channel=channel)

    # then the connection gets the list, recorded as a live impression of the variant
    message = async_to_sync(layer.receive)(channel)["message"]
    assert message["type"] == "recommendations.update"
    impression = Impression.objects.get(pk=message["impression_id"])
    assert impression.surface == ImpressionSurface.LIVE
    assert impression.experiment_id == experiment.pk
    assert impression.variant in ("a", "b")
    assert EXPERIMENT_KEY not in message
    assert [result["track"]["id"] for result in message["results"]] == [
        item["track_id"] for item in impression.items
    ]


def test_a_shown_list_from_outside_the_experiment_is_not_reused_for_the_variant_s(
    with_history, split
):
    # given a list served before the experiment (recorded without one)
    before = recommendation_list_serve(user=with_history, n=10, surface=ImpressionSurface.WEB)
    # and an experiment whose variants change nothing, so its lists hold the same tracks
    experiment = split({}, {})

    # when the page names the earlier impression as the list it shows (?impression=)
    served = recommendation_list_serve(
        user=with_history, n=10, surface=ImpressionSurface.WEB, shown=before.impression_id
    )

    # then the same tracks are a new impression, recorded under the listener's variant
    assert _ids(served.payload) == _ids(before.payload)
    assert served.impression_id != before.impression_id
    impression = Impression.objects.get(pk=served.impression_id)
    assert impression.experiment_id == experiment.pk
    assert impression.variant == experiment_assignment(user_id=with_history.pk).variant


def test_a_shown_list_of_a_stopped_experiment_is_not_reused_outside_it(
    with_history, split, committed
):
    experiment = split({}, {})
    during = recommendation_list_serve(user=with_history, n=10, surface=ImpressionSurface.WEB)
    with committed():
        experiment_stop(experiment=experiment, by=None)

    served = recommendation_list_serve(
        user=with_history, n=10, surface=ImpressionSurface.WEB, shown=during.impression_id
    )

    assert _ids(served.payload) == _ids(during.payload)
    assert served.impression_id != during.impression_id
    assert Impression.objects.get(pk=served.impression_id).experiment_id is None
    assert Impression.objects.filter(experiment=experiment).count() == 1


def test_a_shown_list_of_the_same_variant_is_still_reused(with_history, split):
    split({}, {})
    first = recommendation_list_serve(user=with_history, n=10, surface=ImpressionSurface.WEB)

    again = recommendation_list_serve(
        user=with_history, n=10, surface=ImpressionSurface.WEB, shown=first.impression_id
    )

    assert again.impression_id == first.impression_id
    assert Impression.objects.filter(user=with_history).count() == 1
