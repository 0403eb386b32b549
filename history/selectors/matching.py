"""The catalog side of matching imported listens: every track's keys, loaded once per import.

See ``history.listen_formats.matching`` for how a key is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog.models import Track, TrackArtist
from history.listen_formats.matching import listen_key, normalise


@dataclass
class CatalogIndex:
    """What matching needs from the catalog, loaded once per import."""

    by_key: dict[str, int] = field(default_factory=dict)
    by_spotify_id: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, *, spotify_ids: Iterable[str] = ()) -> CatalogIndex:
        """Keys of every catalog track (two queries) and the tracks of the given Spotify ids."""
        index = cls()
        artists: dict[int, list[str]] = {}
        for track_id, name in (
            TrackArtist.objects.order_by("track_id", "position")
            .values_list("track_id", "artist__name")
            .iterator(chunk_size=20_000)
        ):
            artists.setdefault(track_id, []).append(name)
        # most popular first, so that setdefault keeps the most popular track of a key
        for track_id, title in (
            Track.objects.order_by("-popularity", "id")
            .values_list("id", "title")
            .iterator(chunk_size=20_000)
        ):
            names = artists.get(track_id, [])
            title_key = normalise(title, is_title=True)
            credits = [*names, ", ".join(names), " & ".join(names)] if len(names) > 1 else names
            for name in credits:
                index.by_key.setdefault(f"{normalise(name)}\x1f{title_key}", track_id)
        index.load_spotify_ids(spotify_ids=spotify_ids)
        return index

    def load_spotify_ids(self, *, spotify_ids: Iterable[str]) -> None:
        """Add the catalog tracks of these Spotify ids (10,000 ids per query)."""
        wanted = sorted({spotify_id for spotify_id in spotify_ids if spotify_id})
        for start in range(0, len(wanted), 10_000):
            self.by_spotify_id.update(
                Track.objects.filter(spotify_id__in=wanted[start : start + 10_000]).values_list(
                    "spotify_id", "id"
                )
            )

    def match_name(self, *, artist: str, title: str) -> int | None:
        """The track of this artist and title (by the normalised key), if the catalog has it."""
        return self.by_key.get(listen_key(artist, title))

    def match(self, *, artist: str, title: str, spotify_id: str = "") -> int | None:
        if spotify_id:
            track_id = self.by_spotify_id.get(spotify_id)
            if track_id is not None:
                return track_id
        return self.by_key.get(listen_key(artist, title))
