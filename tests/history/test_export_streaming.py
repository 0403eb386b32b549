"""The data export streams the interaction log (musicrec/jsonstream.py,
history/selectors/exports.py): what the process holds does not grow with the log."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from django.db import connection

from catalog.models import Track
from history.models import Interaction

pytestmark = pytest.mark.django_db

EVENTS = 50_000


def _log_of(user, count: int) -> None:
    """``count`` plays for ``user`` in one INSERT … SELECT generate_series."""
    track_ids = list(Track.objects.order_by("id").values_list("id", flat=True)[:100])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Interaction._meta.db_table}
                (user_id, track_id, kind, occurred_at, recorded_at, listened_ms, mood, activity)
            SELECT %s, (%s::bigint[])[1 + n %% %s], 'play',
                now() - n * interval '1 minute', now(), 180000, 'happy', 'focus'
            FROM generate_series(1, %s) AS n
            """,
            [user.pk, track_ids, len(track_ids), count],
        )


def test_the_export_of_a_long_log_streams_in_memory_well_under_its_size(listener, listener_api):
    # given a listener with 50,000 interactions
    _log_of(listener, EVENTS)
    # when the export is downloaded and read chunk by chunk
    response = listener_api.get("/api/v1/me/export/")
    assert response.status_code == 200
    assert response.streaming
    size = 0
    first = b""
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            size += len(chunk)
            first = first or bytes(chunk[:200])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # then the body is large, and the process never held more than a small part of it
    print(f"\nexport of {EVENTS} events: {size / 2**20:.1f} MB body, peak {peak / 2**20:.1f} MB")
    assert size > 8 * 2**20
    assert peak < size / 4
    assert first.startswith(b"{")


def test_the_streamed_export_holds_every_event(listener, listener_api):
    _log_of(listener, 3_000)  # more than one batch of the server-side cursor (2,000)

    export = json.loads(b"".join(listener_api.get("/api/v1/me/export/").streaming_content))

    assert len(export["interactions"]) == 3_000
    times = [event["occurred_at"] for event in export["interactions"]]
    assert times == sorted(times)
