"""What pushes a new list to a listener's open connections, exactly once each: a history change
(with ``history.changed``), an import, a context change, a block, two skips within 60 seconds,
a finished training (to every connected listener); and what does not."""

from __future__ import annotations

import logging
import socket

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import artist_block, listener_context_update
from history.models import HistoryEntry
from history.services.entries import history_entry_add
from history.services.interactions import interaction_record
from musicrec.taste import TasteChange, taste_changed_on_commit
from recommendations.models import Impression, ImpressionSurface
from recommendations.services import live
from recommendations.services.training import train_embeddings
from recommendations.tasks import live_fan_out
from tests.accounts.factories import UserFactory

from ..test_training import SMALL, listening
from .conftest import FIRST, connect

pytestmark = pytest.mark.django_db(transaction=True)

QUIET = 0.5  # how long "nothing more arrives" is listened for


async def _updates(communicator, count: int) -> list[dict]:
    messages = [await communicator.receive_json_from(timeout=FIRST) for _ in range(count)]
    assert await communicator.receive_nothing(timeout=QUIET)
    return messages


def _pushed(user, write) -> list[dict]:
    """Connect as ``user``, run ``write`` (sync, committed), return every message heard."""
    token = str(AccessToken.for_user(user))

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        expected = await sync_to_async(write)()
        messages = await _updates(communicator, expected)
        await communicator.disconnect()
        return messages

    return async_to_sync(scenario)()


def test_a_history_change_sends_the_count_and_one_update(listener, tracks, eager):
    HistoryEntry.objects.create(user=listener, track=tracks[0], slot=1)

    def write():
        history_entry_add(user=listener, track_id=tracks[1].pk)
        return 2

    changed, update = _pushed(listener, write)

    assert changed == {"type": "history.changed", "count": 2}
    assert update["type"] == "recommendations.update"
    assert update["reason"] == "history"
    assert update["results"]
    assert tracks[1].pk not in {r["track"]["id"] for r in update["results"]}
    impression = Impression.objects.get(pk=update["impression_id"])
    assert impression.surface == ImpressionSurface.LIVE
    assert [i["track_id"] for i in impression.items] == [
        r["track"]["id"] for r in update["results"]
    ]


def test_a_finished_import_sends_the_count_and_one_update(listener, tracks, eager):
    def write():
        # what a listening import's completion does once its entries are in
        HistoryEntry.objects.create(user=listener, track=tracks[2], slot=1)
        taste_changed_on_commit(user_id=listener.pk, reason=TasteChange.IMPORT)
        return 2

    changed, update = _pushed(listener, write)

    assert changed == {"type": "history.changed", "count": 1}
    assert update["reason"] == "import"


def test_a_context_change_sends_one_update_for_the_new_context(listener, tracks, eager):
    def write():
        listener_context_update(user=listener, mood="energetic", activity="exercise")
        return 1

    (update,) = _pushed(listener, write)

    assert update["reason"] == "context"
    assert update["parameters"]["mood"] == "energetic"
    assert update["parameters"]["activity"] == "exercise"


def test_a_block_sends_one_update_without_the_artist(listener, tracks, eager):
    artist = tracks[0].artists.get()

    def write():
        artist_block(user=listener, artist_id=artist.pk)
        return 1

    (update,) = _pushed(listener, write)

    assert update["reason"] == "blocks"
    assert update["results"]
    for result in update["results"]:
        assert artist.pk not in {a["id"] for a in result["track"]["artists"]}


def test_likes_plays_and_other_profile_changes_push_nothing(listener, tracks, eager):
    def write():
        interaction_record(user=listener, track_id=tracks[0].pk, kind="like")
        interaction_record(user=listener, track_id=tracks[1].pk, kind="dislike")
        interaction_record(user=listener, track_id=tracks[2].pk, kind="play")
        for reason in (TasteChange.PREFERENCES, TasteChange.DEMOGRAPHICS, TasteChange.DISCOVERY):
            taste_changed_on_commit(user_id=listener.pk, reason=reason)
        return 0

    assert _pushed(listener, write) == []
    assert not Impression.objects.exists()


def _skips(listener, tracks, clock, gaps: list[float]):
    def write():
        for i, gap in enumerate(gaps):
            clock.advance(gap)
            interaction_record(user=listener, track_id=tracks[i].pk, kind="skip")
        return None

    return write


def test_two_skips_61_seconds_apart_push_nothing(listener, tracks, eager, clock):
    write = _skips(listener, tracks, clock, [0, 61])

    assert _pushed(listener, lambda: write() or 0) == []


