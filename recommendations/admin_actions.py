"""The recommender's action on the catalog's Track admin (through
``musicrec.registry.track_admin_actions``: the catalog admin may not import the recommender).

Why a registry rather than adding the action onto ``admin.site._registry[Track]`` from
``ready()``: the catalog admin then says in its own code that other apps may add actions, the
action is picked up whatever the order of ``INSTALLED_APPS`` (``django.contrib.admin`` runs
``autodiscover`` in its own ``ready()``, usually before this app's), and no app reaches into
another's registered ModelAdmin instance.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from musicrec.queue import enqueue_on_commit
from recommendations.services.embeddings import track_embeddings_refresh


@admin.action(description="Recompute embeddings for the selected tracks", permissions=["change"])
def recompute_embeddings(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """A small selection is embedded at once (content vectors; collaborative vectors folded in
    for tracks newer than the active model); a large one is sent to
    ``recommendations.embed_tracks`` (about 1 s per 1,000 tracks on two cores)."""
    track_ids = list(queryset.order_by().values_list("pk", flat=True))
    inline = int(settings.RECOMMENDER.get("vectors", {}).get("admin_inline_tracks", 1_000))
    if len(track_ids) <= inline:
        with transaction.atomic():
            result = track_embeddings_refresh(track_ids=track_ids)
        modeladmin.message_user(
            request, f"Embeddings recomputed: {result.describe()}.", messages.SUCCESS
        )
        return
    enqueue_on_commit("recommendations.embed_tracks", track_ids=track_ids)
    modeladmin.message_user(
        request,
        f"Embeddings of {len(track_ids)} tracks will be recomputed in the background "
        "(recommendations.embed_tracks).",
        messages.INFO,
    )
