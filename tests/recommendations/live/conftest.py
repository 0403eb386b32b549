"""Fixtures of the live-update tests: the real WebSocket stack (``musicrec.asgi``'s) on the real
Redis channel layer, Celery eager (a pushed list is computed where it is enqueued, as the worker
would), a clock the skip window reads, and Redis keys of live updates cleared around each test."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django_redis import get_redis_connection

from musicrec.asgi import websocket_application
from musicrec.celery import app
from musicrec.consumers import CLOSE_UNAUTHORISED
from musicrec.routing import websocket_urlpatterns
from recommendations.selectors import serving
from recommendations.services import live
from tests.catalog.factories import ArtistFactory, TrackFactory

#: The application's own routes, as ``musicrec.asgi`` serves them.
APP = websocket_application(websocket_urlpatterns)
PATH = "/ws/recommendations/"
#: The first list of a test builds the serving state: generous.
FIRST = 60


@pytest.fixture(autouse=True)
def _live_keys():
    redis = get_redis_connection("default")

    def clear() -> None:
        keys = list(redis.scan_iter(match=live._key("*"), count=1000))
        if keys:
            redis.delete(*keys)

    clear()
    serving.serving_state_reset()
    yield
    clear()
    serving.serving_state_reset()


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The live services' clock, moved by the test (starts at the real time, so presence
    entries written with it are current)."""
    fake = Clock(live.clock())
    monkeypatch.setattr(live, "clock", fake)
    return fake


@pytest.fixture
def tracks(db):
    """Tracks of two artists, committed: the catalog the lists are drawn from (a transactional
    test flushes the shared demo catalog, so these tests bring their own)."""
    artists = [ArtistFactory(), ArtistFactory(), ArtistFactory()]
    return [TrackFactory(artists=[artists[i % 3]]) for i in range(24)]


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())


async def connect(*, headers=(), query: str = "", origin: bytes | None = b"http://testserver"):
    """Open ``/ws/recommendations/``; return ``(communicator, close code)``: the code is None
    when the connection is open (a ping answered, so the consumer is registered as present)."""
    sent = [(b"host", b"testserver"), *headers]
    if origin is not None:
        sent.append((b"origin", origin))
    communicator = WebsocketCommunicator(APP, f"{PATH}{query}", headers=sent)
    accepted, code = await communicator.connect(timeout=10)
    if not accepted:
        # the client's disconnect ends the consumer's task here, not at the loop's shutdown
        await communicator.disconnect(code=code or CLOSE_UNAUTHORISED, timeout=0.5)
        return communicator, code
    await communicator.send_json_to({"type": "ping"})
    output = await communicator.receive_output(timeout=10)
    if output["type"] == "websocket.close":
        await communicator.disconnect(code=CLOSE_UNAUTHORISED, timeout=0.5)
        return communicator, output.get("code", CLOSE_UNAUTHORISED)
    assert json.loads(output["text"]) == {"type": "pong"}
    return communicator, None
