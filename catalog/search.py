"""Database expressions behind catalog search.

Search runs on ``Track.search_document`` (title, artists, album and genres in one text): trigram
word similarity makes it typo-tolerant ("beatels" finds The Beatles), full text adds whole-word
matches, and both go through ``immutable_unaccent`` so that "Beyonce" finds "Beyoncé". The
function is a thin IMMUTABLE wrapper around ``unaccent`` (created in the first catalog migration):
PostgreSQL only indexes immutable expressions, and ``unaccent`` itself is only STABLE.

The index expressions in ``Track.Meta.indexes`` and the query expressions here are built from the
same classes so that they stay identical, which is what lets PostgreSQL use the indexes.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

SEARCH_CONFIG = "simple"

CREATE_IMMUTABLE_UNACCENT = """
CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
"""
DROP_IMMUTABLE_UNACCENT = "DROP FUNCTION IF EXISTS public.immutable_unaccent(text);"


class ImmutableUnaccent(models.Func):
    function = "public.immutable_unaccent"
    output_field = models.TextField()


class SearchVector(models.Func):
    """``to_tsvector('simple', immutable_unaccent(expr))``."""

    template = (
        f"to_tsvector('{SEARCH_CONFIG}'::regconfig, public.immutable_unaccent(%(expressions)s))"
    )
    output_field = SearchVectorField()


def normalise_query(text: str) -> str:
    """Collapse whitespace; the database does the case and accent folding."""
    return " ".join(text.split())


# The words of the catalog with the number of tracks each appears in: the dictionary that
# typo correction picks from ("beatels" → "beatles"). A materialized view, refreshed after
# imports and edits (CONCURRENTLY, so searches never wait for it). Names are schema-qualified:
# PostgreSQL 17+ runs materialized-view queries with a search_path of pg_catalog only.
CREATE_SEARCH_TERMS = f"""
CREATE MATERIALIZED VIEW catalog_search_term AS
SELECT word AS term, ndoc
FROM ts_stat($$SELECT to_tsvector('{SEARCH_CONFIG}'::regconfig,
                                  public.immutable_unaccent(search_document))
              FROM public.catalog_track$$);
CREATE UNIQUE INDEX catalog_search_term_term ON catalog_search_term (term);
CREATE INDEX catalog_search_term_trgm ON catalog_search_term USING gin (term gin_trgm_ops);
"""
DROP_SEARCH_TERMS = "DROP MATERIALIZED VIEW IF EXISTS catalog_search_term;"
REFRESH_SEARCH_TERMS = "REFRESH MATERIALIZED VIEW CONCURRENTLY catalog_search_term"


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: Levenshtein plus adjacent transpositions.

    Transpositions are the commonest typo ("beatels"), and plain Levenshtein (PostgreSQL's
    fuzzystrmatch) counts them as two edits, which ties "beatles" with "beaten".
    """
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
