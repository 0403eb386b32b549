"""Tracks similar to one track: what ``GET /api/v1/tracks/{id}/similar/`` and the track page show.

Two sources of neighbours, merged:

- **content**: the nearest content vectors in pgvector (``TrackContent``: standardised audio
  features and genres, HNSW cosine), which every track has from the moment it is saved, so this
  works before any model is trained and for tracks nobody has played;
- **collaborative**: the nearest track vectors of the active model (ALS factors: tracks the
  same listeners play), queried with the track's own vector; none before the first training or
  for a track without a vector.

Each source's score of a neighbour is its cosine similarity clipped to [0, 1] (``1 - distance``);
a neighbour's score is the mean over the sources that answered, with 0 for a source that did not
propose it: a track both sources find ranks above one only one finds at the same similarity.
Each source that proposed a neighbour gives a reason ("Sounds alike: energetic, danceable",
"Listeners who play Around the World also play this"). The track itself is never among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from accounts.models import ArtistBlock, User
from catalog.models import Track, TrackArtist
from catalog.selectors import track_get
from history.models import Opinion
from recommendations.engine.content import (
    DESCRIPTOR_THRESHOLD,
    DESCRIPTORS,
    FEATURE_WEIGHTS,
)
from recommendations.engine.data import AUDIO_FEATURES
from recommendations.models import TrackContent
from recommendations.selectors.vectors import (
    Neighbour,
    active_model_version_id,
    nearest_tracks,
    similar_tracks_by_content,
    track_vectors,
)

#: ``?n=`` of the endpoint: default and most.
SIMILAR_DEFAULT = 10
SIMILAR_MAX = 50

#: Neighbours asked of each source per result wanted: the two lists overlap only in part, so
#: each is asked for more than ``n`` for the merge to rank the best ``n`` of both.
OVERFETCH = 2

#: Sources and the words of their reasons.
CONTENT = "content"
COLLABORATIVE = "collaborative"

#: Descriptors a "sounds alike" reason names at most.
REASON_WORDS = 2


@dataclass(frozen=True)
class SimilarTrack:
    """One neighbour: the track (album, credits and genres loaded), its place, its ``score`` in
    [0, 1], each source's score, and the reasons as ``{"kind", "source", "text"}``."""

    track: Track
    position: int
    score: float
    sources: dict[str, float]
    reasons: list[dict[str, str]]


@dataclass(frozen=True)
class SimilarTracks:
    """The track asked about, the model version the collaborative neighbours come from (None:
    content only), the sources that answered, and the neighbours, best first."""

    track: Track
    model_version_id: int | None
    sources: list[str]
    items: list[SimilarTrack]

    # iterating gives the neighbours (the track page lists them: recommendation_tags)
    def __iter__(self) -> Iterator[SimilarTrack]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _similarity(neighbours: list[Neighbour]) -> dict[int, float]:
    return {n.id: float(min(max(1.0 - n.distance, 0.0), 1.0)) for n in neighbours}


def _collaborative(*, track_id: int, k: int) -> tuple[int | None, list[Neighbour]]:
    """The active version and the track's neighbours in it; a version swapped in between the
    two reads (its vectors then deleted) is resolved again once."""
    for _ in range(2):
        version = active_model_version_id()
        if version is None:
            return None, []
        vector = track_vectors(track_ids=[track_id], model_version_id=version).get(track_id)
        if vector is not None:
            return version, nearest_tracks(
                vector=vector, k=k, model_version_id=version, exclude=[track_id]
            )
        if active_model_version_id() == version:  # the track has no vector in this model
            return version, []
    return None, []


