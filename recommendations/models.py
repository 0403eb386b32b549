"""What the recommender stores: trained model versions, their vectors in pgvector, and each
track's content vector.

- A :class:`ModelVersion` is one training run. Its track and listener vectors are written under
  its id while it is ``training``; one transaction then makes it ``active`` and the previous one
  ``retired`` (a partial unique index allows one active version), so a reader that resolved the
  active version reads that version's vectors only: the old model or the new one, never a mix.
  Retired versions' vectors are deleted afterwards.
- :class:`TrackVector` / :class:`ListenerVector`: collaborative (ALS) factors of a version, with
  one partial HNSW cosine index per version (``WHERE model_version_id = N``, made by
  :mod:`recommendations.services.vector_indexes`) for nearest-neighbour candidates. A
  listener's vector is folded in again from their history and feedback on every change,
  without a retrain.
- :class:`TrackContent`: the content vector of a track (standardised audio features + genre
  block, ``recommendations.engine.content``), written by the service that saves the track, so a
  new track can be recommended before anyone plays it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from musicrec.constraints import choices_constraint
from recommendations.engine.content import CONTENT_DIMENSIONS

#: Width of the collaborative vectors (ALS factors) stored in pgvector. Fixed by the schema: a
#: different width is a migration (and a retrain).
COLLABORATIVE_DIMENSIONS = 128


class ModelStatus(models.TextChoices):
    TRAINING = "training", "Training"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"
    FAILED = "failed", "Failed"


class ModelVersion(models.Model):
    """One training of the collaborative models, with what it learned from and how it did."""

    Status = ModelStatus

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    created_at = models.DateTimeField(default=timezone.now)
    # the moment the training data was read: changes after it are folded in after the swap
    snapshot_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)
    listeners = models.PositiveIntegerField(default=0)
    tracks = models.PositiveIntegerField(default=0)
    cells = models.PositiveBigIntegerField(default=0, help_text="Non-zero listener × track cells.")
    parameters = models.JSONField(default=dict, blank=True)
    figures = models.JSONField(
        default=dict, blank=True, help_text="Offline figures measured when it was trained."
    )
    # What serving needs besides the vectors (an .npz: the sparse item-to-item model, the ALS
    # Gram matrix and regularisation for folding listeners in, the metadata rows' factors for
    # folding in new tracks, calibration), loaded once per process per version.
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            choices_constraint(
                field="status", choices=ModelStatus, name="model_version_status_valid"
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=ModelStatus.ACTIVE),
                name="model_version_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"model {self.pk} ({self.get_status_display().lower()})"


class TrackVector(models.Model):
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="track_vectors"
    )
    track = models.ForeignKey("catalog.Track", on_delete=models.CASCADE, related_name="+")
    vector = VectorField(dimensions=COLLABORATIVE_DIMENSIONS)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "track"], name="track_vector_version_track_unique"
            ),
        ]
        # no table-wide HNSW index: each version has its own partial one, built after its
        # rows are written and before it is swapped in (services/vector_indexes.py)

    def __str__(self) -> str:
        return f"track {self.track_id} in model {self.model_version_id}"


class ListenerVector(models.Model):
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="listener_vectors"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    vector = VectorField(dimensions=COLLABORATIVE_DIMENSIONS)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "user"], name="listener_vector_version_user_unique"
            ),
        ]
        # no table-wide HNSW index: each version has its own partial one, built after its
        # rows are written and before it is swapped in (services/vector_indexes.py)

    def __str__(self) -> str:
        return f"listener {self.user_id} in model {self.model_version_id}"


class TrackContent(models.Model):
    track = models.OneToOneField(
        "catalog.Track", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    vector = VectorField(dimensions=CONTENT_DIMENSIONS)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "track content vector"
        indexes = [
            HnswIndex(
                name="track_content_hnsw_cosine",
                fields=["vector"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"content vector of track {self.track_id}"


class ImpressionSurface(models.TextChoices):
    API = "api", "API"
    WEB = "web", "Web page"
    LIVE = "live", "Live update"


class Impression(models.Model):
    """One served list: who, when, where, with which parameters and model version, and the
    ranked tracks with their final score and each source's score. Its id travels with the
    list (the API's ``impression_id``, the page's forms, the live message), and interactions
    that answer the list carry it back (``history.Interaction.impression_id``): click-through,
    like and skip rates per list, position and source are computed from the two. Pruned like
    interactions (``RECOMMENDER["impressions"]["retention_days"]``).

    ``items``: ``[{"track_id", "position", "score", "confidence", "sources": {name: score}}]``
    in served order (JSON: read as a whole, never queried inside)."""

    Surface = ImpressionSurface

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    served_at = models.DateTimeField(default=timezone.now)
    surface = models.CharField(max_length=8, choices=Surface.choices)
    #: the request's parameters as served: n, mood, activity, discovery
    parameters = models.JSONField(default=dict)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["-served_at"]
        constraints = [
            choices_constraint(
                field="surface", choices=ImpressionSurface, name="recs_impression_surface_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-served_at"], name="recs_impression_user_time"),
            models.Index(fields=["served_at"], name="recs_impression_served"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.surface} {self.served_at:%Y-%m-%d %H:%M} ({len(self.items)})"
