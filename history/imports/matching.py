"""Matching imported listens to catalog tracks.

First by Spotify track id when the export has one and the catalog holds it; otherwise by a
normalised ``artist + title`` key: case and accents folded, punctuation dropped, "feat."/"ft."
parts and "- Remastered 2009" / "(Remastered)" / "[2011 Remaster]" suffixes removed. The catalog
side of the key is built once per import (``CatalogIndex.load``), never per listen; every
artist of a track (and all of them together) makes a key, so "Calle 13" and
"Calle 13, Silvio Rodríguez" both find a track credited to both. When several catalog tracks
share a key (a song on an album and a compilation) the most popular wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from catalog.models import Track, TrackArtist

_FEAT_PAREN = re.compile(r"[\(\[]\s*(?:feat|ft|featuring|with)\b[^\)\]]*[\)\]]", re.IGNORECASE)
_FEAT_TAIL = re.compile(r"\s+(?:feat|ft|featuring)\b\.?.*$", re.IGNORECASE)
_REMASTER_PAREN = re.compile(r"[\(\[][^\)\]]*\bremaster(?:ed)?\b[^\)\]]*[\)\]]", re.IGNORECASE)
_REMASTER_TAIL = re.compile(r"\s+[-–—]\s+[^-–—]*\bremaster(?:ed)?\b.*$", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def normalise(text: str, *, is_title: bool = False) -> str:
    """The comparable form of an artist name or a title."""
    text = _FEAT_PAREN.sub(" ", text)
    text = _FEAT_TAIL.sub("", text)
    if is_title:
        text = _REMASTER_PAREN.sub(" ", text)
        text = _REMASTER_TAIL.sub("", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = text.replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def listen_key(artist: str, title: str) -> str:
    return f"{normalise(artist)}\x1f{normalise(title, is_title=True)}"


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
        wanted = sorted({spotify_id for spotify_id in spotify_ids if spotify_id})
        for start in range(0, len(wanted), 10_000):
            index.by_spotify_id.update(
                Track.objects.filter(spotify_id__in=wanted[start : start + 10_000]).values_list(
                    "spotify_id", "id"
                )
            )
        return index

    def match(self, *, artist: str, title: str, spotify_id: str = "") -> int | None:
        if spotify_id:
            track_id = self.by_spotify_id.get(spotify_id)
            if track_id is not None:
                return track_id
        return self.by_key.get(listen_key(artist, title))
