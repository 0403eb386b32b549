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

    template = f"to_tsvector('{SEARCH_CONFIG}'::regconfig, public.immutable_unaccent(%(expressions)s))"
    output_field = models.TextField()


def normalise_query(text: str) -> str:
    """Collapse whitespace; the database does the case and accent folding."""
    return " ".join(text.split())
