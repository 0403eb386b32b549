"""Content vectors: what a track sounds like and which genres it is in, as one dense vector.

A track's vector is its standardised audio features times :data:`FEATURE_WEIGHTS`, side by side
with its genres (one-hot, scaled to length ``genre_weight``). The artist is not a column (a
one-hot over tens of thousands of artists would not fit densely); the content predictor adds
it as a separate term (:class:`.predictors.ContentPredictor`).

Two forms: :func:`content_vectors` for a whole in-memory catalog (one column per genre: the
content predictor), and :func:`stored_content_vectors` for what pgvector keeps per track
(``recommendations.TrackContent``): standardised with the catalog's :class:`FeatureStatistics`
given from outside, and each genre a fixed pseudo-random direction (:func:`genre_vector`), so
one track saved in the admin is embedded alone, in the same space as the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class FeatureStatistics:
    """The catalog's mean and spread of each audio feature (in :data:`AUDIO_FEATURES` order),
    the statistics a stored content vector is standardised with.

    ``mean`` is over the known values; ``std`` is the spread once unknown values are filled
    with the mean (what :func:`standardised_features` divides by): the population standard
    deviation of the known values times ``sqrt(known / n)``. A feature with no known value has
    mean 0 and spread 0 (its z-scores are 0 throughout)."""

    mean: FloatArray
    std: FloatArray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64).ravel()
        std = np.asarray(self.std, dtype=np.float64).ravel()
        if mean.shape != std.shape:
            raise ValueError("mean and std need one value per feature each")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)


def feature_statistics(features: npt.ArrayLike) -> FeatureStatistics:
    """The :class:`FeatureStatistics` of an ``n × features`` array (NaN = unknown)."""
    values = np.atleast_2d(np.asarray(features, dtype=np.float64))
    known = (~np.isnan(values)).sum(axis=0)
    mean = np.divide(
        np.nansum(values, axis=0), known, out=np.zeros(values.shape[1]), where=known > 0
    )
    filled = np.where(np.isnan(values), mean, values)
    std = filled.std(axis=0) if len(values) else np.zeros(values.shape[1])
    return FeatureStatistics(mean=mean, std=std)


def standardise(features: npt.ArrayLike, statistics: FeatureStatistics) -> FloatArray:
    """Z-scores of raw features with given statistics: ``(x - mean) / std``; an unknown (NaN)
    value is 0 (the mean), a feature whose spread is 0 is 0 throughout."""
    values = np.atleast_2d(np.asarray(features, dtype=np.float64))
    if values.shape[1] != len(statistics.mean):
        raise ValueError(f"{values.shape[1]} features, statistics of {len(statistics.mean)}")
    spread = statistics.std
    safe = np.where(spread > 0, spread, 1.0)
    z = np.where(spread > 0, (values - statistics.mean) / safe, 0.0)
    return np.where(np.isnan(z), 0.0, z)


def standardised_features(features: npt.ArrayLike) -> FloatArray:
    """Each column as z-scores over the catalog (mean 0, standard deviation 1); an unknown
    (NaN) value becomes the mean (0), a constant column 0 throughout."""
    values = np.asarray(features, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    return standardise(values, feature_statistics(values))


def content_vectors(
    catalog: Catalog,
    feature_weights: Mapping[str, float] = FEATURE_WEIGHTS,
    genre_weight: float = GENRE_WEIGHT,
) -> FloatArray:
    """The ``n_tracks × (len(AUDIO_FEATURES) + n_genres)`` content vectors (see the module
    docstring). A feature missing from ``feature_weights`` weighs 0; a track without genres
    has a zero genre block."""
    audio = standardised_features(catalog.features) * _feature_weight_row(feature_weights)
    genres = sp.csr_matrix(catalog.genres, dtype=np.float64)
    genres.data = np.ones_like(genres.data)
    lengths = np.sqrt(np.asarray(genres.sum(axis=1)).ravel())
    scale = np.divide(genre_weight, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    genre_block = np.asarray((sp.diags(scale) @ genres).toarray())
    return np.asarray(np.hstack([audio, genre_block]), dtype=np.float64)


def _feature_weight_row(feature_weights: Mapping[str, float]) -> FloatArray:
    return np.array([feature_weights.get(name, 0.0) for name in AUDIO_FEATURES])


def genre_vector(slug: str) -> FloatArray:
    """The fixed unit vector (:data:`GENRE_DIMENSIONS` wide) of the genre with this slug.

    Derived from SHAKE-256 of the slug's UTF-8 bytes (not Python's ``hash()``, which differs
    between processes): the digest's 64-bit words become uniform numbers, Box–Muller turns
    pairs of them into normal ones, and the result is scaled to length 1. So the direction is
    uniformly random over the sphere, the same in every process, Python and NumPy version, and
    two genres are nearly orthogonal (cosine about ±0.18 at 32 dimensions)."""
    if GENRE_DIMENSIONS % 2:
        raise ValueError("GENRE_DIMENSIONS must be even (Box–Muller makes pairs)")
    digest = hashlib.shake_256(slug.encode("utf-8")).digest(8 * GENRE_DIMENSIONS)
    words = np.frombuffer(digest, dtype="<u8").astype(np.float64)
    uniform = (words + 0.5) / 2.0**64  # in (0, 1): log() below is finite
    first, second = uniform[0::2], uniform[1::2]
    radius = np.sqrt(-2.0 * np.log(first))
    normal = np.empty(GENRE_DIMENSIONS)
    normal[0::2] = radius * np.cos(2 * np.pi * second)
    normal[1::2] = radius * np.sin(2 * np.pi * second)
    vector: FloatArray = normal / np.linalg.norm(normal)
    return vector


def stored_content_vectors(
    features: npt.ArrayLike,
    genre_slugs_per_track: Sequence[Sequence[str]],
    statistics: FeatureStatistics,
    feature_weights: Mapping[str, float] = FEATURE_WEIGHTS,
    genre_weight: float = GENRE_WEIGHT,
) -> FloatArray:
    """The stored (pgvector) content vectors of some tracks: ``n × CONTENT_DIMENSIONS``.

    ``features``: the tracks' raw audio features (``n × len(AUDIO_FEATURES)``, NaN unknown),
    standardised with the GIVEN catalog ``statistics`` (so one track can be embedded alone and
    agree with the rest), times ``feature_weights``: the same audio block as
    :func:`content_vectors` computes for the whole catalog. The genre block is the sum of the
    track's genres' :func:`genre_vector` scaled to length ``genre_weight`` (zero without a
    genre): where :func:`content_vectors` gives each genre its own column, a stored vector has
    a fixed width whatever genres the catalog has."""
    values = np.asarray(features, dtype=np.float64).reshape(-1, len(AUDIO_FEATURES))
    if len(genre_slugs_per_track) != len(values):
        raise ValueError("genre_slugs_per_track needs one entry per track")
    audio = standardise(values, statistics) * _feature_weight_row(feature_weights)
    cache: dict[str, FloatArray] = {}
    genre_block = np.zeros((len(values), GENRE_DIMENSIONS))
    for row, slugs in enumerate(genre_slugs_per_track):
        for slug in dict.fromkeys(slugs):  # a genre listed twice counts once
            if slug not in cache:
                cache[slug] = genre_vector(slug)
            genre_block[row] += cache[slug]
    lengths = np.linalg.norm(genre_block, axis=1, keepdims=True)
    genre_block = np.divide(
        genre_block * genre_weight, lengths, out=np.zeros_like(genre_block), where=lengths > 0
    )
    return np.asarray(np.hstack([audio, genre_block]), dtype=np.float64)


def catalog_content_vectors(
    features: npt.ArrayLike,
    genres: sp.spmatrix,
    genre_slugs: Sequence[str],
    statistics: FeatureStatistics,
    feature_weights: Mapping[str, float] = FEATURE_WEIGHTS,
    genre_weight: float = GENRE_WEIGHT,
) -> npt.NDArray[np.float32]:
    """:func:`stored_content_vectors` of a whole catalog at once, in float32 (as pgvector
    stores them): ``genres`` is the ``n × G`` track × genre membership matrix, ``genre_slugs``
    each genre column's slug. The genre blocks are one sparse product (each track's distinct
    genres' :func:`genre_vector` summed) instead of a Python loop over the tracks."""
    values = np.asarray(features, dtype=np.float64).reshape(-1, len(AUDIO_FEATURES))
    membership = sp.csr_matrix(genres, dtype=np.float32)
    if membership.shape != (len(values), len(genre_slugs)):
        raise ValueError("genres needs one row per track and one column per genre slug")
    membership.data = np.ones_like(membership.data)  # a genre listed twice counts once
    out = np.empty((len(values), len(AUDIO_FEATURES) + GENRE_DIMENSIONS), dtype=np.float32)
    out[:, : len(AUDIO_FEATURES)] = standardise(values, statistics) * _feature_weight_row(
        feature_weights
    )
    table = np.array([genre_vector(slug) for slug in genre_slugs], dtype=np.float64).reshape(
        len(genre_slugs), GENRE_DIMENSIONS
    )
    block = np.asarray(membership @ table.astype(np.float32), dtype=np.float32)
    lengths = np.linalg.norm(block, axis=1, keepdims=True)
    np.divide(block * np.float32(genre_weight), lengths, out=block, where=lengths > 0)
    out[:, len(AUDIO_FEATURES) :] = block
    return out


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


def unit_rows(vectors: npt.ArrayLike, dtype: type[np.floating[Any]] = np.float64) -> FloatArray:
    """Rows scaled to length 1 (zero rows stay zero): cosine similarity is then a dot.
    ``dtype`` of the result (float32 halves a large matrix)."""
    values = np.asarray(vectors, dtype=dtype)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    unit: FloatArray = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    return unit
