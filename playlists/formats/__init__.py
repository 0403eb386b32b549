"""Playlist files: writers and readers of M3U, JSPF and CSV (pure Python: no Django).

``base`` holds what every format shares (``Entry``, ``ParsedPlaylist``, ``FormatError``, the
text checks), one module per format writes and reads it, and ``detect`` picks the reader of an
upload. The catalog side (which track an entry is) lives in ``playlists.selectors.transfer``.
"""

from playlists.formats.base import (
    FORMATS,
    MAX_FIELD_CHARS,
    ExportTrack,
    FormatError,
    ParsedEntry,
    ParsedPlaylist,
)
from playlists.formats.detect import detect_format, read_playlist, write_playlist

__all__ = [
    "FORMATS",
    "MAX_FIELD_CHARS",
    "ExportTrack",
    "FormatError",
    "ParsedEntry",
    "ParsedPlaylist",
    "detect_format",
    "read_playlist",
    "write_playlist",
]
