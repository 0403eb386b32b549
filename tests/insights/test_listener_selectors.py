"""The figures of a listener's insights (insights.selectors.listener) on hand-made data: every
number is worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from history.models import HistoryEntry, Interaction, Opinion
from history.services.interactions import interaction_record
from insights.selectors import listener as sel
from recommendations.models import Impression
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
# A Monday in summer: Berlin is UTC+2. The window's 90 days are 18 Mar – 15 Jun 2026 (Berlin);
# 18 Mar is still winter time (UTC+1), so the window starts at 17 Mar 23:00 UTC.
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WINDOW_START = dt.datetime(2026, 3, 17, 23, 0, tzinfo=UTC)


@pytest.fixture
def berliner(db):
    return UserFactory(username="berliner", time_zone="Europe/Berlin")


@pytest.fixture
def genres(db):
    return {name: GenreFactory(name=f"ins-{name}") for name in ("rock", "pop", "jazz")}


def _play(user, track, at, **fields):
    return Interaction.objects.create(user=user, track=track, kind="play", occurred_at=at, **fields)


def _window(user):
    return sel.listener_window(user=user, now=NOW, days=90)


def test_the_window_is_90_local_days_starting_at_local_midnight(berliner):
    window = _window(berliner)

    assert len(window.days) == 90
    assert window.days[0] == dt.date(2026, 3, 18)
    assert window.days[-1] == dt.date(2026, 6, 15)
    assert window.start == WINDOW_START
    assert window.end == NOW
    assert window.tz_name == "Europe/Berlin"


def test_plays_per_day_and_hour_are_local_with_zeros_filled(berliner):
    # given: two plays either side of Berlin's midnight, one play in UTC's "today" that is
    # Berlin's "today" too, and one skip (not a play)
    track = TrackFactory()
    _play(berliner, track, dt.datetime(2026, 6, 14, 21, 30, tzinfo=UTC))  # 14 Jun 23:30 Berlin
    _play(berliner, track, dt.datetime(2026, 6, 14, 22, 30, tzinfo=UTC))  # 15 Jun 00:30 Berlin
    _play(berliner, track, dt.datetime(2026, 6, 15, 9, 0, tzinfo=UTC))  # 15 Jun 11:00 Berlin
    Interaction.objects.create(
        user=berliner,
        track=track,
        kind="skip",
        occurred_at=dt.datetime(2026, 6, 15, 9, 5, tzinfo=UTC),
    )

    # when
    days, hours = sel.plays_by_day_and_hour(user=berliner, window=_window(berliner))

    # then
    assert len(days) == 90
    assert days[0] == (dt.date(2026, 3, 18), 0)
    assert dict(days)[dt.date(2026, 6, 14)] == 1
    assert dict(days)[dt.date(2026, 6, 15)] == 2
    assert sum(count for _, count in days) == 3
    assert len(hours) == 24
    assert hours[23] == 1 and hours[0] == 1 and hours[11] == 1
    assert sum(hours) == 3


def test_the_window_edge_counts_its_first_instant_and_not_the_one_before(berliner):
    track = TrackFactory()
    _play(berliner, track, WINDOW_START)
    _play(berliner, track, WINDOW_START - dt.timedelta(seconds=1))
    _play(berliner, track, NOW + dt.timedelta(minutes=1))  # after now: not counted either

    days, hours = sel.plays_by_day_and_hour(user=berliner, window=_window(berliner))
    totals = sel.listener_totals(user=berliner, window=_window(berliner))

    assert days[0] == (dt.date(2026, 3, 18), 1)
    assert hours[0] == 1  # 00:00 Berlin
    assert sum(hours) == 1
    assert totals.plays == 1


def test_totals_count_plays_imported_plays_history_and_likes(berliner, other_listener):
    from history.models import ListenImport

    a, b = TrackFactory(), TrackFactory()
    imported = ListenImport.objects.create(user=berliner, format="lastfm")
    _play(berliner, a, NOW - dt.timedelta(days=1))
    _play(berliner, a, NOW - dt.timedelta(days=2), listen_import=imported)
    _play(other_listener, a, NOW - dt.timedelta(days=1))
    HistoryEntry.objects.create(user=berliner, track=a, slot=1)
    Opinion.objects.create(user=berliner, track=a, value="like")
    Opinion.objects.create(user=berliner, track=b, value="dislike")

    totals = sel.listener_totals(user=berliner, window=_window(berliner))

    assert totals == sel.Totals(plays=2, imported_plays=1, history=1, liked=1)


def test_genre_shares_split_a_track_between_its_genres(berliner, genres):
    # given: history rock, rock+pop, jazz and a track without a genre; a liked jazz track and
    # a disliked rock one
    rock = TrackFactory(genres=[genres["rock"]])
    rock_pop = TrackFactory(genres=[genres["rock"], genres["pop"]])
    jazz = TrackFactory(genres=[genres["jazz"]])
    bare = TrackFactory()
    for slot, track in enumerate([rock, rock_pop, jazz, bare], start=1):
        HistoryEntry.objects.create(user=berliner, track=track, slot=slot)
    Opinion.objects.create(user=berliner, track=jazz, value="like")
    Opinion.objects.create(user=berliner, track=rock, value="dislike")

    shares = sel.genre_shares(user=berliner)

    # rock 1 + 1/2 = 1.5, jazz 1, pop 1/2: of 3 tracks with a genre
    assert [(s.name, round(s.share, 4), s.tracks) for s in shares.history] == [
        ("ins-rock", 0.5, 1.5),
        ("ins-jazz", 0.3333, 1.0),
        ("ins-pop", 0.1667, 0.5),
    ]
    assert shares.history_tracks == 3
    assert [(s.name, s.share) for s in shares.liked] == [("ins-jazz", 1.0)]
    assert shares.liked_tracks == 1


def test_genre_periods_share_plays_between_genres_per_30_local_days(berliner, genres):
    rock = TrackFactory(genres=[genres["rock"]])
    rock_pop = TrackFactory(genres=[genres["rock"], genres["pop"]])
    jazz = TrackFactory(genres=[genres["jazz"]])
    bare = TrackFactory()
    # period 0: 18 Mar – 16 Apr; period 1: 17 Apr – 16 May; period 2: 17 May – 15 Jun (Berlin)
    _play(berliner, rock, WINDOW_START)  # 18 Mar 00:00 Berlin: period 0
    _play(berliner, bare, dt.datetime(2026, 4, 16, 21, 59, tzinfo=UTC))  # 16 Apr 23:59: period 0
    _play(berliner, jazz, dt.datetime(2026, 5, 16, 22, 0, tzinfo=UTC))  # 17 May 00:00: period 2
    _play(berliner, jazz, dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    _play(berliner, rock_pop, dt.datetime(2026, 6, 2, 12, 0, tzinfo=UTC))

    periods = sel.genre_periods(user=berliner, window=_window(berliner), period_days=30)

    assert [(p.start, p.end, p.plays) for p in periods] == [
        (dt.date(2026, 3, 18), dt.date(2026, 4, 16), 2),
        (dt.date(2026, 4, 17), dt.date(2026, 5, 16), 0),
        (dt.date(2026, 5, 17), dt.date(2026, 6, 15), 3),
    ]
    assert periods[0].genres == {"ins-rock": 1.0}  # the bare track's play has no genre
    assert periods[1].genres == {}
    assert periods[2].genres == {"ins-jazz": 2.0, "ins-rock": 0.5, "ins-pop": 0.5}


def test_feature_profile_weights_history_likes_and_plays(berliner, other_listener):
    # given: history t1 (energy .2, 130 BPM) weighs 2; liked t3 (energy .8, tempo unknown)
    # weighs 2; one play of t3 in the window weighs 1; one play before it does not count
    t1 = TrackFactory(energy=0.2, tempo=130.0, acousticness=None)
    t3 = TrackFactory(energy=0.8, tempo=0.0, acousticness=0.4)
    HistoryEntry.objects.create(user=berliner, track=t1, slot=1)
    Opinion.objects.create(user=berliner, track=t3, value="like")
    _play(berliner, t3, NOW - dt.timedelta(days=3))
    _play(berliner, t1, WINDOW_START - dt.timedelta(days=1))
    HistoryEntry.objects.create(user=other_listener, track=t1, slot=1)

    profile = sel.feature_profile(user=berliner, since=WINDOW_START, until=NOW)

    # energy (2·.2 + 2·.8 + 1·.8) / 5 = .56; tempo: t1 only, (130 − 40) / 180 = .5;
    # acousticness: t3 only (weights 2 + 1) = .4
    assert profile.features["energy"] == pytest.approx(0.56)
    assert profile.features["tempo"] == pytest.approx(0.5)
    assert profile.tempo_bpm == pytest.approx(130.0)
    assert profile.features["acousticness"] == pytest.approx(0.4)
    assert profile.listeners == 1
    assert list(profile.features) == list(sel.PROFILE_FEATURES)


def test_tempo_is_clipped_to_0_1(berliner):
    slow, fast = TrackFactory(tempo=20.0), TrackFactory(tempo=260.0)
    HistoryEntry.objects.create(user=berliner, track=slow, slot=1)
    assert sel.feature_profile(user=berliner, since=WINDOW_START, until=NOW).features[
        "tempo"
    ] == pytest.approx(0.0)
    HistoryEntry.objects.filter(user=berliner).update(track=fast)
    assert sel.feature_profile(user=berliner, since=WINDOW_START, until=NOW).features[
        "tempo"
    ] == pytest.approx(1.0)


def test_the_platform_profile_averages_listeners_once_each_and_is_cached(berliner, other_listener):
    t1 = TrackFactory(energy=0.2)
    t3 = TrackFactory(energy=0.8)
    HistoryEntry.objects.create(user=berliner, track=t1, slot=1)
    Opinion.objects.create(user=berliner, track=t3, value="like")
    _play(berliner, t3, NOW - dt.timedelta(days=3))
    # the other listener plays a lot: still counts once
    HistoryEntry.objects.create(user=other_listener, track=t1, slot=1)
    for day in range(10):
        _play(other_listener, t1, NOW - dt.timedelta(days=day + 1))

    platform = sel.platform_feature_profile(now=NOW)

    # berliner .56 (as above), other .2: the mean of the two
    assert platform.features["energy"] == pytest.approx(0.38)
    assert platform.listeners == 2

    # cached: a new listener's data does not move it within the hour
    newcomer = UserFactory(username="newcomer")
    HistoryEntry.objects.create(user=newcomer, track=t3, slot=1)
    assert sel.platform_feature_profile(now=NOW) == platform


def test_top_artists_and_tracks_count_plays_of_the_window(berliner, other_listener):
    solo, duo_a, duo_b = (ArtistFactory(name=n) for n in ("Ins Solo", "Ins Duo A", "Ins Duo B"))
    t_solo = TrackFactory(title="Alone", artists=[solo])
    t_duo = TrackFactory(title="Together", artists=[duo_b, duo_a])
    for day in range(3):
        _play(berliner, t_solo, NOW - dt.timedelta(days=day + 1))
    for day in range(2):
        _play(berliner, t_duo, NOW - dt.timedelta(days=day + 1))
    _play(berliner, t_duo, WINDOW_START - dt.timedelta(minutes=1))  # before the window
    for _ in range(5):
        _play(other_listener, t_duo, NOW - dt.timedelta(days=1))  # someone else's

    window = _window(berliner)
    artists = sel.top_artists(user=berliner, window=window, limit=10)
    tracks = sel.top_tracks(user=berliner, window=window, limit=10)

    assert [(a.name, a.plays) for a in artists] == [
        ("Ins Solo", 3),
        ("Ins Duo A", 2),  # a tie: by name
        ("Ins Duo B", 2),
    ]
    assert [(t.name, t.detail, t.plays) for t in tracks] == [
        ("Alone", "Ins Solo", 3),
        ("Together", "Ins Duo B, Ins Duo A", 2),  # the track's artists in credit order
    ]
    assert sel.top_artists(user=berliner, window=window, limit=1)[0].name == "Ins Solo"


def _served(user, tracks, at):
    return Impression.objects.create(
        user=user,
        served_at=at,
        surface="web",
        items=[{"track_id": t.pk, "position": i} for i, t in enumerate(tracks)],
    )


def test_brought_by_recommendations_counts_tracks_first_met_in_a_served_list(
    berliner, other_listener
):
    served_at = NOW - dt.timedelta(days=10)
    after = served_at + dt.timedelta(hours=1)
    liked, met_before, historied, playlisted, ignored, in_history_before, others = (
        TrackFactory(title=f"T{i}") for i in range(7)
    )
    # met elsewhere first: played a month before the list served it, then liked
    _play(berliner, met_before, served_at - dt.timedelta(days=30))
    HistoryEntry.objects.create(
        user=berliner, track=in_history_before, slot=1, added_at=served_at - dt.timedelta(days=1)
    )
    _served(
        berliner,
        [liked, met_before, historied, playlisted, ignored, in_history_before],
        served_at,
    )
    # a second list serving "liked" again later changes nothing (the first serving counts)
    _served(berliner, [liked], served_at + dt.timedelta(days=2))
    interaction_record(user=berliner, track_id=liked.pk, kind="like", occurred_at=after)
    interaction_record(user=berliner, track_id=met_before.pk, kind="like", occurred_at=after)
    HistoryEntry.objects.create(user=berliner, track=historied, slot=2, added_at=after)
    interaction_record(
        user=berliner, track_id=playlisted.pk, kind="add_to_playlist", occurred_at=after
    )
    interaction_record(user=berliner, track_id=ignored.pk, kind="play", occurred_at=after)
    # another listener's list served "others"; this listener likes it: not brought to them
    _served(other_listener, [others], served_at)
    interaction_record(user=berliner, track_id=others.pk, kind="like", occurred_at=after)

    brought = sel.brought_by_recommendations(user=berliner, window=_window(berliner), listed=20)

    assert brought.count == 3
    assert {t.title for t in brought.tracks} == {"T0", "T2", "T3"}
    by_title = {t.title: t for t in brought.tracks}
    assert (by_title["T0"].liked, by_title["T0"].in_history, by_title["T0"].in_playlist) == (
        True,
        False,
        False,
    )
    assert by_title["T2"].in_history and not by_title["T2"].liked
    assert by_title["T3"].in_playlist
    assert by_title["T0"].first_served == served_at
    # liked now: T0 only; of the listener's three likes (T0, T1, T6)
    assert brought.liked == 1
    assert sel.listener_totals(user=berliner, window=_window(berliner)).liked == 3


def test_brought_lists_at_most_listed_but_counts_all(berliner):
    served_at = NOW - dt.timedelta(days=5)
    tracks = [TrackFactory() for _ in range(3)]
    _served(berliner, tracks, served_at)
    for track in tracks:
        interaction_record(
            user=berliner, track_id=track.pk, kind="like", occurred_at=served_at + dt.timedelta(1)
        )

    brought = sel.brought_by_recommendations(user=berliner, window=_window(berliner), listed=2)

    assert brought.count == 3
    assert brought.liked == 3
    assert len(brought.tracks) == 2


def test_a_list_served_before_the_window_brings_nothing(berliner):
    track = TrackFactory()
    _served(berliner, [track], WINDOW_START - dt.timedelta(minutes=1))
    interaction_record(user=berliner, track_id=track.pk, kind="like", occurred_at=NOW)

    assert (
        sel.brought_by_recommendations(user=berliner, window=_window(berliner), listed=20).count
        == 0
    )


def test_listener_insights_reads_only_the_listeners_own_rows(
    berliner, other_listener, genres, django_assert_max_num_queries
):
    mine = TrackFactory(title="Mine", genres=[genres["rock"]])
    theirs = TrackFactory(title="Theirs", genres=[genres["jazz"]])
    _play(berliner, mine, NOW - dt.timedelta(days=1))
    HistoryEntry.objects.create(user=berliner, track=mine, slot=1)
    for day in range(4):
        _play(other_listener, theirs, NOW - dt.timedelta(days=day + 1))
    HistoryEntry.objects.create(user=other_listener, track=theirs, slot=1)
    interaction_record(user=other_listener, track_id=theirs.pk, kind="like", occurred_at=NOW)
    _served(other_listener, [mine], NOW - dt.timedelta(days=2))

    with django_assert_max_num_queries(9):
        insights = sel.listener_insights(user=berliner, now=NOW)

    assert insights.totals == sel.Totals(plays=1, imported_plays=0, history=1, liked=0)
    assert [s.name for s in insights.genres.history] == ["ins-rock"]
    assert insights.genres.liked == []
    assert [t.name for t in insights.top_tracks] == ["Mine"]
    assert sum(count for _, count in insights.plays_per_day) == 1
    assert insights.brought.count == 0
    assert insights.platform.listeners == 2
    assert insights.time_zone == "Europe/Berlin"
    assert not insights.is_empty


def test_a_new_listener_has_empty_insights(berliner):
    insights = sel.listener_insights(user=berliner, now=NOW)

    assert insights.is_empty
    assert insights.totals == sel.Totals(plays=0, imported_plays=0, history=0, liked=0)
    assert len(insights.plays_per_day) == 90 and not any(c for _, c in insights.plays_per_day)
    assert insights.plays_per_hour == [0] * 24
    assert insights.top_artists == [] and insights.top_tracks == []
    assert all(value is None for value in insights.profile.features.values())
    assert insights.liked_share_brought is None
