"""What the recommender does when a lower layer reports a change (registered in
``RecommendationsConfig.ready()`` into ``musicrec.registry``)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from musicrec.queue import enqueue_on_commit
from musicrec.taste import TasteChange
from recommendations.selectors.vectors import active_model_version_id
from recommendations.services.cache import listener_lists_invalidate
from recommendations.services.content import track_content_refresh
from recommendations.services.listeners import listener_vector_refresh
from recommendations.services.live import live_taste_changed
from recommendations.services.track_vectors import track_vectors_fold_in


def tracks_changed_content(track_ids: list[int]) -> None:
    """Content vectors of the saved tracks, in the saving transaction. After a large import
    into a catalog that had other tracks, the feature statistics moved: those are embedded
    again in the background once it commits."""
    track_content_refresh(track_ids=track_ids)
    threshold = settings.RECOMMENDER.get("vectors", {}).get("import_reembed_from", 10_000)
    if len(track_ids) >= threshold:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_track")
            others = int(cursor.fetchone()[0]) - len(track_ids)
        if others > 0:
            enqueue_on_commit("recommendations.embed_tracks")


def tracks_changed_fold_in(track_ids: list[int]) -> None:
    """Collaborative vectors of tracks the active model was not trained on. A large import
    leaves them to ``embed_tracks`` after it commits: they are inserted into the live
    version's HNSW index row by row (~3 ms each), which should not hold the import's
    transaction open for minutes."""
    threshold = settings.RECOMMENDER.get("vectors", {}).get("import_reembed_from", 10_000)
    if len(track_ids) >= threshold:
        if active_model_version_id() is not None:
            enqueue_on_commit("recommendations.embed_tracks")
        return
    track_vectors_fold_in(track_ids=track_ids)


#: The changes that move a listener's confidence row, hence their collaborative vector.
ROW_CHANGES = frozenset(
    {TasteChange.HISTORY, TasteChange.FEEDBACK, TasteChange.SKIP, TasteChange.IMPORT}
)


def taste_changed_listener_vector(user_id: int, reason: str) -> None:
    """The listener's collaborative vector, folded in again after a change to what it is
    folded in from (not after a context, preference or block change)."""
    if reason in ROW_CHANGES:
        listener_vector_refresh(user_id=user_id)


def taste_changed_lists(user_id: int, reason: str) -> None:
    """The listener's cached lists: after any change (every ``TasteChange``), the next request
    is computed afresh (a new listener version: ``services.cache``)."""
    listener_lists_invalidate(user_id=user_id)


def taste_changed_live(user_id: int, reason: str) -> None:
    """A live update to the listener's open pages, if the change calls for one
    (``recommendations.services.live``: history, import, context, blocks, a burst of skips).
    Registered after the hooks whose results the pushed list reads (the listener's vector)."""
    live_taste_changed(user_id=user_id, reason=reason)
