"""The platform figures of the staff dashboard (insights.selectors.platform) on hand-made data,
with the numbers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from history.models import Interaction, ListenImport
from insights.selectors.platform import (
    active_listeners,
    activity_per_day,
    import_figures,
    listener_cohorts,
    popular_genres_over_time,
    popular_tracks_over_time,
    week_start,
)
from tests.accounts.factories import StaffFactory, UserFactory
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

# a Wednesday noon, UTC: weeks (Monday) and days are easy to count from it
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _at(days_ago: float, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour), tzinfo=dt.UTC)


def _event(user, track, kind, *, days_ago, hour=9, occurred_days_ago=None, listen_import=None):
    return Interaction.objects.create(
        user=user,
        track=track,
        kind=kind,
        recorded_at=_at(days_ago, hour),
        occurred_at=_at(days_ago if occurred_days_ago is None else occurred_days_ago, hour),
        listen_import=listen_import,
    )


def test_activity_per_day_counts_listeners_and_kinds_of_live_events():
    # given two listeners over three days, and an imported play (not live activity)
    ann, bob = UserFactory(), UserFactory()
    track = TrackFactory()
    _event(ann, track, "play", days_ago=0, hour=1)
    _event(ann, track, "like", days_ago=0, hour=23)
    _event(bob, track, "skip", days_ago=0)
    _event(bob, track, "play", days_ago=2)
    _event(ann, track, "add_to_playlist", days_ago=3)  # outside a 3-day window
    upload = ListenImport.objects.create(user=bob, format="lastfm", status="done")
    _event(bob, track, "play", days_ago=1, occurred_days_ago=400, listen_import=upload)

    # when
    days = activity_per_day(days=3, today=TODAY)

    # then one row per day, oldest first, empty days included
    assert [row.day for row in days] == [TODAY - dt.timedelta(days=n) for n in (2, 1, 0)]
    assert [row.listeners for row in days] == [1, 0, 2]
    assert days[2].by_kind == {"play": 1, "skip": 1, "like": 1, "dislike": 0, "add_to_playlist": 0}
    assert days[0].by_kind["play"] == 1
    assert sum(days[1].by_kind.values()) == 0


def test_active_listeners_over_one_seven_and_thirty_days():
    ann, bob, cy = UserFactory(), UserFactory(), UserFactory()
    UserFactory(is_active=False)
    StaffFactory()
    track = TrackFactory()
    _event(ann, track, "play", days_ago=0)  # within 24 h of NOW (today at 9, NOW at noon)
    _event(bob, track, "play", days_ago=3)
    _event(bob, track, "like", days_ago=4)
    _event(cy, track, "play", days_ago=20)
    _event(cy, track, "play", days_ago=40)  # beyond 30 days

    figures = active_listeners(now=NOW)

    assert (figures.last_day, figures.last_7_days, figures.last_30_days) == (1, 2, 3)
    assert figures.accounts == 3  # active, not staff


def test_popular_tracks_over_time_by_week_with_names():
    # given plays over three weeks (NOW is a Wednesday: this week began 2 days ago)
    listener = UserFactory()
    artist = ArtistFactory(name="Nina <b>Simone</b>")
    hit = TrackFactory(title="Feeling Good", artists=[artist])
    second = TrackFactory(title="Sinnerman")
    third = TrackFactory(title="Rarely")
    for days_ago in (0, 1, 1, 8):
        _event(listener, hit, "play", days_ago=days_ago)
    for days_ago in (2, 9, 15):
        _event(listener, second, "play", days_ago=days_ago)
    _event(listener, third, "play", days_ago=3)
    _event(listener, third, "like", days_ago=3)  # a like is not a play
    _event(listener, third, "play", days_ago=30)  # outside the window
    # an imported listen counts where it happened: 16 days ago, so inside the window
    upload = ListenImport.objects.create(user=listener, format="lastfm", status="done")
    _event(listener, hit, "play", days_ago=0, occurred_days_ago=16, listen_import=upload)

    # when
    popular = popular_tracks_over_time(days=21, top=2, period="week", now=NOW)

    # then weeks from the window's first Monday to this one
    assert popular.periods == [week_start(TODAY) - dt.timedelta(weeks=n) for n in (3, 2, 1, 0)]
    assert [(row.name, row.plays) for row in popular.rows] == [
        ("Feeling Good — Nina <b>Simone</b>", 5),
        (f"Sinnerman — {second.album.primary_artist.name}", 3),
    ]
    assert popular.rows[0].counts == [0, 1, 1, 3]  # 16 days ago (a Monday); 8; this week
    assert popular.rows[1].counts == [0, 1, 1, 1]  # 15 days ago, 9 (a Monday), 2
    by_day = popular_tracks_over_time(days=3, top=5, period="day", now=NOW)
    assert len(by_day.periods) == 4  # 3 days ago at noon … today
    assert [(row.name.split(" — ")[0], row.counts) for row in by_day.rows] == [
        ("Feeling Good", [0, 0, 2, 1]),
        ("Sinnerman", [0, 1, 0, 0]),
    ]


def test_popular_genres_count_a_play_for_each_genre_of_its_track():
    listener = UserFactory()
    jazz, soul, rock = GenreFactory(name="jazz"), GenreFactory(name="soul"), GenreFactory()
    both = TrackFactory(genres=[jazz, soul])
    only_jazz = TrackFactory(genres=[jazz])
    TrackFactory(genres=[rock])  # never played
    _event(listener, both, "play", days_ago=1)
    _event(listener, only_jazz, "play", days_ago=1)
    _event(listener, only_jazz, "play", days_ago=10)

    popular = popular_genres_over_time(days=14, top=5, period="week", now=NOW)

    assert [(row.name, row.plays, row.counts) for row in popular.rows] == [
        ("jazz", 3, [1, 0, 2]),  # 10 days ago was the Sunday of the window's first week
        ("soul", 1, [0, 0, 1]),
    ]


def test_import_figures_by_status_and_per_day():
    listener = UserFactory()

    def upload(status, days_ago, listens=0, matched=0):
        ListenImport.objects.create(
            user=listener,
            format="lastfm",
            status=status,
            created_at=_at(days_ago),
            listens=listens,
            matched=matched,
            unmatched=listens - matched,
        )

    upload("done", 0, listens=100, matched=80)
    upload("done", 0, listens=10, matched=10)
    upload("failed", 1)
    upload("pending", 0)
    upload("done", 40, listens=1000, matched=1000)  # outside the window, still in by_status

    figures = import_figures(days=2, today=TODAY)

    assert figures.by_status == {"pending": 1, "processing": 0, "done": 3, "failed": 1}
    assert figures.per_day == [
        (TODAY - dt.timedelta(days=1), {"pending": 0, "processing": 0, "done": 0, "failed": 1}),
        (TODAY, {"pending": 1, "processing": 0, "done": 2, "failed": 0}),
    ]
    assert (figures.listens, figures.matched, figures.unmatched) == (110, 90, 20)


def test_cohorts_are_sign_up_weeks_with_the_share_active_each_week_after():
    # given: this week's Monday, and listeners who signed up 2 weeks back and this week
    monday = week_start(TODAY)
    two_back = dt.datetime.combine(monday - dt.timedelta(weeks=2), dt.time(9), tzinfo=dt.UTC)
    early = [UserFactory(date_joined=two_back + dt.timedelta(days=n)) for n in range(4)]
    late = UserFactory(date_joined=NOW - dt.timedelta(hours=1))
    StaffFactory(date_joined=two_back)  # staff are no cohort
    UserFactory(date_joined=two_back - dt.timedelta(weeks=5))  # before the table
    track = TrackFactory()
    # week 0: three of the four; week 1: one; week 2 (this week): two (one of them twice)
    for user in early[:3]:
        Interaction.objects.create(user=user, track=track, kind="play", recorded_at=two_back)
    Interaction.objects.create(
        user=early[0], track=track, kind="play", recorded_at=two_back + dt.timedelta(weeks=1)
    )
    for user in (early[1], early[3], early[3]):
        Interaction.objects.create(user=user, track=track, kind="like", recorded_at=NOW)

    # when
    cohorts = listener_cohorts(weeks=4, today=TODAY)

    # then four weeks, oldest first, each with the weeks it has reached
    assert [c.week for c in cohorts] == [monday - dt.timedelta(weeks=n) for n in (3, 2, 1, 0)]
    assert [(c.size, c.active) for c in cohorts] == [
        (0, [0, 0, 0, 0]),
        (4, [3, 1, 2]),
        (0, [0, 0]),
        (1, [0]),
    ]
    assert cohorts[1].shares == [0.75, 0.25, 0.5]
    assert cohorts[0].shares == [None, None, None, None]
    assert late.pk  # signed up this week, not yet active
