"""A listener's playlists: a named, ordered list of catalog tracks, private or public.

Order is stored as a sparse integer ``rank`` per entry (spaced ``RANK_STEP`` apart): moving a
track writes that one entry's rank (the middle of its new neighbours'); only when two
neighbours leave no integer between them is the playlist renumbered, in one statement. The
position a person sees (1, 2, 3 …) is the entry's place in rank order, so there is never a gap
or a duplicate position to repair. (playlist, rank) and (playlist, track) are unique in the
database: a track is in a playlist at most once (removing, moving and the API's
``/tracks/{track_id}/`` all name an entry by its track).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from musicrec.constraints import choices_constraint

#: The most tracks one playlist holds (a generated one holds at most 100).
PLAYLIST_TRACKS_MAX = 500
#: The most playlists one listener keeps.
PLAYLISTS_PER_LISTENER_MAX = 500
NAME_MAX = 200
DESCRIPTION_MAX = 2000
#: The distance between the ranks of neighbouring entries after a renumbering: room for ~20
#: moves into one gap before the playlist is renumbered again.
RANK_STEP = 1 << 20


class Origin(models.TextChoices):
    """How a playlist was made."""

    MANUAL = "manual", "Made by hand"
    RECOMMENDATIONS = "recommendations", "From your recommendations"
    RADIO = "radio", "Radio"
    MOOD = "mood", "Mood or activity mix"
    PATH = "path", "Sonic path"
    IMPORT = "import", "Imported"


class Playlist(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    name = models.CharField(max_length=NAME_MAX)
    description = models.TextField(
        max_length=DESCRIPTION_MAX,
        blank=True,
        default="",
        validators=[MaxLengthValidator(DESCRIPTION_MAX)],  # a TextField's max_length is the form's
    )
    is_public = models.BooleanField(default=False)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    #: how a generated or imported playlist was made (kind, seeds, length, seed; file format
    #: and what did not match), for the page to say and a curator to read
    origin_parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            choices_constraint(field="origin", choices=Origin, name="playlists_playlist_origin"),
            models.CheckConstraint(
                condition=Q(name__regex=r"\S"), name="playlists_playlist_name_not_blank"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="playlists_owner_updated"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaylistTrack(models.Model):
    """One track of a playlist, at a place given by its rank."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey("catalog.Track", on_delete=models.CASCADE, related_name="+")
    rank = models.BigIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["playlist", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["playlist", "track"], name="playlists_entry_track_once"
            ),
            # deferred: a renumbering moves ranks past each other within one statement
            models.UniqueConstraint(
                fields=["playlist", "rank"],
                name="playlists_entry_rank_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}@{self.rank}: {self.track_id}"