def _content_vectors(track_ids: list[int]) -> dict[int, npt.NDArray[np.float64]]:
    """The stored content vectors of these tracks (one query; ``real[]``, no text parsing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT track_id, vector::real[] FROM {TrackContent._meta.db_table}"
            " WHERE track_id = ANY(%s)",
            [track_ids],
        )
        return {int(i): np.asarray(v, dtype=np.float64) for i, v in cursor.fetchall()}


_WEIGHTS = np.array([FEATURE_WEIGHTS.get(name, 0.0) for name in AUDIO_FEATURES])


def _standardised(vector: npt.ArrayLike) -> npt.NDArray[np.float64]:
    audio = np.asarray(vector, dtype=np.float64)[: len(AUDIO_FEATURES)]
    standardised: npt.NDArray[np.float64] = np.divide(
        audio, _WEIGHTS, out=np.zeros_like(audio), where=_WEIGHTS > 0
    )
    return standardised


def shared_descriptors(
    first: npt.ArrayLike, second: npt.ArrayLike, *, most: int = REASON_WORDS
) -> list[str]:
    """The words (``engine.content.DESCRIPTORS``) that describe both tracks, given their stored
    content vectors (the audio block is the standardised features times ``FEATURE_WEIGHTS``),
    strongest shared first: a word counts when both tracks are at least
    ``DESCRIPTOR_THRESHOLD`` standard deviations that way."""
    a, b = (_standardised(vector) for vector in (first, second))
    shared: list[tuple[float, str]] = []
    for name, sign, word in DESCRIPTORS:
        at = AUDIO_FEATURES.index(name)
        weakest = min(sign * a[at], sign * b[at])
        if weakest >= DESCRIPTOR_THRESHOLD:
            shared.append((weakest, word))
    return [word for _, word in sorted(shared, key=lambda pair: -pair[0])[:most]]


def _content_reason(words: list[str], genre: str | None) -> str:
    if words:
        return "Sounds alike: " + ", ".join(words)
    if genre:
        return f"Sounds alike: both {genre}"
    return "Sounds alike"


def _unwanted(*, user: User, track_ids: set[int]) -> set[int]:
    """Those of ``track_ids`` the listener disliked or whose credited artists they blocked."""
    blocked = ArtistBlock.objects.filter(user=user).values("artist_id")
    by_blocked = TrackArtist.objects.filter(
        track_id__in=track_ids, artist_id__in=blocked
    ).values_list("track_id", flat=True)
    disliked = Opinion.objects.filter(
        user=user, track_id__in=track_ids, value=Opinion.Value.DISLIKE
    ).values_list("track_id", flat=True)
    return set(by_blocked) | set(disliked)


def similar_tracks(
    *, track_id: int, n: int = SIMILAR_DEFAULT, user: User | None = None
) -> SimilarTracks:
    """Up to ``n`` (1–:data:`SIMILAR_MAX`) tracks most like ``track_id``, best first, the track
    itself left out (see the module docstring). An unknown track is an ``ApplicationError``
    404 (``not_found``). About five queries: the track, two nearest-neighbour searches (one
    before the first training), the neighbours' content vectors and their rows. For a
    signed-in ``user`` (two queries more), tracks of artists they blocked and tracks they
    disliked are left out: a blocked artist never comes back anywhere."""
    if not 1 <= n <= SIMILAR_MAX:
        raise ValueError(f"n must be between 1 and {SIMILAR_MAX}")
    track = track_get(track_id=track_id)
    k = OVERFETCH * n
    by_source: dict[str, dict[int, float]] = {}
    content = _similarity(similar_tracks_by_content(track_id=track.pk, k=k))
    if content:
        by_source[CONTENT] = content
    version, collaborative_neighbours = _collaborative(track_id=track.pk, k=k)
    collaborative = _similarity(collaborative_neighbours)
    if collaborative:
        by_source[COLLABORATIVE] = collaborative
    candidates = {i for scores in by_source.values() for i in scores} - {track.pk}
    if user is not None and user.is_authenticated and candidates:
        candidates -= _unwanted(user=user, track_ids=candidates)
    ranked = sorted(
        candidates,
        key=lambda i: (-sum(s.get(i, 0.0) for s in by_source.values()) / len(by_source), i),
    )
    # vectors go with their track (cascade): only one deleted meanwhile is missing
    tracks = Track.objects.with_related().in_bulk(ranked[:n])
    chosen = [i for i in ranked[:n] if i in tracks]
    vectors = _content_vectors([track.pk, *chosen]) if CONTENT in by_source else {}
    own_vector = vectors.get(track.pk)
    own_genres = {genre.pk: genre.name for genre in track.genres.all()}
    items: list[SimilarTrack] = []
    for i in chosen:
        neighbour = tracks[i]
        sources = {name: scores.get(i, 0.0) for name, scores in by_source.items()}
        reasons: list[dict[str, str]] = []
        for name in sorted(sources, key=lambda name: -sources[name]):
            if sources[name] <= 0:
                continue
            if name == CONTENT:
                words = (
                    shared_descriptors(own_vector, vectors[i])
                    if own_vector is not None and i in vectors
                    else []
                )
                genre = next(
                    (own_genres[g.pk] for g in neighbour.genres.all() if g.pk in own_genres), None
                )
                reasons.append(
                    {"kind": "sounds_alike", "source": name, "text": _content_reason(words, genre)}
                )
            else:
                reasons.append(
                    {
                        "kind": "played_together",
                        "source": name,
                        "text": f"Listeners who play {track.title} also play this",
                    }
                )
        items.append(
            SimilarTrack(
                track=neighbour,
                position=len(items) + 1,
                score=sum(sources.values()) / len(sources),
                sources=sources,
                reasons=reasons,
            )
        )
    return SimilarTracks(
        track=track,
        model_version_id=version if COLLABORATIVE in by_source else None,
        sources=list(by_source),
        items=items,
    )