def test_two_skips_within_60_seconds_push_one_update(listener, tracks, eager, clock):
    # the third skip right after starts a new count: no second update
    write = _skips(listener, tracks, clock, [0, 60, 1])

    (update,) = _pushed(listener, lambda: write() or 1)

    assert update["reason"] == "skip"


def test_four_skips_in_a_minute_are_two_bursts(listener, tracks, eager, clock):
    write = _skips(listener, tracks, clock, [0, 5, 5, 5])

    updates = _pushed(listener, lambda: write() or 2)

    assert [u["reason"] for u in updates] == ["skip", "skip"]


def test_a_listener_without_a_connection_gets_no_list_computed(listener, tracks, eager):
    # given: the listener had a page open, heard an update, and closed it
    def write():
        listener_context_update(user=listener, mood="sad", activity=None)
        return 1

    assert len(_pushed(listener, write)) == 1
    assert Impression.objects.filter(user=listener).count() == 1

    # when their history changes, and they skip twice, with no page open
    history_entry_add(user=listener, track_id=tracks[5].pk)
    for track in tracks[6:8]:
        interaction_record(user=listener, track_id=track.pk, kind="skip")

    # then nothing was computed (no impression of a list nobody saw)
    assert Impression.objects.filter(user=listener).count() == 1


def test_a_listener_gone_before_the_worker_ran_gets_nothing(listener, tracks):
    # the hook saw them connected, the page closed before the worker took the task
    assert live.live_update_push(user_id=listener.pk, reason="history") is False
    assert live.live_updates_push(user_ids=[listener.pk], reason="training") == 0
    assert not Impression.objects.exists()


def test_a_finished_training_pushes_to_every_connected_listener_once(
    listener, other_listener, tracks, eager, settings
):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "live": {**settings.RECOMMENDER["live"], "fan_out_batch": 2},
    }
    absent = UserFactory(username="absent")
    present = [listener, other_listener, UserFactory(username="third")]
    tokens = [str(AccessToken.for_user(user)) for user in present]

    async def scenario():
        connections = [(await connect(query=f"?token={t}"))[0] for t in tokens]
        # two pages of the first listener: one update each, not two
        twice, _ = await connect(query=f"?token={tokens[0]}")
        fanned = await sync_to_async(live_fan_out.apply)(kwargs={"reason": "training"})
        heard = [await _updates(c, 1) for c in [*connections, twice]]
        for communicator in [*connections, twice]:
            await communicator.disconnect()
        return fanned.get(), heard

    listeners, heard = async_to_sync(scenario)()

    assert listeners == 3
    assert all(messages[0]["reason"] == "training" for messages in heard)
    assert heard[0][0]["impression_id"] == heard[3][0]["impression_id"]
    assert Impression.objects.filter(user=absent).count() == 0
    assert Impression.objects.filter(surface=ImpressionSurface.LIVE).count() == 3


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_the_write_succeeds_and_the_failure_is_logged(
    listener, tracks, eager, caplog
):
    down = f"redis://127.0.0.1:{_closed_port()}"
    cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"{down}/1",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
    layer = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"{down}/2", "socket_connect_timeout": 1}]},
        }
    }
    with (
        override_settings(CACHES=cache, CHANNEL_LAYERS=layer),
        caplog.at_level(logging.ERROR),
    ):
        change = history_entry_add(user=listener, track_id=tracks[0].pk)
        for _ in range(2):
            interaction_record(user=listener, track_id=tracks[1].pk, kind="skip")
        refused = live.live_presence_add(user_id=listener.pk, channel_name="specific.abc!def")

    assert change.created
    assert HistoryEntry.objects.filter(user=listener).count() == 1
    assert refused is False
    assert f"live presence of listener {listener.pk} unknown" in caplog.text
    assert f"skip of listener {listener.pk} not counted" in caplog.text


def test_the_end_of_a_training_pushes_the_new_models_list(listener, eager, settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "training": SMALL,
        "figures": {**settings.RECOMMENDER["figures"], "enabled": False},
    }
    listeners, _ = listening()
    token = str(AccessToken.for_user(listeners[0]))

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        outcome = await sync_to_async(train_embeddings)()
        (update,) = await _updates(communicator, 1)
        await communicator.disconnect()
        return outcome, update

    outcome, update = async_to_sync(scenario)()

    assert not outcome.skipped
    assert update["reason"] == "training"
    assert Impression.objects.get(pk=update["impression_id"]).model_version_id == (
        outcome.version_id
    )
