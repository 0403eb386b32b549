"""The listener's 50-track history (their taste) and the interaction event log.

The history is small and curated by the listener; interactions are a large append-only log
(plays, skips, likes …) that feeds popularity, skip detection and training.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.validators import Activity, Mood
from musicrec.constraints import choices_constraint

HISTORY_LIMIT = 50
HISTORY_WARNING_FROM = 45


class HistoryEntry(models.Model):
    """One of the listener's at most 50 tracks.

    The limit is held by the database too: an entry occupies a numbered slot 1–50, and
    (user, slot) is unique, so no race can ever store a 51st entry (a CHECK cannot count rows).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="history_entries"
    )
    track = models.ForeignKey("catalog.Track", on_delete=models.CASCADE, related_name="+")
    slot = models.PositiveSmallIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name_plural = "history entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "slot"], name="history_entry_slot_unique"),
            models.UniqueConstraint(fields=["user", "track"], name="history_entry_track_unique"),
            models.CheckConstraint(
                condition=Q(slot__gte=1, slot__lte=HISTORY_LIMIT), name="history_entry_slot_range"
            ),
        ]
        indexes = [models.Index(fields=["user", "-added_at"], name="history_entry_user_added")]

    def __str__(self) -> str:
        return f"{self.user} #{self.slot}: {self.track}"


class InteractionKind(models.TextChoices):
    PLAY = "play", "Play"
    SKIP = "skip", "Skip"
    LIKE = "like", "Like"
    DISLIKE = "dislike", "Dislike"
    ADD_TO_PLAYLIST = "add_to_playlist", "Added to a playlist"


class Interaction(models.Model):
    """One event: a play, skip, like, dislike or add-to-playlist, with the context then."""

    Kind = InteractionKind

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interactions"
    )
    track = models.ForeignKey("catalog.Track", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # When it happened (an imported listen keeps its original time) …
    occurred_at = models.DateTimeField(default=timezone.now)
    # … and when musicrec recorded it: retention counts from here, so a fresh import of old
    # listens is kept for the whole retention period.
    recorded_at = models.DateTimeField(default=timezone.now)
    listened_ms = models.PositiveIntegerField(null=True, blank=True)
    mood = models.CharField(max_length=10, blank=True, default="", choices=Mood.choices)
    activity = models.CharField(max_length=10, blank=True, default="", choices=Activity.choices)
    # The import that created this play (null for everything recorded live): undoing the
    # import deletes exactly its plays.
    listen_import = models.ForeignKey(
        "history.ListenImport",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    # The served list (a ``recommendations.Impression`` id) the event answers, when the client
    # says so: click-through and like rates per list, position and source are computed from it.
    # A plain UUID, not a foreign key: the history layer knows nothing of the recommender, and
    # an impression pruned before its interactions leaves them intact.
    impression_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            choices_constraint(
                field="kind", choices=InteractionKind, name="history_interaction_kind_valid"
            ),
            choices_constraint(
                field="mood", choices=Mood, name="history_interaction_mood_valid", blank=True
            ),
            choices_constraint(
                field="activity",
                choices=Activity,
                name="history_interaction_activity_valid",
                blank=True,
            ),
            # Imported plays are idempotent: the same listen (listener, track, original time)
            # is stored once however often the export is uploaded (INSERT … ON CONFLICT DO
            # NOTHING relies on this index). Live plays are not constrained.
            models.UniqueConstraint(
                fields=["user", "track", "occurred_at"],
                condition=Q(kind="play", listen_import__isnull=False),
                name="history_interaction_imported_play_unique",
            ),
        ]
        indexes = [
            # a listener's recent events (skip detection, the API list)
            models.Index(fields=["user", "-occurred_at"], name="history_inter_user_time"),
            # popularity and training: events of a track by kind and time
            models.Index(fields=["track", "kind", "occurred_at"], name="history_inter_track_kind"),
            # retention pruning
            models.Index(fields=["recorded_at"], name="history_inter_recorded"),
            # the feedback on one served list (only events that name one are indexed)
            models.Index(
                fields=["impression_id"],
                name="history_inter_impression",
                condition=models.Q(impression_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.track_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class OpinionValue(models.TextChoices):
    LIKE = "like", "Like"
    DISLIKE = "dislike", "Dislike"


class Opinion(models.Model):
    """The listener's current like or dislike of a track (a later one replaces an earlier).
    Never pruned, unlike the events."""

    Value = OpinionValue

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opinions"
    )
    track = models.ForeignKey("catalog.Track", on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=8, choices=Value.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "track"], name="history_opinion_unique"),
            choices_constraint(
                field="value", choices=OpinionValue, name="history_opinion_value_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.value}s {self.track_id}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ListenImport(models.Model):
    """One upload of a listener's listening export (Last.fm, Spotify, ListenBrainz …).

    The uploaded bytes live here (not on a disk) until a worker has processed them.
    """

    Status = ImportStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_imports"
    )
    format = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_size = models.PositiveBigIntegerField(default=0)
    data = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    # how many times a worker has claimed it (a worker that died leaves it "processing")
    attempts = models.PositiveSmallIntegerField(default=0)
    listens = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    # matched listens not stored because the listener's imported plays reached
    # LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER (the newest listens are stored first)
    over_limit = models.PositiveIntegerField(default=0)
    top_unmatched = models.JSONField(default=list, blank=True)
    offered_track_ids = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100),
                name="history_listen_import_progress_range",
            ),
            choices_constraint(
                field="status", choices=ImportStatus, name="history_listen_import_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="history_import_user_time")]

    def __str__(self) -> str:
        return f"{self.user} {self.format} import {self.pk} ({self.status})"
