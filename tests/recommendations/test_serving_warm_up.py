"""The serving state built when the web process starts (``musicrec.asgi``'s lifespan start-up,
``recommendations.selectors.serving.serving_state_warm_up``), in a thread of its own against
the real database and Redis, so the first listener does not wait for it."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import DatabaseError, connections

from catalog.models import Track
from musicrec import asgi
from recommendations.selectors import serving
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the warm-up reads in its own thread

WAIT = 60


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    asgi.lifespan.warm_up = None
    yield
    if asgi.lifespan.warm_up is not None:
        asgi.lifespan.warm_up.join(WAIT)
    serving.serving_state_reset()


@pytest.fixture
def warm_up_on(settings):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "serving": {"warm_up": True}}


@pytest.fixture
def tracks():
    """Transactional tests flush the database afterwards (the shared demo catalog too), so
    these bring committed tracks of their own."""
    return TrackFactory.create_batch(3)


def _server_starts_and_stops() -> list[dict[str, Any]]:
    """What an ASGI server sends the application at start (``lifespan.startup``) and at stop;
    returns what the application answered."""
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async_to_sync(asgi.application)({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


def _warm_up_finished() -> None:
    thread = asgi.lifespan.warm_up
    assert thread is not None, "no warm-up was started"
    thread.join(WAIT)
    assert not thread.is_alive(), "the warm-up did not finish"


COMPLETE = [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_the_server_start_builds_the_serving_state_in_the_background(warm_up_on, tracks):
    # when: the ASGI server starts the application
    answered = _server_starts_and_stops()

    # then: the start-up completed at once, and the state was built by the warm-up thread for
    # the current generations, over the catalog as it is
    assert answered == COMPLETE
    _warm_up_finished()
    assert serving.loaded_generation_key() == serving.generation_key()
    assert serving.serving_state().engine.n_tracks == Track.objects.count() >= 3


def test_with_the_setting_off_nothing_is_built_at_start(settings, tracks):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "serving": {"warm_up": False}}

    answered = _server_starts_and_stops()

    assert answered == COMPLETE
    assert asgi.lifespan.warm_up is None
    assert serving.loaded_generation_key() is None


def test_a_failed_warm_up_is_logged_and_the_first_request_builds_the_state(
    warm_up_on, tracks, monkeypatch, caplog
):
    # given: the database fails while the state is built at start
    build = serving._build_state

    def failing_build(key):
        raise DatabaseError("the database is not reachable yet")

    monkeypatch.setattr(serving, "_build_state", failing_build)

    # when
    with caplog.at_level(logging.ERROR, logger="recommendations.selectors.serving"):
        answered = _server_starts_and_stops()
        _warm_up_finished()

    # then: the server started all the same; the failure is in the log, nothing was built
    assert answered == COMPLETE
    assert "serving state warm-up failed" in caplog.text
    assert "the database is not reachable yet" in caplog.text
    assert serving.loaded_generation_key() is None
    # and the first request, once the database answers, builds the state as before
    monkeypatch.setattr(serving, "_build_state", build)
    assert serving.serving_state().engine.n_tracks == Track.objects.count()


def test_the_warm_up_itself_never_raises(tracks, monkeypatch, caplog):
    def failing_build(key):
        raise RuntimeError("no model yet, and something else broke")

    monkeypatch.setattr(serving, "_build_state", failing_build)

    with caplog.at_level(logging.ERROR, logger="recommendations.selectors.serving"):
        built = serving.serving_state_warm_up()

    assert built is False
    assert "no model yet, and something else broke" in caplog.text
    assert serving.serving_state_warm_up() is False  # and again: nothing left half-done


def test_a_warm_up_that_cannot_start_does_not_stop_the_server(warm_up_on, monkeypatch, caplog):
    def cannot_start():
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(asgi, "serving_state_warm_up_start", cannot_start)

    with caplog.at_level(logging.ERROR, logger="musicrec.asgi"):
        answered = _server_starts_and_stops()

    assert answered == COMPLETE
    assert "warm-up did not start" in caplog.text
    assert asgi.lifespan.warm_up is None


class _WatchedLock:
    """The state's build lock, telling when a thread other than the builder waits on it."""

    def __init__(self, waiting: threading.Event) -> None:
        self._lock = threading.Lock()
        self._waiting = waiting
        self.builder: threading.Thread | None = None

    def acquire(self, blocking: bool = True) -> bool:
        if self.builder is not None and threading.current_thread() is not self.builder:
            self._waiting.set()
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()


def test_a_request_during_the_warm_up_waits_for_it_and_nothing_is_built_twice(
    warm_up_on, tracks, monkeypatch
):
    # given: the warm-up's build is held until a request waits for the state
    build = serving._build_state
    builds: list[threading.Thread] = []
    building = threading.Event()
    waiting = threading.Event()
    lock = _WatchedLock(waiting)

    def held_build(key):
        lock.builder = threading.current_thread()
        builds.append(lock.builder)
        building.set()
        assert waiting.wait(WAIT), "no request waited for the build"
        return build(key)

    monkeypatch.setattr(serving, "_build_state", held_build)
    monkeypatch.setattr(serving, "_building", lock)
    answered = _server_starts_and_stops()
    assert building.wait(WAIT)
    seen: list[serving.ServingState] = []

    def request() -> None:
        try:
            seen.append(serving.serving_state())
        finally:
            connections.close_all()  # this thread's own connection

    # when: a request arrives while the state is being built
    requester = threading.Thread(target=request)
    requester.start()
    requester.join(WAIT)
    _warm_up_finished()

    # then: it waited and got the state the warm-up built; one build in all, by the warm-up
    assert answered == COMPLETE
    assert waiting.is_set()
    assert len(seen) == 1
    assert seen[0].key == serving.loaded_generation_key()
    assert builds == [asgi.lifespan.warm_up]
