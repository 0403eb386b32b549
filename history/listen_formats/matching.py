"""Matching keys of imported listens (pure Python: no Django).

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
from functools import lru_cache

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
