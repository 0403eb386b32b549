"""Content vectors: what a track sounds like and which genres it is in, as one dense vector.

A track's vector is its standardised audio features times :data:`FEATURE_WEIGHTS`, side by side
with its genres (one-hot, scaled to length ``genre_weight``). The artist is not a column (a
one-hot over tens of thousands of artists would not fit densely); the content predictor adds
it as a separate term (:class:`.predictors.ContentPredictor`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import AUDIO_FEATURES, Catalog

FloatArray = npt.NDArray[np.float64]

#: How much each standardised feature weighs in the content vector (a weight ``w`` makes one
#: standard deviation of the feature count ``w`` in distances). Issue #11 says energy, tempo,
#: danceability and valence weigh most; the figures themselves are seeds, not tuned: the issue
#: also reports that audio features add little to accuracy on mpd_subset, so their job is
#: context, radio and explanations, and they should be tuned there.
FEATURE_WEIGHTS: Mapping[str, float] = {
    "energy": 1.5,
    "tempo": 1.5,
    "danceability": 1.5,
    "valence": 1.5,
    "acousticness": 1.0,
    "instrumentalness": 1.0,
    "speechiness": 0.75,
    "loudness": 0.5,
    "liveness": 0.25,  # mostly says "recorded live", little about taste
}

#: Length of the genre block of a vector (seed): a track's genres together weigh like about
#: 1.3 of the heaviest features (√(2²) vs 1.5), so the genre still separates unlike music.
GENRE_WEIGHT = 2.0

#: Width of the genre block of a *stored* content vector: each genre has a fixed pseudo-random
#: unit vector of this many dimensions (derived from its slug), so a track's vector has the same
#: width whatever genres the catalog has, and can be computed for one track when it is saved.
GENRE_DIMENSIONS = 32

#: Width of a stored content vector (the pgvector column's dimensions).
CONTENT_DIMENSIONS = len(AUDIO_FEATURES) + GENRE_DIMENSIONS

#: Words for a track whose standardised feature is far from the catalog's mean, used in
#: reasons ("close to your energetic tracks"): (feature, sign, word).
DESCRIPTORS = (
    ("energy", 1, "energetic"),
    ("energy", -1, "calm"),
    ("valence", 1, "upbeat"),
    ("valence", -1, "melancholic"),
    ("danceability", 1, "danceable"),
    ("acousticness", 1, "acoustic"),
    ("instrumentalness", 1, "instrumental"),
    ("tempo", 1, "fast"),
    ("tempo", -1, "slow"),
)

#: How many standard deviations from the mean a feature must be to describe a track.
DESCRIPTOR_THRESHOLD = 0.75


def standardised_features(features: npt.ArrayLike) -> FloatArray:
    """Each column as z-scores over the catalog (mean 0, standard deviation 1); an unknown
    (NaN) value becomes the mean (0), a constant column 0 throughout."""
    values = np.asarray(features, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    known = (~np.isnan(values)).sum(axis=0)
    mean = np.divide(
        np.nansum(values, axis=0), known, out=np.zeros(values.shape[1]), where=known > 0
    )
    filled = np.where(np.isnan(values), mean, values)
    spread = filled.std(axis=0)
    safe = np.where(spread > 0, spread, 1.0)
    return np.where(spread > 0, (filled - mean) / safe, 0.0)


def content_vectors(
    catalog: Catalog,
    feature_weights: Mapping[str, float] = FEATURE_WEIGHTS,
    genre_weight: float = GENRE_WEIGHT,
) -> FloatArray:
    """The ``n_tracks × (len(AUDIO_FEATURES) + n_genres)`` content vectors (see the module
    docstring). A feature missing from ``feature_weights`` weighs 0; a track without genres
    has a zero genre block."""
    weights = np.array([feature_weights.get(name, 0.0) for name in AUDIO_FEATURES])
    audio = standardised_features(catalog.features) * weights
    genres = sp.csr_matrix(catalog.genres, dtype=np.float64)
    genres.data = np.ones_like(genres.data)
    lengths = np.sqrt(np.asarray(genres.sum(axis=1)).ravel())
    scale = np.divide(genre_weight, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    genre_block = np.asarray((sp.diags(scale) @ genres).toarray())
    return np.asarray(np.hstack([audio, genre_block]), dtype=np.float64)


def describe(standardised: npt.ArrayLike) -> str | None:
    """The word for one track's (or a profile's) most distinctive feature, or None when no
    feature is :data:`DESCRIPTOR_THRESHOLD` standard deviations from the mean. ``standardised``
    is a row of :func:`standardised_features`."""
    row = np.asarray(standardised, dtype=np.float64)
    best: tuple[float, str] | None = None
    for name, sign, word in DESCRIPTORS:
        value = sign * row[AUDIO_FEATURES.index(name)]
        if value >= DESCRIPTOR_THRESHOLD and (best is None or value > best[0]):
            best = (value, word)
    return best[1] if best else None


def unit_rows(vectors: npt.ArrayLike) -> FloatArray:
    """Rows scaled to length 1 (zero rows stay zero): cosine similarity is then a dot."""
    values = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    unit: FloatArray = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    return unit
