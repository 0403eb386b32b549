"""Presence: which listeners have a connection open, so that lists are computed for them only
and a finished training reaches each of them."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django_redis import get_redis_connection
from rest_framework_simplejwt.tokens import AccessToken

from recommendations.services import live

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)

HEARTBEAT = 60  # RECOMMENDER["live"]["heartbeat_s"]: entries lapse after three


def test_a_listener_stays_present_while_one_of_their_connections_is_open(clock):
    live.live_presence_add(user_id=7, channel_name="page-1")
    live.live_presence_add(user_id=7, channel_name="page-2")

    live.live_presence_remove(user_id=7, channel_name="page-1")
    assert live.live_listener_connected(user_id=7)

    live.live_presence_remove(user_id=7, channel_name="page-2")
    assert not live.live_listener_connected(user_id=7)


def test_a_connection_that_stops_beating_lapses(clock):
    # given: a page whose process died (no disconnect), and one that keeps beating
    live.live_presence_add(user_id=7, channel_name="dead")
    live.live_presence_add(user_id=8, channel_name="alive")

    # when three heartbeats pass with only the second one beating
    for _ in range(3):
        clock.advance(HEARTBEAT)
        live.live_presence_add(user_id=8, channel_name="alive")
    clock.advance(1)

    # then only the second listener counts, and the fan-out reads only them
    assert not live.live_listener_connected(user_id=7)
    assert live.live_listener_connected(user_id=8)
    assert list(live.live_listeners_connected(batch=10)) == [[8]]
    # a later removal of the dead page's entry when another of its pages closes drops it too
    live.live_presence_add(user_id=7, channel_name="new")
    live.live_presence_remove(user_id=7, channel_name="new")
    assert get_redis_connection("default").zcard(live._key("channels", 7)) == 0


def test_the_fan_out_reads_every_listener_once_in_bounded_batches(clock):
    for user_id in range(1, 24):
        live.live_presence_add(user_id=user_id, channel_name=f"a-{user_id}")
        live.live_presence_add(user_id=user_id, channel_name=f"b-{user_id}")

    batches = list(live.live_listeners_connected(batch=5))

    assert all(1 <= len(batch) <= 5 for batch in batches)
    assert sorted(u for batch in batches for u in batch) == list(range(1, 24))


def test_an_open_connection_renews_its_presence_every_heartbeat(listener, clock, settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "live": {**settings.RECOMMENDER["live"], "heartbeat_s": 0.05},
    }
    token = str(AccessToken.for_user(listener))
    key, member = live._key("presence"), str(listener.pk)
    redis = get_redis_connection("default")

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        first = redis.zscore(key, member)
        clock.advance(100)
        renewed = first
        for _ in range(200):  # until the next heartbeat wrote (no assertion on how soon)
            await asyncio.sleep(0.02)
            renewed = redis.zscore(key, member)
            if renewed != first:
                break
        await communicator.disconnect()
        return first, renewed

    first, renewed = async_to_sync(scenario)()
    assert renewed == pytest.approx(first + 100)
    assert redis.zscore(key, member) is None  # and the closed connection left
