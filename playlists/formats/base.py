"""What the playlist formats share: the track a writer takes, the entry a reader gives, the
error a bad file raises, and the text checks (encoding, binary junk, sizes)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

M3U = "m3u"
JSPF = "jspf"
CSV = "csv"
#: the formats written and read, in the order the API lists them
FORMATS = (M3U, JSPF, CSV)

#: no title, artist or album we read is longer (the catalog's longest title is 1,000)
MAX_FIELD_CHARS = 1000
#: entries a file may hold unless the caller says otherwise (a playlist's size limit)
DEFAULT_MAX_ENTRIES = 500

# A Spotify track as an id, a URI or an open.spotify.com URL (with a locale part or a query).
_SPOTIFY_RE = re.compile(
    r"^\s*(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[A-Za-z-]+/)?track/)"
    r"([0-9A-Za-z]{22})(?:[?#].*)?\s*$"
)
_SPOTIFY_ID_RE = re.compile(r"^\s*[0-9A-Za-z]{22}\s*$")
# C0 control characters other than tab, line feed and carriage return, and DEL: not text.
_BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FormatError(ValueError):
    """A file that is not a playlist of the format, or a bad one: the message says what is
    wrong and where, in words a listener understands."""


@dataclass(frozen=True)
class ExportTrack:
    """One track as a writer takes it."""

    title: str
    artists: tuple[str, ...]
    album: str = ""
    duration_ms: int | None = None
    spotify_id: str = ""
    #: the page of the track on this site (absolute when the caller knows the site's address)
    url: str = ""

    @property
    def artist(self) -> str:
        return ", ".join(self.artists)

    @property
    def location(self) -> str:
        """Where a player finds it: the Spotify URL, else the track's page here."""
        return spotify_url(self.spotify_id) if self.spotify_id else self.url


@dataclass(frozen=True)
class ParsedEntry:
    """One track as a reader found it: ``artists`` as the file names them (one string unless
    the format lists them apart, as Exportify does), ``spotify_id`` when an identifier or
    location is a Spotify track, ``identifier`` the first identifier or location as given."""

    title: str
    artists: tuple[str, ...] = ()
    album: str = ""
    duration_ms: int | None = None
    spotify_id: str = ""
    identifier: str = ""

    @property
    def artist(self) -> str:
        return ", ".join(self.artists)


@dataclass
class ParsedPlaylist:
    fmt: str
    title: str | None = None
    entries: list[ParsedEntry] = field(default_factory=list)


def spotify_url(spotify_id: str) -> str:
    return f"https://open.spotify.com/track/{spotify_id}"


def spotify_id_of(text: str, *, bare: bool = False) -> str:
    """The Spotify track id in a URI or URL, or (``bare``) an id alone; ``""`` when it is
    none of these."""
    if not text or len(text) > 200:
        return ""
    if bare and _SPOTIFY_ID_RE.match(text):
        return text.strip()
    found = _SPOTIFY_RE.match(text)
    return found.group(1) if found else ""


def refuse_binary(data: bytes) -> None:
    if b"\x00" in data:
        raise FormatError("This is not a text file (it holds binary data).")


def decode_utf8(data: bytes, *, what: str) -> str:
    """UTF-8 text (a byte order mark is dropped), or ``FormatError`` saying where it is not."""
    refuse_binary(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FormatError(
            f"{what} must be UTF-8 text; line {line} has a byte that is not "
            f"(0x{data[error.start]:02x})."
        ) from None
    refuse_control(text)
    return text


def refuse_control(text: str) -> None:
    junk = _BINARY_RE.search(text)
    if junk:
        line = text.count("\n", 0, junk.start()) + 1
        raise FormatError(
            f"This is not a text file: line {line} holds a control character "
            f"(U+{ord(junk.group()):04X})."
        )


def checked_text(value: object, *, what: str, where: str) -> str:
    """A text field of an entry: a string (None is empty) without control characters, at
    most ``MAX_FIELD_CHARS``, trimmed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"{where}: the {what} must be text.")
    # an escape (JSON's \u0000, a location's %00) gives what the bytes were checked not to
    # hold; PostgreSQL stores no NUL in text or jsonb (a 500)
    if _BINARY_RE.search(value):
        raise FormatError(f"{where}: the {what} holds a control character.")
    value = value.strip()
    if len(value) > MAX_FIELD_CHARS:
        raise FormatError(f"{where}: the {what} is longer than {MAX_FIELD_CHARS} characters.")
    return value


def too_many(limit: int) -> FormatError:
    return FormatError(f"The file has more than {limit} tracks; a playlist holds at most {limit}.")


def no_tracks() -> FormatError:
    return FormatError("The file has no tracks.")
