"""Live events: the broadcast helper and the base consumer, against the real Redis channel
layer. A trivial topic stands in for the features that will use them."""

from __future__ import annotations

import logging
import socket

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import path
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from musicrec.asgi import websocket_application
from musicrec.consumers import CLOSE_UNAUTHORISED, ListenerConsumer
from musicrec.realtime import broadcast, broadcast_on_commit, listener_group
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TOPIC = "echo"


class EchoConsumer(ListenerConsumer):
    topic = TOPIC

    async def on_connected(self) -> None:
        await self.send_json({"type": "hello", "user": self.user.username})

    async def on_message(self, content):
        if content["type"] == "refresh":
            await self.send_json({"type": "refreshed"})
        else:
            await super().on_message(content)


APP = websocket_application([path("ws/echo/", EchoConsumer.as_asgi())])
ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def _session_cookie(user: User) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())


async def _connect(*, headers=(), query: str = "") -> tuple[WebsocketCommunicator, bool, object]:
    communicator = WebsocketCommunicator(APP, f"/ws/echo/{query}", headers=[*ORIGIN, *headers])
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.fixture
def ada():
    return UserFactory(username="ada")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


def test_group_names_are_per_listener_and_topic():
    assert listener_group(user_id=7, topic="recommendations") == "user.7.recommendations"
    with pytest.raises(ValueError, match="invalid topic"):
        listener_group(user_id=7, topic="a.b")


def test_anonymous_connections_are_refused():
    async def scenario():
        _, connected, code = await _connect()
        assert (connected, code) == (False, CLOSE_UNAUTHORISED)

    async_to_sync(scenario)()


@pytest.mark.parametrize("token", ["not-a-jwt", "", "x" * 5000])
def test_a_bad_token_is_refused(token):
    async def scenario():
        _, connected, code = await _connect(query=f"?token={token}")
        assert (connected, code) == (False, CLOSE_UNAUTHORISED)

    async_to_sync(scenario)()


def test_a_refresh_token_is_not_an_access_token(ada):
    refresh = str(RefreshToken.for_user(ada))

    async def scenario():
        _, connected, code = await _connect(query=f"?token={refresh}")
        assert (connected, code) == (False, CLOSE_UNAUTHORISED)

    async_to_sync(scenario)()


def test_an_inactive_listener_is_refused(ada):
    token = str(AccessToken.for_user(ada))
    User.objects.filter(pk=ada.pk).update(is_active=False)

    async def scenario():
        _, connected, code = await _connect(query=f"?token={token}")
        assert (connected, code) == (False, CLOSE_UNAUTHORISED)

    async_to_sync(scenario)()


def _commit_and_broadcast(user_id: int, message: dict) -> None:
    with transaction.atomic():
        broadcast_on_commit(user_id=user_id, topic=TOPIC, message=message)


def test_session_and_jwt_connections_hear_their_listeners_broadcasts(ada):
    cookie = _session_cookie(ada)
    token = str(AccessToken.for_user(ada))

    async def scenario():
        # given: one page (session cookie) and one app (JWT) connected
        by_session, connected, _ = await _connect(headers=[cookie])
        assert connected
        by_token, connected, _ = await _connect(query=f"?token={token}")
        assert connected
        for communicator in (by_session, by_token):
            assert await communicator.receive_json_from(timeout=5) == {
                "type": "hello",
                "user": "ada",
            }

        # when: a write commits and broadcasts
        await sync_to_async(_commit_and_broadcast)(ada.pk, {"type": "ping", "n": 1})

        # then: both hear it, and both can ask for a refresh
        for communicator in (by_session, by_token):
            assert await communicator.receive_json_from(timeout=5) == {"type": "ping", "n": 1}
            await communicator.send_json_to({"type": "refresh"})
            assert await communicator.receive_json_from(timeout=5) == {"type": "refreshed"}
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_two_listeners_only_hear_their_own(ada, bob):
    token_a, token_b = str(AccessToken.for_user(ada)), str(AccessToken.for_user(bob))

    async def scenario():
        a, _, _ = await _connect(query=f"?token={token_a}")
        b, _, _ = await _connect(query=f"?token={token_b}")
        await a.receive_json_from(timeout=5)
        await b.receive_json_from(timeout=5)

        assert await sync_to_async(broadcast)(
            user_id=ada.pk, topic=TOPIC, message={"type": "for-ada"}
        )

        assert await a.receive_json_from(timeout=5) == {"type": "for-ada"}
        assert await b.receive_nothing(timeout=0.5)
        # bob may send whatever he likes: nothing reaches ada
        await b.send_json_to({"type": "refresh", "user": ada.pk})
        assert await b.receive_json_from(timeout=5) == {"type": "refreshed"}
        assert await a.receive_nothing(timeout=0.5)
        await a.disconnect()
        await b.disconnect()

    async_to_sync(scenario)()


def _rolled_back_broadcast(user_id: int) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast_on_commit(user_id=user_id, topic=TOPIC, message={"type": "never"})
        raise RuntimeError("rolled back")


def test_a_rollback_broadcasts_nothing(ada):
    token = str(AccessToken.for_user(ada))

    async def scenario():
        communicator, _, _ = await _connect(query=f"?token={token}")
        await communicator.receive_json_from(timeout=5)

        await sync_to_async(_rolled_back_broadcast)(ada.pk)

        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_bad_client_messages_get_an_error_not_a_disconnect(ada):
    token = str(AccessToken.for_user(ada))

    async def scenario():
        communicator, _, _ = await _connect(query=f"?token={token}")
        await communicator.receive_json_from(timeout=5)
        await communicator.send_to(text_data="not json")
        assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
        await communicator.send_json_to(["a", "list"])
        assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
        await communicator.send_json_to({"type": "shout"})
        answer = await communicator.receive_json_from(timeout=5)
        assert answer == {"type": "error", "error": "Unknown message type 'shout'."}
        await communicator.disconnect()

    async_to_sync(scenario)()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_the_write_succeeds_and_the_failure_is_logged(ada, caplog):
    down = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_closed_port()}/2"]},
        }
    }
    # given: a write that broadcasts when it commits
    with override_settings(CHANNEL_LAYERS=down), caplog.at_level(logging.ERROR):
        with transaction.atomic():
            User.objects.filter(pk=ada.pk).update(first_name="Ada")
            broadcast_on_commit(user_id=ada.pk, topic=TOPIC, message={"type": "ping"})
        sent = broadcast(user_id=ada.pk, topic=TOPIC, message={"type": "again"})

    # then: the write stayed, the broadcasts were logged and reported as not sent
    assert User.objects.get(pk=ada.pk).first_name == "Ada"
    assert sent is False
    assert f"could not broadcast ping to user.{ada.pk}.echo" in caplog.text
    assert f"could not broadcast again to user.{ada.pk}.echo" in caplog.text
