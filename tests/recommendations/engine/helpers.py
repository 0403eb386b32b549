"""Small catalogs for the engine tests, built from plain lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from recommendations.engine.data import AUDIO_FEATURES, Catalog

#: A neutral track: every 0–1 feature at 0.5, 120 BPM, -8 dB.
NEUTRAL = dict.fromkeys(AUDIO_FEATURES, 0.5) | {"tempo": 120.0, "loudness": -8.0}


def make_catalog(
    artist: Sequence[int],
    genres: Sequence[Sequence[int]] | None = None,
    features: Sequence[Mapping[str, float]] | None = None,
    play_count: Sequence[int] | None = None,
    n_genres: int | None = None,
    artist_names: Sequence[str] = (),
    genre_names: Sequence[str] = (),
) -> Catalog:
    """A catalog of ``len(artist)`` tracks; ``features[t]`` overrides :data:`NEUTRAL`."""
    n = len(artist)
    genres = genres if genres is not None else [[] for _ in range(n)]
    width = n_genres if n_genres is not None else max([g + 1 for gs in genres for g in gs] or [1])
    rows = [t for t, gs in enumerate(genres) for _ in gs]
    columns = [g for gs in genres for g in gs]
    incidence = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n, width))
    table = np.array(
        [
            [
                (NEUTRAL | dict((features or [{}] * n)[t])).get(name, np.nan)
                for name in AUDIO_FEATURES
            ]
            for t in range(n)
        ],
        dtype=np.float64,
    )
    return Catalog(
        artist=np.asarray(artist),
        genres=incidence,
        features=table,
        play_count=np.asarray(play_count if play_count is not None else [1] * n),
        artist_names=artist_names,
        genre_names=genre_names,
    )
