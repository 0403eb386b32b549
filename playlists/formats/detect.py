"""Which format a file is, and the one entry point of each direction.

The content decides when it can: JSON (``{``) is JSPF, ``#EXTM3U`` / ``#EXTINF`` is M3U. Else
the file name's extension (``.m3u``, ``.m3u8``, ``.jspf``, ``.json``, ``.csv``, ``.txt`` as
M3U), else a first line that is a CSV header we know; anything else is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from playlists.formats import csvfile, jspf, m3u
from playlists.formats.base import (
    CSV,
    DEFAULT_MAX_ENTRIES,
    JSPF,
    M3U,
    ExportTrack,
    FormatError,
    ParsedPlaylist,
    refuse_binary,
)

_EXTENSIONS = {
    "m3u": M3U,
    "m3u8": M3U,
    "txt": M3U,
    "jspf": JSPF,
    "json": JSPF,
    "csv": CSV,
}


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


KINDS = {
    M3U: FileKind(m3u.CONTENT_TYPE, m3u.EXTENSION),
    JSPF: FileKind(jspf.CONTENT_TYPE, jspf.EXTENSION),
    CSV: FileKind(csvfile.CONTENT_TYPE, csvfile.EXTENSION),
}


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rpartition(".")[2].lower() if "." in name else ""


def detect_format(data: bytes, *, filename: str = "") -> str:
    """``m3u``, ``jspf`` or ``csv``; ``FormatError`` when the file is none of them."""
    refuse_binary(data)
    if not data.strip():
        raise FormatError("The file is empty.")
    start = data[:4096].decode("utf-8", errors="replace")
    if jspf.looks_like(start):
        return JSPF
    if m3u.looks_like(start):
        return M3U
    by_name = _EXTENSIONS.get(_extension(filename))
    if by_name is not None:
        return by_name
    first_line = start.lstrip("\ufeff").splitlines()[0] if start.strip() else ""
    if csvfile.looks_like(first_line):
        return CSV
    raise FormatError(
        "This is not a playlist file we can read: send an M3U (.m3u, .m3u8), a JSPF (.jspf) or "
        "a CSV (.csv, ours or Exportify's)."
    )


def read_playlist(
    data: bytes, *, filename: str = "", max_entries: int = DEFAULT_MAX_ENTRIES
) -> ParsedPlaylist:
    """The playlist in an uploaded file, whatever the format (``FormatError`` when bad)."""
    fmt = detect_format(data, filename=filename)
    if fmt == JSPF:
        return jspf.read(data, max_entries=max_entries)
    if fmt == CSV:
        return csvfile.read(data, max_entries=max_entries)
    return m3u.read(data, utf8_only=_extension(filename) == "m3u8", max_entries=max_entries)


def write_playlist(
    fmt: str,
    *,
    title: str,
    tracks: Iterable[ExportTrack],
    creator: str = "",
    annotation: str = "",
    date: str = "",
    public: bool = False,
) -> bytes:
    if fmt == M3U:
        return m3u.write(title=title, tracks=tracks)
    if fmt == JSPF:
        return jspf.write(
            title=title,
            tracks=tracks,
            creator=creator,
            annotation=annotation,
            date=date,
            public=public,
        )
    if fmt == CSV:
        return csvfile.write(tracks=tracks)
    raise ValueError(f"unknown playlist format {fmt!r}")
