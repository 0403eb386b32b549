"""The denormalised search document of a track: title, artists, album and genres in one text.

It is derived data, rebuilt by the import in bulk and by :func:`track_search_documents_refresh`
after a curator edits a track, its credits or its genres.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from catalog.search import REFRESH_SEARCH_TERMS
from catalog.services.changes import tracks_changed_notify
from musicrec.queue import enqueue_on_commit


def search_documents_update_sql(ids_sql: str) -> str:
    """SQL that rewrites the documents of the tracks whose ids ``ids_sql`` selects.

    Aggregates per table and joins by hash (no per-row subqueries) so that a whole catalog is
    rebuilt in seconds; rows whose document did not change are not written.
    """
    return f"""
    WITH ids AS ({ids_sql}),
    credits AS (
        SELECT ta.track_id, string_agg(a.name, ', ' ORDER BY ta.position) AS names
        FROM catalog_trackartist ta
        JOIN ids ON ids.id = ta.track_id
        JOIN catalog_artist a ON a.id = ta.artist_id
        GROUP BY ta.track_id
    ),
    genres AS (
        SELECT tg.track_id, string_agg(g.name, ' ' ORDER BY g.name) AS names
        FROM catalog_track_genres tg
        JOIN ids ON ids.id = tg.track_id
        JOIN catalog_genre g ON g.id = tg.genre_id
        GROUP BY tg.track_id
    ),
    documents AS (
        SELECT t2.id, concat_ws(E'\\n', t2.title, c.names, al.name, g.names) AS document
        FROM catalog_track t2
        JOIN ids ON ids.id = t2.id
        LEFT JOIN credits c ON c.track_id = t2.id
        LEFT JOIN genres g ON g.track_id = t2.id
        LEFT JOIN catalog_album al ON al.id = t2.album_id
    )
    UPDATE catalog_track t SET search_document = d.document
    FROM documents d
    WHERE d.id = t.id AND t.search_document IS DISTINCT FROM d.document
    """


def track_search_documents_refresh(*, track_ids: Iterable[int]) -> int:
    """Rebuild the search documents of the given tracks; return how many changed."""
    ids = list(track_ids)
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(search_documents_update_sql("SELECT unnest(%s::bigint[]) AS id"), [ids])
        return int(cursor.rowcount)


def search_terms_refresh() -> None:
    """Rebuild the dictionary of catalog words that typo correction uses (about 1 s for 90k
    tracks). CONCURRENTLY: searches keep reading the previous version meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SEARCH_TERMS)


# GIN indexes collect new entries in a "pending list" that every search must scan linearly until
# (auto)vacuum merges it: after a bulk import that list holds the whole catalog and a search
# takes hundreds of milliseconds instead of a few. Merging it right away costs a few seconds.
TRACK_GIN_INDEXES = ("catalog_track_search_trgm", "catalog_track_search_fts")


def search_indexes_settle() -> None:
    """Merge the pending lists of the track search indexes (after a bulk write)."""
    with connection.cursor() as cursor:
        for index in TRACK_GIN_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def track_search_index_update(*, track_ids: Iterable[int]) -> int:
    """After an edit: rebuild these tracks' documents now (search sees the change at once) and,
    when any changed, refresh the typo-correction word list in the background once the
    transaction commits; tell the ``tracks_changed`` hooks (the recommender's vectors) in the
    same transaction. Returns how many documents changed."""
    ids = list(track_ids)
    changed = track_search_documents_refresh(track_ids=ids)
    tracks_changed_notify(track_ids=ids)
    if changed:
        enqueue_on_commit("catalog.refresh_search_terms")
    return changed
