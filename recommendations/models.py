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

import datetime
import secrets
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


def _experiment_salt() -> str:
    return secrets.token_hex(8)


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
    (plus ``"team"``: the variant key, in an interleaved list) in served order (JSON: read as a
    whole by the application; the outcome reports expand it in SQL)."""

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
    #: the running experiment the listener was in when the list was served, and their variant
    #: (an interleaved list: ``"interleaved"``, each item then says whose it is: ``"team"``)
    experiment = models.ForeignKey(
        "Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variant = models.CharField(max_length=32, blank=True, default="")

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
            models.Index(
                fields=["experiment", "served_at"],
                name="recs_impression_experiment",
                condition=Q(experiment__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.surface} {self.served_at:%Y-%m-%d %H:%M} ({len(self.items)})"


# ---- ranking experiments ---------------------------------------------------------------------


class ExperimentMode(models.TextChoices):
    #: each enrolled listener sees one variant's lists (assigned by hashing, sticky)
    SPLIT = "split", "Split test"
    #: each enrolled listener sees one list drawn from two variants (team-draft interleaving);
    #: feedback credits the variant whose track was played or liked
    INTERLEAVE = "interleave", "Interleaving"


class Experiment(models.Model):
    """A ranking experiment curators define in the admin: two or more :class:`ExperimentVariant`
    (each a set of engine parameters over the site's), the share of listeners enrolled, and when
    it runs. It runs while ``starts_at <= now`` and neither ``ends_at`` has passed nor it was
    stopped (``stopped_at``); outside that window it assigns nobody.

    Assignment (``recommendations.selectors.experiments``) is deterministic: a listener's place
    in ``[0, 1)`` is a hash of ``salt`` and their id, so the same listener gets the same variant
    in every request and process while the experiment runs, and another experiment (another
    salt) splits listeners independently. A listener is in at most one running experiment per
    engine parameter: experiments that change a parameter in common take listeners in turn
    (the one started first keeps its own). Each served list records its experiment and variant
    on the :class:`Impression`; the report is computed from impressions and feedback."""

    Mode = ExperimentMode

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SPLIT)
    #: share of listeners enrolled (0 < share ≤ 1); the others get the site's lists
    share = models.FloatField(
        default=1.0, help_text="Share of listeners enrolled, between 0 and 1 (1 = everyone)."
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="When it stops by itself (empty: runs until stopped)."
    )
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: the hash's salt, random per experiment and never changed (assignment is sticky)
    salt = models.CharField(max_length=32, default=_experiment_salt, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            choices_constraint(
                field="mode", choices=ExperimentMode, name="recs_experiment_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(share__gt=0.0, share__lte=1.0), name="recs_experiment_share_range"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="recs_experiment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_running(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.stopped_at is None
            and self.starts_at <= now
            and (self.ends_at is None or now < self.ends_at)
        )


class ExperimentVariant(models.Model):
    """One arm of an :class:`Experiment`: a ``key`` recorded on impressions (``control``,
    ``b`` …), a ``weight`` (its share of the enrolled listeners, relative to the other
    variants'; ignored by interleaving, which needs exactly two), and ``parameters``: the engine
    parameters it changes, validated by
    ``recommendations.engine.experiments.variant_parameters_clean`` (empty: the site's own)::

        {"weights": {"collaborative": 1.0, "content": 0.15, …},   # WeightParams fields
         "discovery": 0.7,          # the default for listeners who never moved theirs
         "relevance": 0.9,          # variety strength (EnsembleParams.relevance, 0–1)
         "artist_limit": 2, "context_strength": 0.3, …,              # EnsembleParams fields
         "predictors": {"content": false}}                           # a predictor off
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=32, help_text="Short name recorded on each served list.")
    name = models.CharField(max_length=120, blank=True, default="")
    weight = models.PositiveSmallIntegerField(
        default=1, help_text="Share of the enrolled listeners, relative to the other variants."
    )
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["experiment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="recs_variant_key_unique"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="recs_variant_weight_min"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment} / {self.key}"
