"""Exportify's CSV layout for the tests, written here: its header (a format fact) and rows we
make up. The real sample in ``../shared/datasets/user-exports/`` is personal data without a
licence ("use as test inputs; do not republish"), so it is read in place when it is there and
never copied into the project; a test that needs it skips without it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import pytest

HEADER = [
    "Track URI", "Track Name", "Album Name", "Artist Name(s)", "Release Date", "Duration (ms)",
    "Popularity", "Explicit", "Added By", "Added At", "Genres", "Record Label", "Danceability",
    "Energy", "Key", "Loudness", "Mode", "Speechiness", "Acousticness", "Instrumentalness",
    "Liveness", "Valence", "Tempo", "Time Signature",
]  # fmt: skip

SHARED_SAMPLE = (
    Path(__file__).resolve().parents[3]
    / "shared/datasets/user-exports/exportify_liked_songs.sample.csv"
)


def exportify_csv(rows: Iterable[tuple[str, str, str, list[str], int]]) -> bytes:
    """An Exportify file (UTF-8 with a BOM, artists joined by ";") of (Spotify id or "", title,
    album, artists, duration ms) rows; the other columns filled as Exportify fills them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for spotify_id, title, album, artists, duration_ms in rows:
        uri = f"spotify:track:{spotify_id}" if spotify_id else ""
        writer.writerow(
            [uri, title, album, ";".join(artists), "2026-01-23", duration_ms, 56, "true", "",
             "2026-06-01T20:18:27Z", "", "A Label", 0.713, 0.933, 11, -4.131, 1, 0.196, 0.058,
             0, 0.197, 0.573, 85.957, 4]
        )  # fmt: skip
    return "\ufeff".encode() + out.getvalue().encode()


def shared_sample() -> Path:
    """The real Exportify sample, or a skip when this checkout has no shared datasets beside it."""
    if not SHARED_SAMPLE.is_file():
        pytest.skip(f"the shared Exportify sample is not at {SHARED_SAMPLE}")
    return SHARED_SAMPLE
