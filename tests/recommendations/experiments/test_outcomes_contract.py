"""The attribution rule of recommendations.selectors.outcomes on a small hand-made case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from history.models import Interaction
from recommendations.models import Impression
from recommendations.selectors.outcomes import (
    ImpressionFilter,
    impression_team_clicks,
    outcome_totals,
)
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db


def _served(user, tracks, *, at, teams=None, variant=""):
    return Impression.objects.create(
        user=user,
        surface="api",
        served_at=at,
        variant=variant,
        items=[
            {
                "track_id": track.pk,
                "position": index + 1,
                "score": 0.5,
                "confidence": 0.5,
                "sources": {"collaborative": 0.4, "popularity": 0.0},
                **({"team": teams[index]} if teams else {}),
            }
            for index, track in enumerate(tracks)
        ],
    )


def test_attribution_by_id_or_window_never_by_another_impression():
    now = timezone.now()
    user, other = UserFactory(), UserFactory()
    a, b, c, d = (TrackFactory(duration_ms=200_000) for _ in range(4))
    first = _served(user, [a, b, c, d], at=now - dt.timedelta(hours=2))
    _served(user, [a, b], at=now - dt.timedelta(hours=2))  # a second list serving a and b
    # named: counts for `first` however late, never for the second
    Interaction.objects.create(
        user=user,
        track=a,
        kind="play",
        occurred_at=now,
        impression_id=first.pk,
        listened_ms=100_000,
    )
    # unnamed, within 30 minutes: counts for both lists that served b
    Interaction.objects.create(
        user=user,
        track=b,
        kind="like",
        occurred_at=now - dt.timedelta(hours=2) + dt.timedelta(minutes=5),
    )
    # unnamed, too late: counts for nobody
    Interaction.objects.create(user=user, track=c, kind="skip", occurred_at=now)
    # another listener's play of d: not this listener's feedback
    Interaction.objects.create(
        user=other,
        track=d,
        kind="play",
        occurred_at=now - dt.timedelta(hours=2) + dt.timedelta(minutes=1),
    )
    [total] = outcome_totals(ImpressionFilter())
    assert (total.impressions, total.listeners, total.served) == (2, 1, 6)
    assert (total.clicked, total.liked, total.skipped, total.disliked) == (3, 2, 0, 0)
    assert (total.listened_sum, total.listened_count) == (0.5, 1)
    by_position = {
        t.group: (t.served, t.clicked) for t in outcome_totals(ImpressionFilter(), group="position")
    }
    assert by_position == {1: (2, 1), 2: (2, 2), 3: (1, 0), 4: (1, 0)}
    by_source = {t.group: t.served for t in outcome_totals(ImpressionFilter(), group="source")}
    assert by_source == {"collaborative": 6}


def test_team_clicks_of_an_interleaved_list():
    now = timezone.now()
    user = UserFactory()
    a, b, c = (TrackFactory() for _ in range(3))
    shown = _served(user, [a, b, c], at=now, teams=["control", "b", "b"], variant="interleaved")
    for track in (b, c):
        Interaction.objects.create(user=user, track=track, kind="play", impression_id=shown.pk)
    assert list(impression_team_clicks(ImpressionFilter())) == [(shown.pk, user.pk, {"b": 2})]
