"""A web process holds one serving state: when a generation moves and the state is rebuilt,
the previous one is let go before the process settles its memory (the collector's pass and
glibc's trim), so the memory of two states is not kept (docs/benchmarks.md, bench-serve)."""

from __future__ import annotations

import weakref

import pytest
from django.core.cache import cache

from recommendations.selectors import serving

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


def test_a_rebuilt_state_settles_memory_once_the_previous_state_is_gone(monkeypatch):
    # given: a process serving from a state, and a catalog edit since (its generation moved)
    previous = serving.serving_state()
    gone = weakref.ref(previous)
    previous_key = previous.key
    del previous
    cache.set(serving.CATALOG_GENERATION_KEY, int(previous_key[0]) + 1, timeout=None)
    settled: list[tuple[object, bool]] = []
    monkeypatch.setattr(
        serving,
        "_settle_memory",
        lambda: settled.append((serving.loaded_generation_key(), gone() is None)),
    )

    # when: the next request rebuilds it
    rebuilt = serving.serving_state()

    # then: the memory was settled once, after the swap, with the previous state freed
    assert rebuilt.key != previous_key
    assert settled == [(rebuilt.key, True)]


def test_an_unchanged_state_is_not_settled_again(monkeypatch):
    serving.serving_state()
    settled: list[object] = []
    monkeypatch.setattr(serving, "_settle_memory", lambda: settled.append(True))

    serving.serving_state()

    assert settled == []
