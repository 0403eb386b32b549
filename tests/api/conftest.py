"""What the API contract tests share: the Django WSGI application called in process, a
signed-in listener with data in every list, and the rate limits lifted.

The application runs in the test's thread, on the test's database connection, inside the
test's transaction: ``close_old_connections`` is disconnected from the request signals for the
test, as Django's own test client does, or the end of the first request would close the
connection in the middle of the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from accounts.models import User
from catalog.models import Artist, Genre, Track
from history.models import ListenImport
from history.services import entries as entry_services
from history.services import imports as import_services
from history.services import interactions as interaction_services
from playlists.services.playlists import playlist_create
from recommendations.services.lists import recommendation_list_serve
from tests.accounts.factories import UserFactory

HISTORY_FIXTURES = Path(__file__).resolve().parent.parent / "history" / "fixtures"
# Far above anything a test sends: the contract is about answers, not about the limits (the
# rate-limit tests hold those; a 429 is documented on every operation that can give one).
LIFTED_RATE = "1000000/minute"


@pytest.fixture
def lifted_rate_limits(monkeypatch, throttle_rates) -> None:
    """Every rate limit lifted: DRF's anonymous and per-user rates (read from
    ``SimpleRateThrottle.THROTTLE_RATES``) and the scoped ones of ``musicrec.throttling``
    (``ScopedRateThrottle.THROTTLE_RATES``, through the shared ``throttle_rates`` fixture)."""
    lifted = dict.fromkeys(ScopedRateThrottle.THROTTLE_RATES, LIFTED_RATE)
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", lifted)
    throttle_rates(**lifted)


@pytest.fixture
def in_process_app(db) -> Iterator[WSGIHandler]:
    """Django's WSGI application, on the test's connection and transaction."""
    from musicrec.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    import_id: int  # an import of the listener's, done
    history_entry_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def bearer(user: User) -> str:
    return str(AccessToken.for_user(user))


@pytest.fixture
def contract_listener(db) -> SignedIn:
    """A listener with something in every list (history, interactions, one answering a served
    list, an import with offered tracks, preferences, demographics, a blocked artist, a private
    and a public playlist), and a JWT access token."""
    user = UserFactory(username="contract", email="contract@example.com")
    tracks = list(Track.objects.order_by("pk").values_list("pk", flat=True)[:3])
    genres = list(Genre.objects.order_by("pk")[:2])
    account_services.listener_demographics_update(
        user=user, values={"age": 30, "country": "FR", "gender": "F", "occupation": "engineer"}
    )
    account_services.listener_preferences_replace(
        user=user, preferred=[genres[0].pk], disliked=[genres[1].pk]
    )
    entry = None
    for track_id in tracks:
        entry = entry_services.history_entry_add(user=user, track_id=track_id).entry
    interaction_services.interaction_record(user=user, track_id=tracks[0], kind="play")
    served = recommendation_list_serve(user=user, n=3)
    interaction_services.interaction_record(
        user=user, track_id=tracks[1], kind="like", impression_id=served.impression_id
    )
    account_services.artist_block(
        user=user, artist_id=Artist.objects.order_by("-pk").values_list("pk", flat=True)[0]
    )
    playlist_create(owner=user, name="Contract mix", track_ids=tracks)
    playlist_create(owner=user, name="Contract public", is_public=True, track_ids=tracks[:1])
    upload = SimpleUploadedFile(
        "lastfm_header.csv", (HISTORY_FIXTURES / "lastfm_header.csv").read_bytes()
    )
    listen_import = import_services.listen_import_create(user=user, file=upload, enqueue=False)
    import_services.listen_import_process(import_id=listen_import.pk)
    assert ListenImport.objects.get(pk=listen_import.pk).status == "done"
    assert entry is not None
    return SignedIn(
        user=user, token=bearer(user), import_id=listen_import.pk, history_entry_id=entry.pk
    )
