"""The recommender's admin: the trained model versions, read-only, and "train now".

A version is written only by training (``recommendations.services.training``); curators read
its history here: status, when it was trained and activated, how long it took, what it learned
from, its parameters and offline figures, and the error of a failed one. The artifact's bytes
are never shown (only their size). "Train now" enqueues ``recommendations.train_embeddings``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from musicrec.queue import enqueue
from recommendations import admin_experiments  # noqa: F401  (registers the experiments' admin)
from recommendations.models import ModelVersion


def _pretty(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    change_list_template = "admin/recommendations/modelversion/change_list.html"
    list_display = (
        "id",
        "status",
        "created_at",
        "activated_at",
        "training_time",
        "listeners",
        "tracks",
        "cells",
        "ndcg",
    )
    list_filter = ("status",)
    ordering = ("-created_at", "-id")
    fields = (
        "status",
        "created_at",
        "snapshot_at",
        "finished_at",
        "activated_at",
        "training_time",
        "listeners",
        "tracks",
        "cells",
        "artifact_size",
        "parameters_json",
        "figures_json",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelVersion]:
        # the artifact (megabytes) is never loaded for a page: only its length
        return (
            super()
            .get_queryset(request)
            .defer("artifact")
            .annotate(artifact_bytes=Length("artifact"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        return False

    @admin.display(description="training time")
    def training_time(self, obj: ModelVersion) -> str:
        return "—" if obj.training_seconds is None else f"{obj.training_seconds:.1f} s"

    @admin.display(description="NDCG (holdout)")
    def ndcg(self, obj: ModelVersion) -> str:
        holdout = (obj.figures or {}).get("holdout", {})
        # the key names its cut-off ("ndcg@" + k, RECOMMENDER["figures"]["k"] at training time)
        values = [
            f"{v:.3f} @{key.split('@')[1]}" for key, v in holdout.items() if key.startswith("ndcg@")
        ]
        return values[0] if values else "—"

    @admin.display(description="artifact")
    def artifact_size(self, obj: ModelVersion) -> str:
        size = getattr(obj, "artifact_bytes", None)
        return "— (deleted or none)" if not size else filesizeformat(size)

    @admin.display(description="parameters")
    def parameters_json(self, obj: ModelVersion) -> str:
        return _pretty(obj.parameters)

    @admin.display(description="figures")
    def figures_json(self, obj: ModelVersion) -> str:
        return _pretty(obj.figures)

    # ------------------------------------------------------------------ train now
    def get_urls(self) -> list[URLPattern]:
        train = path(
            "train/",
            self.admin_site.admin_view(self.train_now),
            name="recommendations_modelversion_train",
        )
        return [train, *super().get_urls()]

    def can_train(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra_context = {**(extra_context or {}), "can_train": self.can_train(request)}
        return super().changelist_view(request, extra_context)

    def train_now(self, request: HttpRequest) -> HttpResponseRedirect | HttpResponseNotAllowed:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.can_train(request):
            self.message_user(request, "Only a superuser may start a training.", messages.ERROR)
        elif enqueue("recommendations.train_embeddings"):
            self.message_user(
                request,
                "Training queued: a new version appears here when it starts; a run while "
                "another one is going is skipped.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                "Could not reach the task queue; the nightly schedule will train.",
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:recommendations_modelversion_changelist"))
