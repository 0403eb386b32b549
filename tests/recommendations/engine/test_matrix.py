"""The weighted listener × track matrix and the metadata rows, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.engine import matrix
from recommendations.engine.matrix import ConfidenceWeights, MetadataKind


def test_event_weights_per_kind_and_listened_share():
    # given one event of each kind; the second play heard halfway
    kinds = ["play", "play", "skip", "like", "dislike", "add_to_playlist"]
    share = [np.nan, 0.5, np.nan, np.nan, np.nan, np.nan]

    # when
    weights = matrix.event_weights(kinds, share)

    # then: the seed figures, a partial play by its share
    assert weights.tolist() == [1.0, 0.5, -0.5, 2.0, -2.0, 1.5]


def test_a_share_above_one_counts_as_a_full_play():
    assert matrix.event_weights(["play"], [1.7]).tolist() == [1.0]


def test_an_unknown_event_kind_is_refused():
    with pytest.raises(ValueError, match="unknown event kinds"):
        matrix.event_weights(["play", "scrobble"])


def _example(**options: object) -> np.ndarray:
    built = matrix.interaction_matrix(
        n_listeners=2,
        n_tracks=4,
        # listener 0: track 1 played twice and skipped once; track 2 liked; track 3 liked 3×
        # listener 1: track 0 skipped; track 1 played once and disliked
        event_listener=[0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
        event_track=[1, 1, 1, 2, 3, 3, 3, 0, 1, 1],
        event_kind=[
            *("play", "play", "skip", "like", "like", "like", "like"),
            *("skip", "play", "dislike"),
        ],
        # listener 0 also has track 2 in the history
        history_listener=[0],
        history_track=[2],
        **options,
    )
    assert built.dtype == np.float32
    return built.toarray()


def test_interaction_matrix_sums_cells_caps_them_and_drops_negatives():
    # given / when
    cells = _example()

    # then: 1 + 1 - 0.5; like + history = 4; three likes capped at 4; listener 1 has only
    # negative cells (-0.5, 1 - 2), which are dropped
    assert cells.tolist() == [[0.0, 1.5, 4.0, 4.0], [0.0, 0.0, 0.0, 0.0]]


def test_interaction_matrix_keeps_negative_cells_for_als():
    # given / when
    cells = _example(keep_negative=True)

    # then
    assert cells[1].tolist() == [-0.5, -1.0, 0.0, 0.0]


def test_interaction_matrix_with_other_weights():
    # given a larger cap and a stronger skip
    cells = _example(weights=ConfidenceWeights(cap=10.0, skip=-1.0), keep_negative=True)

    # then: 1 + 1 - 1 = 1; like + history = 4; three likes 6
    assert cells[0].tolist() == [0.0, 1.0, 4.0, 6.0]
    assert cells[1].tolist() == [-1.0, -1.0, 0.0, 0.0]


def test_interaction_matrix_refuses_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="one value per event"):
        matrix.interaction_matrix(
            n_listeners=1, n_tracks=2, event_listener=[0], event_track=[0, 1], event_kind=["like"]
        )


def test_metadata_rows_put_the_weight_at_every_track_of_a_group():
    # given tracks 0 and 1 by artist 0, track 2 by artists 1 and 0 (the pair 2–0 listed twice)
    artists = MetadataKind(
        name="artist", track=[0, 1, 2, 2, 2], group=[0, 0, 1, 0, 0], n_groups=2, weight=2.0
    )

    # when
    rows = matrix.metadata_rows(3, artists).toarray()

    # then
    assert rows.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 2.0]]


def test_a_group_index_outside_the_kind_is_refused():
    with pytest.raises(ValueError, match="outside"):
        MetadataKind(name="album", track=[0], group=[3], n_groups=2, weight=2.5)


def _training() -> matrix.TrainingMatrix:
    listeners = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 1.0]])
    artists = MetadataKind(name="artist", track=[0, 1, 2], group=[0, 0, 1], n_groups=2, weight=2)
    genres = MetadataKind(name="genre", track=[0, 2], group=[0, 0], n_groups=1, weight=0.5)
    albums = MetadataKind(name="album", track=[0], group=[0], n_groups=1, weight=0.0)
    return matrix.stack_training_matrix(listeners, [artists, albums, genres])


def test_metadata_rows_are_stacked_under_the_listeners():
    # given two listeners, two artists, one genre, and albums weighted 0
    # when
    training = _training()

    # then: listeners first, then the artist rows, then the genre row; albums left out
    assert training.matrix.toarray().tolist() == [
        [1.0, 0.0, 0.0],
        [0.0, 2.0, 1.0],
        [2.0, 2.0, 0.0],
        [0.0, 0.0, 2.0],
        [0.5, 0.0, 0.5],
    ]
    assert training.blocks == {"listeners": (0, 2), "artist": (2, 4), "genre": (4, 5)}
    assert training.weights == {"artist": 2, "genre": 0.5}
    assert training.listeners.shape == (2, 3)


def test_a_new_track_gets_the_column_of_its_metadata_rows():
    # given two tracks added after training: the first by artist 1 in genre 0, the second by an
    # artist first seen after training (index 5)
    training = _training()
    new_artists = MetadataKind(name="artist", track=[0, 1], group=[1, 5], n_groups=6, weight=9)
    new_genres = MetadataKind(name="genre", track=[0], group=[0], n_groups=1, weight=9)

    # when
    columns = matrix.new_track_columns(training, 2, [new_artists, new_genres])

    # then: the training weights at the training rows; nothing for the unknown artist
    assert columns.shape == (2, 5)
    assert columns.toarray().tolist() == [[0.0, 0.0, 0.0, 2.0, 0.5], [0.0] * 5]
