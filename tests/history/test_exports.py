"""The history part of a listener's data export: entries, the interaction log (streamed),
opinions and listening imports (never the uploaded bytes); only the listener's own."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient
from django.utils import timezone

from accounts.selectors import listener_export
from catalog.models import Track
from history.models import Interaction
from history.services.entries import history_entry_add
from history.services.imports import listen_import_create, listen_import_process
from history.services.interactions import interaction_record
from musicrec.jsonstream import iter_json
from tests.helpers import response_json

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _imported(user, name: str):
    upload = SimpleUploadedFile(name, (FIXTURES / name).read_bytes())
    listen_import = listen_import_create(user=user, file=upload, enqueue=False)
    listen_import_process(import_id=listen_import.pk)
    listen_import.refresh_from_db()
    return listen_import


def test_the_export_holds_the_listeners_imports_without_the_upload(listener):
    # given: one processed import
    done = _imported(listener, "lastfm_header.csv")

    # when
    data = json.loads("".join(iter_json(listener_export(user=listener))))

    # then: what was uploaded and what came of it, never the bytes
    (item,) = data["imports"]
    assert item["id"] == done.pk
    assert item["file_name"] == "lastfm_header.csv"
    assert item["status"] == "done"
    assert (item["listens"], item["matched"], item["created"]) == (
        done.listens,
        done.matched,
        done.created,
    )
    assert item["offered_track_ids"] == list(done.offered_track_ids)
    assert "data" not in item
    assert len(data["interactions"]) == done.created


def test_the_interaction_log_is_an_iterator_written_piece_by_piece(listener):
    track = Track.objects.order_by("id").first()
    for kind in ("play", "skip", "like"):
        interaction_record(user=listener, track_id=track.pk, kind=kind)

    export = listener_export(user=listener)
    chunks = list(iter_json(export, chunk_chars=64))

    assert not isinstance(export["interactions"], list)  # streamed, never a list in memory
    assert len(chunks) > 1
    kinds = [event["kind"] for event in json.loads("".join(chunks))["interactions"]]
    assert sorted(kinds) == ["like", "play", "skip"]


def test_the_export_download_is_streamed_and_holds_only_the_listeners_data(
    listener, listener_api, other_listener
):
    # given: both listeners have a history and events
    track = Track.objects.order_by("id").first()
    for who in (listener, other_listener):
        history_entry_add(user=who, track_id=track.pk)
        interaction_record(user=who, track_id=track.pk, kind="like")
    _imported(other_listener, "lastfm_header.csv")

    # when
    response = listener_api.get("/api/v1/me/export/")

    # then
    assert response.status_code == 200
    assert response.streaming
    data = response_json(response)
    assert data["account"]["username"] == "listener"
    assert len(data["history"]) == 1
    assert len(data["interactions"]) == 1
    assert data["imports"] == []


def test_under_asgi_the_export_streams_from_an_async_iterator(listener):
    # Django would collect a synchronous iterator whole before sending it under ASGI.
    track = Track.objects.order_by("id").first()
    interaction_record(user=listener, track_id=track.pk, kind="play")
    client = AsyncClient()
    client.force_login(listener)

    async def download():
        response = await client.get("/accounts/profile/export/")
        assert response.is_async
        return response.status_code, b"".join([chunk async for chunk in response])

    status, body = async_to_sync(download)()

    assert status == 200
    data = json.loads(body)
    assert data["account"]["username"] == "listener"
    assert [event["kind"] for event in data["interactions"]] == ["play"]


def test_exports_are_rate_limited_per_listener_on_the_page_and_the_api_together(
    listener, listener_api, listener_web, other_api, throttle_rates
):
    throttle_rates(exports="2/hour")

    answers = [
        listener_api.get("/api/v1/me/export/").status_code,
        listener_web.get("/accounts/profile/export/").status_code,
        listener_api.get("/api/v1/me/export/").status_code,
        listener_web.get("/accounts/profile/export/").status_code,
    ]

    assert answers == [200, 200, 429, 429]
    assert other_api.get("/api/v1/me/export/").status_code == 200  # a budget of its own


def test_a_long_log_is_exported_in_batches_in_order(listener, monkeypatch):
    # given: more events than one batch, several at the same instant
    monkeypatch.setattr("history.selectors.exports.EXPORT_BATCH_SIZE", 7)
    track = Track.objects.order_by("id").first()
    instants = [timezone.now() - timedelta(minutes=n // 4) for n in range(20)]
    Interaction.objects.bulk_create(
        Interaction(user=listener, track=track, kind="play", occurred_at=at, listened_ms=n)
        for n, at in enumerate(instants)
    )

    events = list(listener_export(user=listener)["interactions"])

    # then: every event once (ties on the time broken by id), oldest first
    assert sorted(event["listened_ms"] for event in events) == list(range(20))
    assert [event["occurred_at"] for event in events] == sorted(at.isoformat() for at in instants)
