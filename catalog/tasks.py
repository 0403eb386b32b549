"""Catalog background work. Thin: load by id, call a service."""

from __future__ import annotations

from celery import shared_task

from catalog.services.search_documents import search_terms_refresh
from musicrec.queue import RETRY_POLICY


@shared_task(name="catalog.refresh_search_terms", **RETRY_POLICY)
def refresh_search_terms() -> None:
    """Rebuild the word list that search corrects typos against.

    Safe to run twice or concurrently: REFRESH … CONCURRENTLY takes a lock that makes a second
    refresh wait for the first, and the result is the same.
    """
    search_terms_refresh()
