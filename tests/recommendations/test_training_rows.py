"""The listener × track rows read for training and for one listener's fold-in."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from history.models import HistoryEntry, Interaction, Opinion
from recommendations.engine.matrix import ConfidenceWeights
from recommendations.selectors.catalog import engine_catalog
from recommendations.selectors.training import listener_rows, listeners_changed_since
from tests.accounts.factories import UserFactory
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db

W = ConfidenceWeights()


def _cell(catalog, rows, ids, user, track) -> float:
    row = ids.tolist().index(user.pk)
    (column,) = catalog.indices([track.pk])
    return float(rows[row, column])


def test_rows_weigh_each_event_kind_and_the_history(listener, other_listener):
    # given
    played, half, skipped, liked, disliked, kept, remembered = (
        TrackFactory(duration_ms=200_000) for _ in range(7)
    )
    Interaction.objects.create(user=listener, track=played, kind="play")
    Interaction.objects.create(user=listener, track=half, kind="play", listened_ms=50_000)
    Interaction.objects.create(user=listener, track=skipped, kind="skip")
    Interaction.objects.create(user=listener, track=kept, kind="add_to_playlist")
    Opinion.objects.create(user=listener, track=liked, value="like")
    Opinion.objects.create(user=listener, track=disliked, value="dislike")
    HistoryEntry.objects.create(user=listener, track=remembered, slot=1)
    Interaction.objects.create(user=other_listener, track=played, kind="play")
    catalog = engine_catalog()

    # when
    ids, rows = listener_rows(engine_catalog=catalog)

    # then
    assert ids.tolist() == sorted([listener.pk, other_listener.pk])
    assert rows.shape == (2, catalog.n_tracks)
    cell = lambda track: _cell(catalog, rows, ids, listener, track)  # noqa: E731
    assert cell(played) == pytest.approx(W.play)
    assert cell(half) == pytest.approx(W.play * 0.25)
    assert cell(skipped) == pytest.approx(W.skip)
    assert cell(kept) == pytest.approx(W.add_to_playlist)
    assert cell(liked) == pytest.approx(W.like)
    assert cell(disliked) == pytest.approx(W.dislike)
    assert cell(remembered) == pytest.approx(W.history)
    assert rows[ids.tolist().index(listener.pk)].nnz == 7
    assert rows[ids.tolist().index(other_listener.pk)].nnz == 1


def test_negative_cells_are_dropped_on_request(listener):
    skipped, played = TrackFactory(), TrackFactory()
    Interaction.objects.create(user=listener, track=skipped, kind="skip")
    Interaction.objects.create(user=listener, track=played, kind="play")
    catalog = engine_catalog()

    _, rows = listener_rows(engine_catalog=catalog, user_ids=[listener.pk], keep_negative=False)

    assert rows.nnz == 1
    assert _cell(catalog, rows, np.array([listener.pk]), listener, played) == pytest.approx(1.0)


def test_like_events_in_the_log_count_through_the_current_opinion_once(listener):
    # the log keeps a like and the later dislike; the opinion says what holds now
    track = TrackFactory()
    Interaction.objects.create(user=listener, track=track, kind="like")
    Interaction.objects.create(user=listener, track=track, kind="dislike")
    Opinion.objects.create(user=listener, track=track, value="dislike")
    catalog = engine_catalog()

    ids, rows = listener_rows(engine_catalog=catalog, user_ids=[listener.pk])

    assert _cell(catalog, rows, ids, listener, track) == pytest.approx(W.dislike)


def test_one_listener_row_in_the_order_asked_and_empty_rows_for_nobody(listener, other_listener):
    track = TrackFactory()
    Interaction.objects.create(user=listener, track=track, kind="play")
    Interaction.objects.create(user=other_listener, track=track, kind="play")
    Interaction.objects.create(user=other_listener, track=track, kind="play")
    silent = UserFactory()
    catalog = engine_catalog()

    ids, rows = listener_rows(
        engine_catalog=catalog, user_ids=[other_listener.pk, silent.pk, listener.pk]
    )

    assert ids.tolist() == [other_listener.pk, silent.pk, listener.pk]
    (column,) = catalog.indices([track.pk])
    assert rows[:, column].toarray().ravel().tolist() == [2.0, 0.0, 1.0]
    assert rows[1].nnz == 0


def test_a_listener_with_nothing_is_not_a_training_row(listener, other_listener):
    Interaction.objects.create(user=listener, track=TrackFactory(), kind="play")

    ids, _ = listener_rows(engine_catalog=engine_catalog())

    assert other_listener.pk not in ids.tolist()
    assert listener.pk in ids.tolist()


def test_listeners_changed_since_a_snapshot(listener, other_listener):
    snapshot = timezone.now()
    track = TrackFactory()
    Interaction.objects.create(
        user=listener, track=track, kind="play", recorded_at=snapshot - dt.timedelta(hours=1)
    )
    Opinion.objects.create(user=other_listener, track=track, value="like")

    assert listeners_changed_since(since=snapshot) == [other_listener.pk]
