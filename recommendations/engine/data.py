"""What the predictors and the ensemble read: the catalog's per-track arrays and one listener's
profile, all in the engine's index spaces (tracks ``0 .. n_tracks - 1``, artists and genres
``0 .. n - 1``; the Django side maps ids to them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .matrix import ConfidenceWeights

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The audio features the engine reads, in the column order of :attr:`Catalog.features`
#: (SPEC §4; raw values: 0–1 except tempo in BPM and loudness in dB; NaN when unknown).
AUDIO_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "tempo",
    "loudness",
)

#: Age bands of the demographic cohorts: (lowest age, label); SPEC §3 allows ages 13–100.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (13, "13–17"),
    (18, "18–24"),
    (25, "25–34"),
    (35, "35–44"),
    (45, "45–54"),
    (55, "55–64"),
    (65, "65+"),
)


def age_band(age: int | None) -> str | None:
    """The cohort label of an age (``23`` → ``"18–24"``); ``None`` for no age or under 13."""
    if age is None:
        return None
    label = None
    for lowest, name in AGE_BANDS:
        if age >= lowest:
            label = name
    return label


def _ints(values: npt.ArrayLike) -> IntArray:
    return np.asarray(values, dtype=np.int64).ravel()


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Catalog:
    """Per-track arrays, one row per track.

    - ``artist``: the track's first credited artist (-1 unknown): the artist of reasons and of
      the "no more than 3 in a row" rule.
    - ``genres``: ``n_tracks × n_genres`` CSR, non-zero where the track has the genre.
    - ``features``: ``n_tracks × len(AUDIO_FEATURES)`` raw audio features, NaN when unknown.
    - ``play_count``: listeners who played or liked the track in the training data; 0 is "new
      in the catalog" for reasons.
    - ``artist_names``, ``genre_names``: for reason texts (indexed like the arrays); may be
      empty when only structured reasons are wanted.
    """

    artist: IntArray
    genres: sp.csr_matrix
    features: FloatArray
    play_count: IntArray
    artist_names: Sequence[str] = ()
    genre_names: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "artist", _ints(self.artist))
        object.__setattr__(self, "play_count", _ints(self.play_count))
        object.__setattr__(self, "genres", sp.csr_matrix(self.genres, dtype=np.float64))
        object.__setattr__(self, "features", np.asarray(self.features, dtype=np.float64))
        n = len(self.artist)
        if self.genres.shape[0] != n or len(self.features) != n or len(self.play_count) != n:
            raise ValueError("artist, genres, features and play_count need one row per track")
        if self.features.shape[1] != len(AUDIO_FEATURES):
            raise ValueError(f"features need {len(AUDIO_FEATURES)} columns: {AUDIO_FEATURES}")

    @property
    def n_tracks(self) -> int:
        return len(self.artist)

    @property
    def n_genres(self) -> int:
        return int(self.genres.shape[1])

    def feature(self, name: str) -> FloatArray:
        return self.features[:, AUDIO_FEATURES.index(name)]


@dataclass(frozen=True)
class Demographics:
    """The listener's cohort keys (SPEC §3), each optional: ``age_band`` is a label of
    :data:`AGE_BANDS` (see :func:`age_band`), ``country`` ISO alpha-2, ``gender`` and
    ``occupation`` the stored codes."""

    age_band: str | None = None
    country: str | None = None
    gender: str | None = None
    occupation: str | None = None

    def get(self, field_name: str) -> str | None:
        value = getattr(self, field_name)
        return None if value in (None, "") else str(value)

    @property
    def known(self) -> int:
        """How many of the four are set."""
        return sum(self.get(name) is not None for name in DEMOGRAPHIC_FIELDS)


DEMOGRAPHIC_FIELDS = ("age_band", "country", "gender", "occupation")


@dataclass(frozen=True)
class ListenerProfile:
    """Everything known about one listener, as track/genre/artist index arrays.

    - ``history``: the 50-slot history; ``liked`` / ``disliked``: the listener's opinions;
    - ``interactions``: their ``1 × n_tracks`` confidence row
      (:func:`.matrix.interaction_matrix` over their events *and* history, negative cells
      kept or not); ``None`` builds it from ``history`` and ``liked`` with ``weights``;
    - ``skipped_recently``: tracks skipped in the last 24 hours;
    - ``preferred_genres``, ``disliked_genres``, ``blocked_artists``;
    - ``demographics``; ``mood`` and ``activity``: the listening context (SPEC §3), or None;
    - ``discovery``: 0 familiar … 1 new, 0.5 neutral (:func:`.ranking.rerank_for_discovery`).
    """

    history: IntArray = field(default_factory=_empty)
    liked: IntArray = field(default_factory=_empty)
    disliked: IntArray = field(default_factory=_empty)
    skipped_recently: IntArray = field(default_factory=_empty)
    preferred_genres: IntArray = field(default_factory=_empty)
    disliked_genres: IntArray = field(default_factory=_empty)
    blocked_artists: IntArray = field(default_factory=_empty)
    interactions: sp.csr_matrix | None = None
    demographics: Demographics = field(default_factory=Demographics)
    mood: str | None = None
    activity: str | None = None
    discovery: float = 0.5
    weights: ConfidenceWeights = field(default_factory=ConfidenceWeights)

    def __post_init__(self) -> None:
        for name in (
            "history",
            "liked",
            "disliked",
            "skipped_recently",
            "preferred_genres",
            "disliked_genres",
            "blocked_artists",
        ):
            object.__setattr__(self, name, _ints(getattr(self, name)))
        if not 0.0 <= self.discovery <= 1.0:  # NaN fails too
            raise ValueError(f"discovery must be from 0 to 1, not {self.discovery!r}")

    def row(self, n_tracks: int) -> sp.csr_matrix:
        """The listener's confidence row over ``n_tracks`` (see ``interactions``)."""
        if self.interactions is not None:
            row = sp.csr_matrix(self.interactions, dtype=np.float32)
            if row.shape != (1, n_tracks):
                raise ValueError(f"interactions must be 1 × {n_tracks}, not {row.shape}")
            return row
        values = np.zeros(n_tracks, dtype=np.float64)
        np.add.at(values, self.history, self.weights.history)
        np.add.at(values, self.liked, self.weights.like)
        values = np.minimum(values, self.weights.cap)
        return sp.csr_matrix(values[None, :], dtype=np.float32)

    def known_tracks(self) -> IntArray:
        """Tracks the listener already has an opinion of: history, liked, disliked."""
        return np.unique(np.concatenate([self.history, self.liked, self.disliked]))

    def positive_tracks(self, n_tracks: int) -> IntArray:
        """Distinct tracks with a positive signal (the row's positive cells)."""
        row = self.row(n_tracks)
        return np.asarray(row.indices[row.data > 0], dtype=np.int64)
