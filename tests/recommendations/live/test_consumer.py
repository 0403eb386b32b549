"""``/ws/recommendations/``: who may connect, what a client may send, and what it hears."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from musicrec.consumers import CLOSE_UNAUTHORISED
from recommendations.models import Impression, ImpressionSurface
from recommendations.services import live

from .conftest import FIRST, connect, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_listener_connects_by_session_or_token_and_a_stranger_is_refused(listener):
    cookie = session_cookie(listener)
    token = str(AccessToken.for_user(listener))

    async def scenario():
        by_session, refused = await connect(headers=[cookie])
        assert refused is None
        by_token, refused = await connect(query=f"?token={token}", origin=None)
        assert refused is None
        assert (await connect())[1] == CLOSE_UNAUTHORISED
        assert (await connect(query="?token=not-a-jwt"))[1] == CLOSE_UNAUTHORISED
        await by_session.disconnect()
        await by_token.disconnect()

    async_to_sync(scenario)()


def test_bad_frames_are_answered_and_the_connection_stays_open(listener):
    token = str(AccessToken.for_user(listener))

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        # malformed: not JSON, not an object, no string type, binary
        for frame in ("{not json", "[1, 2]", '"refresh"', '{"type": 7}', "{}"):
            await communicator.send_to(text_data=frame)
            answer = await communicator.receive_json_from(timeout=5)
            assert answer["type"] == "error" and answer["code"] == "malformed", frame
            assert answer["error"]
        await communicator.send_to(bytes_data=b"\x00\xff")
        assert (await communicator.receive_json_from(timeout=5))["code"] == "malformed"
        # an unknown type
        await communicator.send_json_to({"type": "subscribe", "user": 1})
        answer = await communicator.receive_json_from(timeout=5)
        assert answer["code"] == "unknown_type"
        assert "subscribe" in answer["error"]
        # still open: ping is answered
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_refresh_is_answered_to_the_asking_connection_with_its_parameters(
    listener, tracks, eager
):
    token = str(AccessToken.for_user(listener))

    async def scenario():
        # given: two pages of the listener
        asking, _ = await connect(query=f"?token={token}")
        other, _ = await connect(query=f"?token={token}")

        # when one asks for a refresh with parameters of its own
        await asking.send_json_to(
            {"type": "refresh", "n": 3, "mood": "happy", "activity": "focus", "discovery": 0.8}
        )

        # then it gets the list, the other page nothing
        update = await asking.receive_json_from(timeout=FIRST)
        assert update["type"] == "recommendations.update"
        assert update["reason"] == "refresh"
        assert update["parameters"] == {
            "n": 3,
            "mood": "happy",
            "activity": "focus",
            "discovery": 0.8,
        }
        assert 1 <= len(update["results"]) <= 3
        assert {"track", "score", "confidence", "reasons", "sources"} <= set(update["results"][0])
        assert await other.receive_nothing(timeout=0.5)
        await asking.disconnect()
        await other.disconnect()
        return update

    update = async_to_sync(scenario)()
    impression = Impression.objects.get(pk=update["impression_id"])
    assert impression.user == listener
    assert impression.surface == ImpressionSurface.LIVE


def test_refreshes_are_limited_per_listener_and_bad_parameters_use_up_none(listener, tracks, eager):
    token = str(AccessToken.for_user(listener))

    async def scenario():
        first, _ = await connect(query=f"?token={token}")
        second, _ = await connect(query=f"?token={token}")

        # bad parameters are refused, naming the parameter, and count for nothing
        for bad, name in (
            ({"n": 0}, "n"),
            ({"n": 101}, "n"),
            ({"n": "five"}, "n"),
            ({"n": True}, "n"),
            ({"mood": "angry"}, "mood"),
            ({"activity": ["party"]}, "activity"),
            ({"discovery": 1.5}, "discovery"),
            ({"discovery": "NaN"}, "discovery"),
            # digits int() refuses or chokes on, numbers a float cannot hold: answered, the
            # connection kept (these once killed it)
            ({"n": "²"}, "n"),
            ({"n": "9" * 5000}, "n"),
            ({"discovery": 10**400}, "discovery"),
            ({"discovery": "1" * 5000}, "discovery"),
        ):
            await first.send_json_to({"type": "refresh", **bad})
            answer = await first.receive_json_from(timeout=5)
            assert answer["code"] == "invalid_parameter", bad
            assert answer["parameter"] == name
            assert name in answer["error"]

        # the first valid refresh is answered …
        await first.send_json_to({"type": "refresh"})
        assert (await first.receive_json_from(timeout=FIRST))["type"] == "recommendations.update"
        # … the next one within the interval is refused, on any of the listener's connections
        for communicator in (first, second):
            await communicator.send_json_to({"type": "refresh"})
            answer = await communicator.receive_json_from(timeout=5)
            assert answer["code"] == "rate_limited"
            assert 1 <= answer["retry_after"] <= 5
        await first.disconnect()
        await second.disconnect()

    async_to_sync(scenario)()
    assert Impression.objects.filter(user=listener).count() == 1


def _refreshed(listener, frame):  # type: ignore[no-untyped-def]
    token = str(AccessToken.for_user(listener))

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        await communicator.send_json_to(frame)
        update = await communicator.receive_json_from(timeout=FIRST)
        await communicator.disconnect()
        return update

    return async_to_sync(scenario)()


def test_a_refresh_with_defaults_uses_the_listeners_stored_values(listener, tracks, eager):
    listener.mood, listener.discovery = "calm", 0.2
    listener.save(update_fields=["mood", "discovery"])

    update = _refreshed(listener, {"type": "refresh"})

    assert update["parameters"]["n"] == settings.RECOMMENDER["live"]["results"] == 10
    assert update["parameters"]["mood"] == "calm"
    assert update["parameters"]["discovery"] == 0.2


def test_an_empty_mood_is_no_mood_for_that_list_as_in_the_api(listener, tracks, eager):
    listener.mood, listener.discovery = "calm", 0.2
    listener.save(update_fields=["mood", "discovery"])

    update = _refreshed(listener, {"type": "refresh", "mood": ""})

    assert update["parameters"]["mood"] is None
    assert update["parameters"]["discovery"] == 0.2


def test_two_listeners_only_ever_hear_their_own(listener, other_listener, tracks, eager):
    mine, theirs = str(AccessToken.for_user(listener)), str(AccessToken.for_user(other_listener))

    async def scenario():
        a, _ = await connect(query=f"?token={mine}")
        b, _ = await connect(query=f"?token={theirs}")

        await b.send_json_to({"type": "refresh"})
        assert (await b.receive_json_from(timeout=FIRST))["type"] == "recommendations.update"
        assert await a.receive_nothing(timeout=0.5)

        # a push for one listener reaches that listener only
        sent = await sync_to_async(live.live_update_push)(user_id=listener.pk, reason="context")
        assert sent
        assert (await a.receive_json_from(timeout=FIRST))["reason"] == "context"
        assert await b.receive_nothing(timeout=0.5)
        await a.disconnect()
        await b.disconnect()

    async_to_sync(scenario)()
    assert {i.user_id for i in Impression.objects.all()} == {listener.pk, other_listener.pk}


def test_a_closed_connection_is_no_longer_present(listener):
    token = str(AccessToken.for_user(listener))

    async def scenario():
        communicator, _ = await connect(query=f"?token={token}")
        present = live.live_listener_connected(user_id=listener.pk)
        await communicator.disconnect()
        return present

    assert async_to_sync(scenario)() is True
    assert live.live_listener_connected(user_id=listener.pk) is False
