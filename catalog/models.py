"""The curated catalog: genres, artists, albums and tracks with their audio features.

Range constraints accept every row of the real Spotify tracks data (tempo 0, time signatures
0 and 1 and loudness above 0 dB all occur there) and refuse values that cannot be.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.urls import reverse

from catalog.search import ImmutableUnaccent, SearchVector

SPOTIFY_ID_VALIDATOR = RegexValidator(
    r"^[0-9A-Za-z]{22}$", "A Spotify track id is 22 letters and digits.", code="invalid_spotify_id"
)

# (field, minimum, maximum): the one definition the model, the import and the API filters share.
UNIT_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
)
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(UNIT_FEATURES, (0.0, 1.0)),
    "tempo": (0.0, 300.0),
    "loudness": (-70.0, 10.0),
    "key": (-1, 11),
    "mode": (0, 1),
    "time_signature": (0, 7),
}
# Spotify's pitch classes: 0 = C … 11 = B (-1: no key detected).
KEY_NAMES = ("C", "C♯/D♭", "D", "D♯/E♭", "E", "F", "F♯/G♭", "G", "G♯/A♭", "A", "A♯/B♭", "B")
POPULARITY_RANGE = (0, 100)
RELEASE_YEAR_RANGE = (1860, 2100)
MAX_DURATION_MS = 6 * 60 * 60 * 1000  # six hours; the longest real track is under ninety minutes


def _range_validators(name: str) -> list:
    low, high = FEATURE_RANGES[name]
    return [MinValueValidator(low), MaxValueValidator(high)]


def _release_year_field() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(RELEASE_YEAR_RANGE[0]),
            MaxValueValidator(RELEASE_YEAR_RANGE[1]),
        ],
    )


# Ids are bigint (BigAutoField): a larger number is malformed input, never a row.
ID_MAX = 2**63 - 1


class Genre(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Artist(models.Model):
    name = models.CharField(max_length=600, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # Admin and API search use case-insensitive substring matches on the name.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="catalog_artist_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:artist", args=[self.pk])


class Album(models.Model):
    """Album names repeat across artists ("Greatest Hits"): an album is (name, primary artist)."""

    name = models.CharField(max_length=1000)
    primary_artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="albums")
    release_year = _release_year_field()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "primary_artist"], name="catalog_album_name_artist_unique"
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="catalog_album_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.primary_artist})"


class TrackQuerySet(models.QuerySet):
    def with_related(self) -> TrackQuerySet:
        """Everything a track list shows, in a constant number of queries."""
        return self.select_related("album", "album__primary_artist").prefetch_related(
            credits_prefetch(), "genres"
        )


def credits_prefetch(path: str = "track_artists") -> models.Prefetch:
    """Prefetch of a track's credited artists in credit order (``Track.artist_list`` reads it);
    ``path`` reaches the credits from another model, e.g. ``"track__track_artists"``."""
    return models.Prefetch(
        path, queryset=TrackArtist.objects.select_related("artist").order_by("position")
    )


class Track(models.Model):
    spotify_id = models.CharField(
        max_length=22,
        blank=True,
        default="",
        validators=[SPOTIFY_ID_VALIDATOR],
        help_text="Empty for tracks a curator adds by hand.",
    )
    title = models.CharField(max_length=1000)
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks"
    )
    artists = models.ManyToManyField(Artist, through="TrackArtist", related_name="tracks")
    genres = models.ManyToManyField(Genre, related_name="tracks", blank=True)
    duration_ms = models.PositiveIntegerField(validators=[MaxValueValidator(MAX_DURATION_MS)])
    popularity = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(POPULARITY_RANGE[1])]
    )
    explicit = models.BooleanField(default=False)
    release_year = _release_year_field()

    # Audio features (null when unknown, e.g. a track a curator added by hand).
    danceability = models.FloatField(
        null=True, blank=True, validators=_range_validators("danceability")
    )
    energy = models.FloatField(null=True, blank=True, validators=_range_validators("energy"))
    valence = models.FloatField(null=True, blank=True, validators=_range_validators("valence"))
    acousticness = models.FloatField(
        null=True, blank=True, validators=_range_validators("acousticness")
    )
    instrumentalness = models.FloatField(
        null=True, blank=True, validators=_range_validators("instrumentalness")
    )
    speechiness = models.FloatField(
        null=True, blank=True, validators=_range_validators("speechiness")
    )
    liveness = models.FloatField(null=True, blank=True, validators=_range_validators("liveness"))
    tempo = models.FloatField(
        "tempo (BPM)", null=True, blank=True, validators=_range_validators("tempo")
    )
    loudness = models.FloatField(
        "loudness (dB)", null=True, blank=True, validators=_range_validators("loudness")
    )
    key = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=_range_validators("key"),
        help_text="0 = C … 11 = B, -1 none",
    )
    mode = models.SmallIntegerField(
        null=True,
        blank=True,
        choices=[(1, "major"), (0, "minor")],
        validators=_range_validators("mode"),
    )
    time_signature = models.SmallIntegerField(
        null=True, blank=True, validators=_range_validators("time_signature")
    )

    # Denormalised "title / artists / album / genres" text that search indexes (see catalog.search).
    search_document = models.TextField(blank=True, default="", editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("search_document"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["-popularity", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["spotify_id"],
                condition=~Q(spotify_id=""),
                name="catalog_track_spotify_id_unique",
                violation_error_message="A track with this Spotify id already exists.",
            ),
            models.CheckConstraint(
                condition=Q(
                    popularity__gte=POPULARITY_RANGE[0], popularity__lte=POPULARITY_RANGE[1]
                ),
                name="catalog_track_popularity_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_ms__gte=0, duration_ms__lte=MAX_DURATION_MS),
                name="catalog_track_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(release_year__isnull=True)
                | Q(
                    release_year__gte=RELEASE_YEAR_RANGE[0], release_year__lte=RELEASE_YEAR_RANGE[1]
                ),
                name="catalog_track_release_year_range",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": low, f"{name}__lte": high}),
                    name=f"catalog_track_{name}_range",
                )
                for name, (low, high) in FEATURE_RANGES.items()
            ],
        ]
        indexes = [
            models.Index(F("popularity").desc(), "id", name="catalog_track_popularity_idx"),
            models.Index(fields=["release_year"], name="catalog_track_year_idx"),
            models.Index(fields=["explicit", "popularity"], name="catalog_track_explicit_idx"),
            models.Index(Lower("title"), name="catalog_track_title_lower_idx"),
            GinIndex(
                OpClass(ImmutableUnaccent(Lower("search_document")), name="gin_trgm_ops"),
                name="catalog_track_search_trgm",
            ),
            GinIndex(fields=["search_vector"], name="catalog_track_search_fts"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:track", args=[self.pk])

    @property
    def spotify_url(self) -> str:
        return f"https://open.spotify.com/track/{self.spotify_id}" if self.spotify_id else ""

    @property
    def artist_list(self) -> list[Artist]:
        """Artists in credit order (uses the prefetch of ``with_related`` when present)."""
        return [ta.artist for ta in self.track_artists.all()]

    @property
    def artist_names(self) -> str:
        return ", ".join(artist.name for artist in self.artist_list)


class TrackArtist(models.Model):
    """A credit: which artist, in which position (0 is the primary artist)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="track_artists")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="track_credits")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["track", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "artist"], name="catalog_trackartist_unique"),
        ]
        indexes = [models.Index(fields=["artist", "track"], name="catalog_trackartist_artist_idx")]

    def __str__(self) -> str:
        return f"{self.artist} on {self.track}"


class ImportUpload(models.Model):
    """A file uploaded to the admin import, kept between its preview and its confirmation.

    It lives in the database rather than on local disk or in the cache so that the confirm
    request can be served by any web process and the file survives a Redis flush (see
    ``catalog.tmp_storage``). Rows older than a day are abandoned previews and are purged.
    """

    name = models.CharField(max_length=100, unique=True)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
