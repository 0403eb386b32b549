"""The recommender's health on the staff dashboard (insights.selectors.health) on hand-made
data: model versions, served lists' rates by source and position, running experiments, the
list cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from history.models import Interaction
from insights.selectors.health import (
    list_cache,
    model_versions,
    running_experiments,
    served_rates,
)
from recommendations.models import Experiment, ExperimentVariant, Impression, ModelVersion
from recommendations.selectors.cache import HITS_KEY, MISSES_KEY
from recommendations.selectors.outcomes import ImpressionFilter, outcome_totals, outcome_totals_by
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db


def test_model_versions_newest_first_with_their_offline_figures():
    now = timezone.now()
    old = ModelVersion.objects.create(
        status="retired",
        created_at=now - dt.timedelta(days=2),
        figures={"holdout": {"skipped": "3 listeners with two or more positive cells"}},
    )
    active = ModelVersion.objects.create(
        status="active",
        created_at=now - dt.timedelta(days=1),
        activated_at=now - dt.timedelta(hours=23),
        training_seconds=42.5,
        listeners=120,
        tracks=3000,
        cells=15000,
        figures={
            "holdout": {
                "ndcg@10": 0.3125,
                "recall@10": 0.4,
                "coverage@10": 0.2,
                "listeners": 100,
                "model": "blend of EASE and ALS",
            },
            "fit_seconds": {"ease": 1.0},
        },
    )
    failed = ModelVersion.objects.create(
        status="failed", created_at=now, error="Traceback …\nValueError: no listeners"
    )

    rows = model_versions(limit=2)

    assert [row.id for row in rows] == [failed.pk, active.pk]
    assert rows[0].error == "ValueError: no listeners" and rows[0].offline == {}
    assert rows[1].offline == {"ndcg@10": 0.3125, "recall@10": 0.4, "coverage@10": 0.2}
    assert rows[1].note == "blend of EASE and ALS"
    assert (rows[1].training_seconds, rows[1].listeners, rows[1].tracks, rows[1].cells) == (
        42.5,
        120,
        3000,
        15000,
    )
    [oldest] = [row for row in model_versions(limit=5) if row.id == old.pk]
    assert oldest.note.startswith("3 listeners") and oldest.offline == {}


def _served(user, tracks, *, at, sources):
    return Impression.objects.create(
        user=user,
        surface="web",
        served_at=at,
        items=[
            {"track_id": track.pk, "position": index + 1, "score": 0.5, "sources": source}
            for index, (track, source) in enumerate(zip(tracks, sources, strict=True))
        ],
    )


def test_served_rates_by_source_and_by_position():
    # given two lists of the last week and one too old to count
    now = timezone.now()
    ann, bob = UserFactory(), UserFactory()
    a, b, c = TrackFactory(), TrackFactory(), TrackFactory()
    collab = {"collaborative": 0.9, "content": 0.0}
    both = {"collaborative": 0.5, "content": 0.4}
    first = _served(ann, [a, b, c], at=now - dt.timedelta(hours=3), sources=[collab, both, both])
    _served(bob, [c, a], at=now - dt.timedelta(hours=2), sources=[both, collab])
    _served(ann, [a], at=now - dt.timedelta(days=9), sources=[collab])
    # ann plays a (naming the list), likes b (in the window), skips c
    Interaction.objects.create(user=ann, track=a, kind="play", impression_id=first.pk)
    Interaction.objects.create(
        user=ann, track=b, kind="like", occurred_at=now - dt.timedelta(hours=3, minutes=-5)
    )
    Interaction.objects.create(
        user=ann, track=c, kind="skip", occurred_at=now - dt.timedelta(hours=3, minutes=-6)
    )
    # bob's like of a comes two hours late and names no list: it answers nothing
    Interaction.objects.create(user=bob, track=a, kind="like", occurred_at=now)

    figures = served_rates(since=now - dt.timedelta(days=7))
    by_source = {row.group: row for row in figures.by_source}
    by_position = figures.by_position

    # then: collaborative proposed all 5 served tracks (a, b, c, c, a), content 3 (b, c, c)
    collaborative, content = by_source["collaborative"], by_source["content"]
    assert (collaborative.served, collaborative.clicked, collaborative.liked) == (5, 2, 1)
    assert collaborative.skipped == 1 and collaborative.click_rate == 0.4
    assert (content.served, content.clicked, content.liked, content.skipped) == (3, 1, 1, 1)
    assert content.skip_rate == pytest.approx(1 / 3)
    assert [row.group for row in figures.by_source] == ["collaborative", "content"]
    # positions: 1 = a (clicked), c; 2 = b (clicked, liked), a; 3 = c (skipped)
    assert [(r.group, r.served, r.clicked, r.liked, r.skipped) for r in by_position] == [
        ("1", 2, 1, 0, 0),
        ("2", 2, 1, 1, 0),
        ("3", 1, 0, 0, 1),
    ]
    assert by_position[0].click_rate == 0.5 and by_position[2].like_rate == 0.0


def test_positions_beyond_ten_are_grouped_in_ranges():
    now = timezone.now()
    listener = UserFactory()
    tracks = [TrackFactory() for _ in range(25)]
    served = _served(
        listener, tracks, at=now - dt.timedelta(hours=1), sources=[{"popularity": 1.0}] * 25
    )
    Interaction.objects.create(
        user=listener, track=tracks[14], kind="play", impression_id=served.pk
    )

    rows = served_rates(since=now - dt.timedelta(days=1)).by_position

    assert [row.group for row in rows] == [*map(str, range(1, 11)), "11–20", "21–50"]
    assert (rows[10].served, rows[10].clicked, rows[10].impressions) == (10, 1, 1)
    assert rows[11].served == 5 and rows[11].click_rate == 0.0


def test_running_experiments_leave_out_stopped_ended_and_future_ones():
    now = timezone.now()
    running = Experiment.objects.create(
        name="Blend <weights>", mode="interleave", share=0.5, starts_at=now - dt.timedelta(days=1)
    )
    for key in ("control", "b"):
        ExperimentVariant.objects.create(experiment=running, key=key)
    Experiment.objects.create(
        name="stopped", starts_at=now - dt.timedelta(days=2), stopped_at=now - dt.timedelta(days=1)
    )
    Experiment.objects.create(
        name="ended", starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=1)
    )
    Experiment.objects.create(name="future", starts_at=now + dt.timedelta(days=1))

    rows = running_experiments(now=now)

    assert [(r.name, r.mode, r.share, r.variants) for r in rows] == [
        ("Blend <weights>", "Interleaving", 0.5, 2)
    ]


def test_list_cache_hit_rate_from_the_counters():
    assert list_cache().hit_rate is None
    cache.set(HITS_KEY, 3, timeout=None)
    cache.set(MISSES_KEY, 1, timeout=None)

    figures = list_cache()

    assert (figures.hits, figures.misses, figures.hit_rate, figures.available) == (3, 1, 0.75, True)


def test_outcome_totals_by_groups_the_same_figures_as_one_query_per_group():
    # given the served lists of the rates test, and one listener's older list
    now = timezone.now()
    ann, bob = UserFactory(), UserFactory()
    a, b, c = TrackFactory(), TrackFactory(), TrackFactory()
    mixed = {"collaborative": 0.5, "content": 0.4}
    first = _served(ann, [a, b, c], at=now - dt.timedelta(hours=3), sources=[mixed] * 3)
    _served(bob, [c, a], at=now - dt.timedelta(hours=2), sources=[{"popularity": 1.0}] * 2)
    Interaction.objects.create(user=ann, track=a, kind="play", impression_id=first.pk)
    Interaction.objects.create(
        user=bob, track=c, kind="skip", occurred_at=now - dt.timedelta(hours=2)
    )

    for where in (ImpressionFilter(), ImpressionFilter(since=now - dt.timedelta(days=1))):
        # when
        together = outcome_totals_by(where, groups=("source", "position", "all"))

        # then
        for group in ("source", "position", "all"):
            assert together[group] == outcome_totals(where, group=group), group
    assert [t.group for t in together["position"]] == [1, 2, 3]
    with pytest.raises(ValueError, match="unknown groups"):
        outcome_totals_by(ImpressionFilter(), groups=("day", "nope"))
