"""Fixtures of the recommendations API tests: a fresh serving state, and a count of the lists
the engine computed (the cache's hits are the requests it did not)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from recommendations.selectors import serving
from recommendations.services import lists


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


@dataclass
class EngineCalls:
    calls: list[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)


@pytest.fixture
def engine_calls(monkeypatch) -> EngineCalls:
    """Every call of the engine behind a list (``recommendations_for``), counted; the real one
    answers."""
    counted = EngineCalls()
    real = lists.recommendations_for

    def counting(**kwargs):
        counted.calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(lists, "recommendations_for", counting)
    return counted


@pytest.fixture
def signed_in_api(listener) -> APIClient:
    """The listener's client signed in with a JWT, so each request loads the account afresh
    (``force_authenticate`` would hand every request the same object, stale after a change
    that a request made)."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(listener)}")
    return api
