"""The interaction event log: validation, context, opinions, the API, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import listener_context_update
from catalog.models import Track
from history.models import Interaction, Opinion
from history.selectors.interactions import interaction_list, opinion_of
from history.services.interactions import (
    interaction_record,
    interactions_prune,
    listened_ms_max,
)
from history.tasks import prune_interactions
from musicrec.errors import ApplicationError

URL = "/api/v1/interactions/"


@pytest.fixture
def track() -> Track:
    return Track.objects.filter(duration_ms__gt=120_000).order_by("id").first()


# --------------------------------------------------------------------------- service


@pytest.mark.django_db
def test_record_fills_the_context_from_the_profile(user, track):
    # given
    listener_context_update(user=user, mood="happy", activity="focus")
    user.refresh_from_db()
    # when
    event = interaction_record(user=user, track_id=track.pk, kind="play", listened_ms=1000)
    sent = interaction_record(user=user, track_id=track.pk, kind="skip", mood="sad", activity="")
    # then
    assert (event.mood, event.activity) == ("happy", "focus")
    assert (sent.mood, sent.activity) == ("sad", "")
    assert event.recorded_at is not None and event.listened_ms == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "play", "listened_ms": -1}, "listened_ms"),
        ({"kind": "play", "listened_ms": "too-long"}, "listened_ms"),
        ({"kind": "love"}, "kind"),
        ({"kind": "play", "mood": "angry"}, "mood"),
        ({"kind": "play", "activity": "sleep"}, "activity"),
    ],
)
def test_record_refuses_invalid_values_and_stores_nothing(user, track, values, field):
    if values.get("listened_ms") == "too-long":
        values = {**values, "listened_ms": listened_ms_max(duration_ms=track.duration_ms) + 1}
    with pytest.raises(ValidationError) as refused:
        interaction_record(user=user, track_id=track.pk, **values)
    assert field in refused.value.message_dict
    assert not Interaction.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_listened_ms_up_to_the_margin_is_accepted(user, track):
    limit = listened_ms_max(duration_ms=track.duration_ms)
    assert limit == track.duration_ms + max(track.duration_ms // 10, 30_000)
    event = interaction_record(user=user, track_id=track.pk, kind="play", listened_ms=limit)
    assert event.listened_ms == limit
    assert listened_ms_max(duration_ms=10_000) == 40_000  # at least 30 s


@pytest.mark.django_db
def test_record_unknown_track_is_not_found(user):
    missing = (Track.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    for track_id in (missing, 0, -5, 2**70):
        with pytest.raises(ApplicationError) as refused:
            interaction_record(user=user, track_id=track_id, kind="play")
        assert (refused.value.status, refused.value.code) == (404, "not_found")


@pytest.mark.django_db
def test_a_later_like_replaces_a_dislike_and_an_older_one_does_not(user, track):
    # given
    interaction_record(user=user, track_id=track.pk, kind="dislike")
    assert opinion_of(user=user, track_ids=[track.pk]) == {track.pk: "dislike"}
    # when
    interaction_record(user=user, track_id=track.pk, kind="like")
    interaction_record(
        user=user,
        track_id=track.pk,
        kind="dislike",
        occurred_at=timezone.now() - dt.timedelta(days=3),  # sent late: older than the like
    )
    # then
    assert Opinion.objects.filter(user=user).count() == 1
    assert opinion_of(user=user, track_ids=[track.pk, track.pk + 1]) == {track.pk: "like"}
    assert Interaction.objects.filter(user=user).count() == 3


@pytest.mark.django_db
def test_plays_and_skips_make_no_opinion(user, track):
    interaction_record(user=user, track_id=track.pk, kind="play")
    interaction_record(user=user, track_id=track.pk, kind="skip")
    interaction_record(user=user, track_id=track.pk, kind="add_to_playlist")
    assert not Opinion.objects.filter(user=user).exists()


# --------------------------------------------------------------------------- API


def _events(user, tracks, days_ago_kinds):
    now = timezone.now()
    return [
        interaction_record(
            user=user, track_id=t.pk, kind=kind, occurred_at=now - dt.timedelta(days=days)
        )
        for t, (days, kind) in zip(tracks, days_ago_kinds, strict=True)
    ]


@pytest.mark.django_db
def test_api_needs_a_signed_in_listener(api_client, track):
    assert api_client.get(URL).status_code == 401
    response = api_client.post(URL, {"track_id": track.pk, "kind": "play"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_api_post_records_an_event(api_client, user, track):
    listener_context_update(user=user, mood="calm", activity="relax")
    api_client.force_authenticate(user)
    response = api_client.post(
        URL, {"track_id": track.pk, "kind": "play", "listened_ms": 5000}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["track"]["id"] == track.pk and body["track"]["artists"]
    assert (body["kind"], body["listened_ms"], body["mood"], body["activity"]) == (
        "play",
        5000,
        "calm",
        "relax",
    )
    assert Interaction.objects.get(pk=body["id"]).user == user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "status", "key"),
    [
        ({"kind": "play"}, 400, "track_id"),
        ({"track_id": "abc", "kind": "play"}, 400, "track_id"),
        ({"track_id": 2**70, "kind": "play"}, 400, "track_id"),
        ({"track_id": "TRACK", "kind": "love"}, 400, "kind"),
        ({"track_id": "TRACK", "kind": "play", "listened_ms": -1}, 400, "listened_ms"),
        ({"track_id": "TRACK", "kind": "play", "listened_ms": 10**9}, 400, "listened_ms"),
        ({"track_id": "TRACK", "kind": "play", "listened_ms": "x"}, 400, "listened_ms"),
        ({"track_id": "TRACK", "kind": "play", "mood": "angry"}, 400, "mood"),
        ({"track_id": 999_999_999, "kind": "play"}, 404, "error"),
    ],
)
def test_api_post_refuses_bad_input(api_client, user, track, payload, status, key):
    api_client.force_authenticate(user)
    payload = {k: (track.pk if v == "TRACK" else v) for k, v in payload.items()}
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == status, response.json()
    assert key in response.json()
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_api_post_malformed_json_is_a_400(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_api_list_newest_first_with_filters(api_client, user):
    # given: events 1, 5, 10 and 20 days ago
    tracks = list(Track.objects.order_by("id")[:4])
    plan = [(10, "play"), (1, "skip"), (20, "like"), (5, "play")]
    _events(user, tracks, plan)
    api_client.force_authenticate(user)
    today = timezone.localdate()

    # when / then: newest first
    body = api_client.get(URL).json()
    assert body["count"] == 4
    assert [e["kind"] for e in body["results"]] == ["skip", "play", "play", "like"]
    occurred = [e["occurred_at"] for e in body["results"]]
    assert occurred == sorted(occurred, reverse=True)

    # kind filter (one or several)
    assert api_client.get(URL, {"kind": "play"}).json()["count"] == 2
    assert api_client.get(URL, {"kind": "play,like"}).json()["count"] == 3
    assert api_client.get(URL, {"kind": ["play", "like"]}).json()["count"] == 3  # repeated

    # date filters (ISO dates, whole days; ISO date-times)
    since = (today - dt.timedelta(days=7)).isoformat()
    assert api_client.get(URL, {"since": since}).json()["count"] == 2
    until = (today - dt.timedelta(days=7)).isoformat()
    assert api_client.get(URL, {"until": until}).json()["count"] == 2
    window = {
        "since": (today - dt.timedelta(days=15)).isoformat(),
        "until": (today - dt.timedelta(days=3)).isoformat(),
    }
    assert api_client.get(URL, window).json()["count"] == 2
    moment = (timezone.now() - dt.timedelta(days=2)).isoformat()
    assert api_client.get(URL, {"since": moment}).json()["count"] == 1
    # a date as `until` includes that whole day (a date-time is an exclusive bound)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert api_client.get(URL, {"until": yesterday}).json()["count"] == 4
    assert api_client.get(URL, {"since": yesterday, "until": yesterday}).json()["count"] == 1
    # an empty range is no events, not an error; the last day there is has no end
    assert api_client.get(URL, {"since": today.isoformat(), "until": since}).json()["count"] == 0
    assert api_client.get(URL, {"until": "9999-12-31"}).json()["count"] == 4
    # RFC 3339 date-times: Z or an offset, "t"/"z" in either case, a leap second
    assert api_client.get(URL, {"since": "2000-01-01t00:00:00z"}).json()["count"] == 4
    assert api_client.get(URL, {"until": "1998-12-31T23:59:60+00:00"}).json()["count"] == 0
    # offsets up to ±23:59 (PostgreSQL takes ±15:59), at the ends of time too
    assert api_client.get(URL, {"until": "0418-07-12T06:40:00.8642-20:48"}).json()["count"] == 0
    assert api_client.get(URL, {"since": "0001-01-01T00:00:00+23:59"}).json()["count"] == 4
    assert api_client.get(URL, {"since": "9999-12-31T23:59:59-23:59"}).json()["count"] == 0

    # pagination
    page = api_client.get(URL, {"page_size": 3, "page": 2}).json()
    assert [e["kind"] for e in page["results"]] == ["like"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"kind": "love"},
        {"kind": ","},
        {"since": "yesterday"},
        {"since": "2025-13-45"},
        {"until": "2025-02-30"},
        {"since": "9999-12-31T23:59:59+99:00"},
        # what the schema calls invalid is refused: a date-time needs its time zone (RFC 3339),
        # a date its two-digit month and day, and a value is never empty
        {"since": "2025-03-01T10:00:00"},
        {"since": "2025-3-1"},
        {"until": ""},
        {"kind": ""},
        {"page": "x"},
        {"page": "last"},
    ],
)
def test_api_list_bad_filters_are_400(api_client, user, params):
    api_client.force_authenticate(user)
    response = api_client.get(URL, params)
    assert response.status_code == 400, response.content


@pytest.mark.django_db
def test_api_list_constant_queries(api_client, user, django_assert_max_num_queries):
    _events(user, list(Track.objects.order_by("id")[:20]), [(1, "play")] * 20)
    api_client.force_authenticate(user)
    with django_assert_max_num_queries(6):
        response = api_client.get(URL, {"page_size": 20})
    assert len(response.json()["results"]) == 20


@pytest.mark.django_db
def test_listeners_never_see_each_others_events(api_client, user, other_listener, track):
    # given
    mine = interaction_record(user=user, track_id=track.pk, kind="like")
    theirs = interaction_record(user=other_listener, track_id=track.pk, kind="dislike")
    # when
    api_client.force_authenticate(other_listener)
    body = api_client.get(URL).json()
    # then
    assert [e["id"] for e in body["results"]] == [theirs.pk]
    assert list(interaction_list(user=user)) == [mine]
    assert opinion_of(user=user, track_ids=[track.pk]) == {track.pk: "like"}
    assert opinion_of(user=other_listener, track_ids=[track.pk]) == {track.pk: "dislike"}


# --------------------------------------------------------------------------- retention


@pytest.mark.django_db(transaction=True)
def test_prune_deletes_old_events_in_batches_keeps_recent_ones_and_opinions(user, settings):
    # given: 7 events recorded 100 days ago (some listened long ago, one imported recently
    # but of an old listen), and 2 recent ones. A transactional test may run after another one
    # flushed the shared catalog: it brings its own track.
    track = Track.objects.create(spotify_id="PruneTrack000000000001", title="Old", duration_ms=1)
    settings.INTERACTION_RETENTION_DAYS = 90
    now = timezone.now()
    old = now - dt.timedelta(days=100)
    interaction_record(user=user, track_id=track.pk, kind="like")
    Interaction.objects.bulk_create(
        [
            Interaction(user=user, track=track, kind="play", occurred_at=old, recorded_at=old)
            for _ in range(7)
        ]
        + [
            Interaction(user=user, track=track, kind="play", occurred_at=old, recorded_at=now),
        ]
    )
    assert Interaction.objects.count() == 9

    # when
    first = interactions_prune(batch_size=3)
    second = prune_interactions.apply().get()

    # then
    assert (first, second) == (7, 0)
    assert Interaction.objects.count() == 2
    assert not Interaction.objects.filter(recorded_at__lt=now - dt.timedelta(days=90)).exists()
    assert Opinion.objects.filter(user=user, track=track, value="like").exists()


@pytest.mark.django_db
def test_prune_follows_the_retention_setting(user, track, settings):
    settings.INTERACTION_RETENTION_DAYS = 5
    at = timezone.now() - dt.timedelta(days=6)
    Interaction.objects.create(user=user, track=track, kind="skip", occurred_at=at, recorded_at=at)
    assert prune_interactions.apply().get() == 1
    assert prune_interactions.apply().get() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["mood", "activity", "kind"])
def test_the_database_refuses_an_interaction_context_outside_the_choices(user, field):
    # given: a stored event
    track = Track.objects.order_by("id").first()
    event = interaction_record(user=user, track_id=track.pk, kind="play")

    # when / then: a write that skips validation cannot store a value the choices lack
    with pytest.raises(IntegrityError), transaction.atomic():
        Interaction.objects.filter(pk=event.pk).update(**{field: "sleepy"})
