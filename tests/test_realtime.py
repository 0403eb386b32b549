"""Live events: the broadcast helper and the base consumer, against the real Redis channel
layer. A trivial topic stands in for the features that will use them."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import timedelta

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
from accounts.services import listener_password_changed
from musicrec.asgi import websocket_application
from musicrec.consumers import CLOSE_UNAUTHORISED, ListenerConsumer
from musicrec.errors import ApplicationError
from musicrec.realtime import (
    broadcast,
    broadcast_on_commit,
    disconnect_on_commit,
    listener_group,
)
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
        elif content["type"] == "refuse":
            raise ApplicationError("Not now.", code="not_now")
        else:
            await super().on_message(content)


APP = websocket_application([path("ws/echo/", EchoConsumer.as_asgi())])
ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def _session(user: User) -> tuple[tuple[bytes, bytes], str]:
    """A signed-in session of ``user``: its cookie header and its key."""
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()), key


async def _connect(*, headers=(), query: str = "", origin: bytes | None = b"http://testserver"):
    """Open a connection. Returns (communicator, open, close code): ``open`` is whether it is
    still open after authentication (its "hello" read), else the code it was closed with."""
    sent = [(b"host", b"testserver"), *headers]
    if origin is not None:
        sent.append((b"origin", origin))
    communicator = WebsocketCommunicator(APP, f"/ws/echo/{query}", headers=sent)
    accepted, code = await communicator.connect(timeout=5)
    if not accepted:
        await _let_go(communicator)
        return communicator, False, code
    first = await communicator.receive_output(timeout=5)
    if first["type"] == "websocket.close":
        await _let_go(communicator)
        return communicator, False, first.get("code")
    assert json.loads(first["text"])["type"] == "hello"
    return communicator, True, None


async def _let_go(communicator: WebsocketCommunicator) -> None:
    """The client's side of a closed connection: its disconnect, so the consumer's task ends
    here rather than being left for the event loop's shutdown to cancel (a consumer waiting on
    the Redis channel layer at that moment once held a test run for its 300 s timeout). A
    refused consumer does not stop by itself: after half a second ``disconnect`` cancels it,
    still inside the test (5 s cost every refusal test 5 s for nothing)."""
    await communicator.disconnect(code=CLOSE_UNAUTHORISED, timeout=0.5)


async def _closed_with(communicator: WebsocketCommunicator) -> int | None:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output.get("code")


def _run(scenario) -> None:
    async_to_sync(scenario)()


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


def test_anonymous_connections_are_closed_with_4401():
    async def scenario():
        assert (await _connect())[1:] == (False, CLOSE_UNAUTHORISED)

    _run(scenario)


@pytest.mark.parametrize("token", ["not-a-jwt", "", "x" * 5000])
def test_a_bad_token_is_refused_even_with_a_valid_session(ada, token):
    cookie, _ = _session(ada)

    async def scenario():
        result = await _connect(headers=[cookie], query=f"?token={token}")
        assert result[1:] == (False, CLOSE_UNAUTHORISED)

    _run(scenario)


def test_a_refresh_token_is_not_an_access_token(ada):
    refresh = str(RefreshToken.for_user(ada))

    async def scenario():
        assert (await _connect(query=f"?token={refresh}"))[1:] == (False, CLOSE_UNAUTHORISED)

    _run(scenario)


def test_an_expired_token_is_refused(ada):
    token = AccessToken.for_user(ada)
    token.set_exp(lifetime=-timedelta(seconds=1))

    async def scenario():
        assert (await _connect(query=f"?token={token}"))[1:] == (False, CLOSE_UNAUTHORISED)

    _run(scenario)


def test_an_inactive_listener_is_refused(ada):
    token = str(AccessToken.for_user(ada))
    User.objects.filter(pk=ada.pk).update(is_active=False)

    async def scenario():
        assert (await _connect(query=f"?token={token}"))[1:] == (False, CLOSE_UNAUTHORISED)

    _run(scenario)


def test_an_app_without_an_origin_signs_in_by_token_but_never_by_cookie(ada):
    cookie, _ = _session(ada)
    token = str(AccessToken.for_user(ada))

    async def scenario():
        by_token, opened, _ = await _connect(query=f"?token={token}", origin=None)
        assert opened
        await by_token.disconnect()
        assert (await _connect(headers=[cookie], origin=None))[1:] == (
            False,
            CLOSE_UNAUTHORISED,
        )

    _run(scenario)


def test_a_page_of_another_site_cannot_use_the_listeners_cookie(ada):
    cookie, _ = _session(ada)

    async def scenario():
        _, opened, _ = await _connect(headers=[cookie], origin=b"https://evil.example")
        assert not opened

    _run(scenario)


def _commit_and_broadcast(user_id: int, message: dict) -> None:
    with transaction.atomic():
        broadcast_on_commit(user_id=user_id, topic=TOPIC, message=message)


def test_session_and_jwt_connections_hear_their_listeners_broadcasts(ada):
    cookie, _ = _session(ada)
    token = str(AccessToken.for_user(ada))

    async def scenario():
        # given: one page (session cookie) and one app (JWT) connected
        by_session, opened, _ = await _connect(headers=[cookie])
        assert opened
        by_token, opened, _ = await _connect(query=f"?token={token}", origin=None)
        assert opened

        # when: a write commits and broadcasts
        await sync_to_async(_commit_and_broadcast)(ada.pk, {"type": "ping", "n": 1})

        # then: both hear it, and both can ask for a refresh
        for communicator in (by_session, by_token):
            assert await communicator.receive_json_from(timeout=5) == {"type": "ping", "n": 1}
            await communicator.send_json_to({"type": "refresh"})
            assert await communicator.receive_json_from(timeout=5) == {"type": "refreshed"}
            await communicator.disconnect()

    _run(scenario)


def test_two_listeners_only_hear_their_own(ada, bob):
    token_a, token_b = str(AccessToken.for_user(ada)), str(AccessToken.for_user(bob))

    async def scenario():
        a, _, _ = await _connect(query=f"?token={token_a}")
        b, _, _ = await _connect(query=f"?token={token_b}")

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

    _run(scenario)


def _rolled_back_broadcast(user_id: int) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast_on_commit(user_id=user_id, topic=TOPIC, message={"type": "never"})
        raise RuntimeError("rolled back")


def test_a_rollback_broadcasts_nothing(ada):
    token = str(AccessToken.for_user(ada))

    async def scenario():
        communicator, _, _ = await _connect(query=f"?token={token}")
        await sync_to_async(_rolled_back_broadcast)(ada.pk)
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    _run(scenario)


def test_bad_client_messages_get_an_error_not_a_disconnect(ada):
    token = str(AccessToken.for_user(ada))

    async def scenario():
        communicator, _, _ = await _connect(query=f"?token={token}")
        for frame in ("not json", json.dumps(["a", "list"])):
            await communicator.send_to(text_data=frame)
            assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_message"
        await communicator.send_to(bytes_data=b"\x00\x01")
        assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_message"
        await communicator.send_json_to({"type": "shout"})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "error",
            "error": "Unknown message type 'shout'.",
            "code": "unknown_message_type",
        }
        await communicator.send_json_to({"type": "refuse"})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "error",
            "error": "Not now.",
            "code": "not_now",
        }
        await communicator.send_json_to({"type": "refresh"})  # still open
        assert await communicator.receive_json_from(timeout=5) == {"type": "refreshed"}
        await communicator.disconnect()

    _run(scenario)


def _sign_out(session_key: str, user_id: int) -> None:
    with transaction.atomic():
        disconnect_on_commit(user_id=user_id, session_key=session_key)


def test_signing_out_closes_that_sessions_connections_only(ada):
    cookie_1, key_1 = _session(ada)
    cookie_2, _ = _session(ada)
    token = str(AccessToken.for_user(ada))

    async def scenario():
        first, _, _ = await _connect(headers=[cookie_1])
        second, _, _ = await _connect(headers=[cookie_2])
        app, _, _ = await _connect(query=f"?token={token}", origin=None)

        await sync_to_async(_sign_out)(key_1, ada.pk)

        assert await _closed_with(first) == CLOSE_UNAUTHORISED
        assert await second.receive_nothing(timeout=0.5)
        assert await app.receive_nothing(timeout=0.1)
        await second.disconnect()
        await app.disconnect()

    _run(scenario)


def test_a_password_change_closes_every_other_connection(ada):
    cookie_kept, key_kept = _session(ada)
    cookie_other, _ = _session(ada)
    token = str(AccessToken.for_user(ada))

    async def scenario():
        kept, _, _ = await _connect(headers=[cookie_kept])
        other, _, _ = await _connect(headers=[cookie_other])
        app, _, _ = await _connect(query=f"?token={token}", origin=None)

        await sync_to_async(listener_password_changed)(user=ada, keep_session_key=key_kept)

        assert await _closed_with(other) == CLOSE_UNAUTHORISED
        assert await _closed_with(app) == CLOSE_UNAUTHORISED
        assert await kept.receive_nothing(timeout=0.5)
        await kept.disconnect()

    _run(scenario)


def test_a_connection_closes_when_its_token_expires(ada):
    token = AccessToken.for_user(ada)
    token.set_exp(lifetime=timedelta(seconds=1))

    async def scenario():
        communicator, opened, _ = await _connect(query=f"?token={token}")
        assert opened
        assert await _closed_with(communicator) == CLOSE_UNAUTHORISED

    started = time.monotonic()
    _run(scenario)
    assert time.monotonic() - started < 5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _layer(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_connect_timeout": 1}]},
        }
    }


def test_with_redis_down_the_write_succeeds_and_the_failure_is_logged(ada, caplog):
    down = _layer(f"redis://127.0.0.1:{_closed_port()}/2")
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


def test_a_redis_that_never_answers_holds_a_broadcast_two_seconds_at_most(ada, caplog):
    # given: a server that accepts connections and then says nothing
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hung = _layer(f"redis://127.0.0.1:{silent.getsockname()[1]}/2")
        with override_settings(CHANNEL_LAYERS=hung), caplog.at_level(logging.ERROR):
            started = time.monotonic()
            sent = broadcast(user_id=ada.pk, topic=TOPIC, message={"type": "ping"})
            took = time.monotonic() - started

    assert sent is False
    assert took < 4
    assert "could not broadcast ping" in caplog.text
