"""Reads of the catalog: browsing, detail pages and ranked search."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from catalog.models import ID_MAX, Artist, Genre, Track
from catalog.search import SEARCH_CONFIG, edit_distance, normalise_query
from musicrec import registry
from musicrec.errors import ApplicationError

logger = logging.getLogger(__name__)

SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 200
# pg_trgm word similarity a document must reach to be a candidate. 0.5 lets one or two typos
# through ("beatels" → "beatles", "rapsody" → "rhapsody") while keeping the candidate set small.
SEARCH_WORD_SIMILARITY = 0.5
# Trigram similarity for a catalog word to be considered as a correction. Low, because a swap
# of two letters breaks many trigrams ("cricle" ~ "circle" is only 0.27); the edit distance
# then decides.
SEARCH_TERM_SIMILARITY = 0.2
SEARCH_FIXES = 5  # corrections tried per misspelt word
SEARCH_COMMON_WORD_DOCS = 1500  # a word in more tracks than this barely narrows a search
SEARCH_MAX_CANDIDATES = 200  # the most popular matches of each kind are scored
SEARCH_MAX_RESULTS = 500
SEARCH_FEW = 5  # fewer full-text matches than this: widen the search


def track_list() -> QuerySet[Track]:
    return Track.objects.with_related()


def track_get(*, track_id: int, queryset: QuerySet[Track] | None = None) -> Track:
    """One track (by default with what a track shows: album, artists, genres); an id of no
    track, or beyond what an id can be, is "not found"."""
    if not isinstance(track_id, int) or isinstance(track_id, bool) or not 1 <= track_id <= ID_MAX:
        raise ApplicationError("No track with this id.", code="not_found", status=404)
    try:
        return (track_list() if queryset is None else queryset).get(pk=track_id)
    except Track.DoesNotExist:
        raise ApplicationError("No track with this id.", code="not_found", status=404) from None


def artist_list() -> QuerySet[Artist]:
    return Artist.objects.annotate(track_count=Count("track_credits"))


def artist_get(*, artist_id: int) -> Artist:
    try:
        return artist_list().get(pk=artist_id)
    except Artist.DoesNotExist:
        raise ApplicationError("No artist with this id.", code="not_found", status=404) from None


def artist_tracks(*, artist: Artist) -> QuerySet[Track]:
    return track_list().filter(track_artists__artist=artist).order_by("-popularity", "id")


def genre_list() -> QuerySet[Genre]:
    return Genre.objects.annotate(track_count=Count("tracks")).order_by("name")


GENRE_SLUG_MAX_LENGTH = Genre._meta.get_field("slug").max_length or 100


@dataclass(frozen=True)
class GenresResolved:
    """The genres some references name (each once, in order of first mention), and the
    references that name none."""

    genres: list[Genre]
    unknown: list[str]


def _genre_id(reference: str) -> int | None:
    """The id an ASCII number names, or None. Not "²" or "١٢": str.isdigit() accepts those and
    int() reads the Arabic-Indic digits, but nobody means an id by them."""
    return int(reference) if reference.isascii() and reference.isdigit() else None


def genres_resolve(*, references: Iterable[object]) -> GenresResolved:
    """Genres by id (``12`` or ``"12"``) or slug (``"k-pop"``), in one query.

    The one resolver of genre references: the track filter (``?genre=``) and the listener's
    preferences both use it and decide themselves what an unknown reference means. A
    reference that cannot name a genre (an id beyond a bigint, text longer than a slug, a NUL
    that PostgreSQL would refuse) is unknown without being looked up.
    """
    references_seen = list(dict.fromkeys(str(ref).strip() for ref in references))
    references_seen = [ref for ref in references_seen if ref]
    ids: set[int] = set()
    slugs: set[str] = set()
    for ref in references_seen:
        number = _genre_id(ref)
        if number is not None:
            if 1 <= number <= ID_MAX:
                ids.add(number)
        elif len(ref) <= GENRE_SLUG_MAX_LENGTH and "\x00" not in ref:
            slugs.add(ref)
    found = list(Genre.objects.filter(Q(pk__in=ids) | Q(slug__in=slugs))) if ids or slugs else []
    by_id = {genre.pk: genre for genre in found}
    by_slug = {genre.slug: genre for genre in found}
    genres: dict[int, Genre] = {}
    unknown: list[str] = []
    for ref in references_seen:
        number = _genre_id(ref)
        genre = by_id.get(number) if number is not None else by_slug.get(ref)
        if genre is None:
            unknown.append(ref)
        else:
            genres.setdefault(genre.pk, genre)
    return GenresResolved(genres=list(genres.values()), unknown=unknown)


def genre_resolve(*, value: object) -> Genre:
    """One genre by id or slug; an unknown one is a 400 (``unknown_genre``)."""
    resolved = genres_resolve(references=[value])
    if not resolved.genres:
        raise ApplicationError(
            f"Unknown genre: {str(value).strip()[:100]!r}. Use a genre id or slug.",
            code="unknown_genre",
        )
    return resolved.genres[0]


def search_query_clean(*, query: str | None) -> str:
    """Validate a search query; raise ApplicationError (400) for empty or 1-character queries."""
    text = normalise_query(query or "")
    if len(text) < SEARCH_MIN_LENGTH:
        raise ApplicationError(
            f"Type at least {SEARCH_MIN_LENGTH} characters to search.",
            code="query_too_short",
            extra={"min_length": SEARCH_MIN_LENGTH},
        )
    if len(text) > SEARCH_MAX_LENGTH:
        raise ApplicationError(
            f"A search is at most {SEARCH_MAX_LENGTH} characters.",
            code="query_too_long",
            extra={"max_length": SEARCH_MAX_LENGTH},
        )
    return text


def _tsquery_term(term: str, *, prefix: bool = False) -> str:
    quoted = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"{quoted}:*" if prefix else quoted


def _allowed_typos(token: str) -> int:
    return 0 if len(token) <= 3 else 1 if len(token) <= 5 else 2


@dataclass
class ParsedQuery:
    """A query as the catalog understands it: each word with its spelling alternatives."""

    text: str
    alternatives: list[list[tuple[str, bool]]]  # per word: (lexeme, is_prefix)
    corrected: str  # the query with every misspelt word replaced by its best correction
    common: list[bool] = field(default_factory=list)  # per word: in very many tracks

    def tsquery(self, *, operator: str = "&", distinctive_only: bool = False) -> str:
        """The words as a tsquery. ``distinctive_only`` leaves out words that are in very many
        tracks ("the", "of", "love") when the query has other words: they would barely narrow
        the candidates, while intersecting their long posting lists dominates the time. They
        still count when candidates are ranked."""
        keep = list(self.alternatives)
        if distinctive_only and self.common and not all(self.common):
            keep = [
                alts
                for alts, common in zip(self.alternatives, self.common, strict=True)
                if not common
            ]
        groups = [
            "(" + " | ".join(_tsquery_term(term, prefix=prefix) for term, prefix in alts) + ")"
            for alts in keep
        ]
        return f" {operator} ".join(groups)


_TOKENS_SQL = f"""
SELECT lexeme, (SELECT ndoc FROM catalog_search_term WHERE term = lexeme) AS ndoc
FROM unnest(to_tsvector('{SEARCH_CONFIG}'::regconfig, public.immutable_unaccent(%(q)s)))
ORDER BY positions[1]
"""

# Candidates for each unknown word: the catalog words most similar by trigrams, plus exact
# hits of its one-edit variants (swapped or dropped letters), which trigrams miss in short
# words ("wrie" and "wire" share a single trigram).
_CORRECTIONS_SQL = """
SELECT token, c.term, c.ndoc
FROM unnest(%(tokens)s::text[]) AS token
CROSS JOIN LATERAL (
    SELECT term, ndoc FROM catalog_search_term
    WHERE term %% token
    ORDER BY similarity(term, token) DESC, ndoc DESC
    LIMIT 40
) AS c
UNION
SELECT v.token, t.term, t.ndoc
FROM unnest(%(variant_tokens)s::text[], %(variants)s::text[]) AS v(token, variant)
JOIN catalog_search_term t ON t.term = v.variant
"""


def _one_edit_variants(token: str) -> set[str]:
    """The token with two adjacent letters swapped, or one letter dropped."""
    swaps = {token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(len(token) - 1)}
    drops = {token[:i] + token[i + 1 :] for i in range(len(token))}
    return (swaps | drops) - {token}


def search_query_parse(*, text: str) -> ParsedQuery:
    """Split a query into catalog words and find spelling corrections for unknown ones.

    Only words the catalog does not contain, and that are long enough to hold a typo, are
    looked up: candidates come from the trigram index of the catalog's words, the edit distance
    (with transpositions) picks among them, and the number of tracks a word appears in breaks
    ties, so "beatels" becomes "beatles" rather than "beaten".
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TOKENS_SQL, {"q": text})
        counted: list[tuple[str, int | None]] = list(cursor.fetchall())
        tokens = [(token, ndoc is not None) for token, ndoc in counted]
        unknown = [token for token, known in tokens if not known and _allowed_typos(token)]
        candidates: dict[str, list[tuple[str, int]]] = {}
        if unknown:
            cursor.execute(
                "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                [str(SEARCH_TERM_SIMILARITY)],
            )
            pairs = [(token, variant) for token in unknown for variant in _one_edit_variants(token)]
            cursor.execute(
                _CORRECTIONS_SQL,
                {
                    "tokens": unknown,
                    "variant_tokens": [token for token, _ in pairs],
                    "variants": [variant for _, variant in pairs],
                },
            )
            for token, term, ndoc in cursor.fetchall():
                candidates.setdefault(token, []).append((term, ndoc))
    alternatives: list[list[tuple[str, bool]]] = []
    corrected: list[str] = []
    for index, (token, known) in enumerate(tokens):
        alts: list[tuple[str, bool]] = []
        if known:
            alts.append((token, False))
            corrected.append(token)
        else:
            limit = _allowed_typos(token)
            ranked = sorted(
                (edit_distance(token, term), -ndoc, term)
                for term, ndoc in candidates.get(token, [])
                if abs(len(term) - len(token)) <= limit
            )
            fixes = [term for distance, _, term in ranked if distance <= limit][:SEARCH_FIXES]
            alts.extend((term, False) for term in fixes)
            corrected.append(fixes[0] if fixes else token)
            if not fixes:
                alts.append((token, False))
        if index == len(tokens) - 1 and not known and len(token) >= 3:
            # An unknown last word may still be being typed: "bohem" → "bohemian". Only that
            # one: a prefix on complete words ("the:*") matches half the catalog.
            alts.append((token, True))
        alternatives.append(alts)
    return ParsedQuery(
        text=text,
        alternatives=alternatives,
        corrected=" ".join(corrected),
        common=[(ndoc or 0) > SEARCH_COMMON_WORD_DOCS for _, ndoc in counted],
    )


_RANK_SQL = f"""
WITH q AS (
    SELECT to_tsquery('{SEARCH_CONFIG}', %(tsquery)s) AS ts,
           public.immutable_unaccent(lower(%(corrected)s)) AS fixed
)
SELECT t.id,
       0.20 * word_similarity(q.fixed, public.immutable_unaccent(lower(t.search_document)))
     + 0.25 * similarity(q.fixed, public.immutable_unaccent(lower(t.title)))
     + 0.15 * word_similarity(q.fixed, public.immutable_unaccent(lower(
                  split_part(t.search_document, E'\\n', 2))))
     + 0.20 * ts_rank_cd(t.search_vector, q.ts, 32) * 2
     + 0.20 * t.popularity / 100.0 AS score
FROM catalog_track t, q
WHERE t.id = ANY(%(ids)s)
ORDER BY score DESC, t.popularity DESC, t.id
LIMIT {SEARCH_MAX_RESULTS}
"""

# MATERIALIZED: find the matches through the GIN index first, then keep the most popular.
# Left to itself the planner walks the popularity index and tests every track (60+ ms).
_FULL_TEXT_SQL = f"""
WITH matches AS MATERIALIZED (
    SELECT t.id, t.popularity FROM catalog_track t
    WHERE t.search_vector @@ to_tsquery('{SEARCH_CONFIG}', %(tsquery)s)
)
SELECT id FROM matches ORDER BY popularity DESC, id LIMIT {SEARCH_MAX_CANDIDATES}
"""

# Substring-like matches for what full text cannot split (Japanese and Chinese titles have no
# spaces) or what is too garbled to correct word by word.
_TRIGRAM_SQL = f"""
WITH matches AS MATERIALIZED (
    SELECT t.id, t.popularity FROM catalog_track t
    WHERE public.immutable_unaccent(lower(%(text)s))
          <%% public.immutable_unaccent(lower(t.search_document))
       OR public.immutable_unaccent(lower(t.search_document))
          LIKE '%%' || public.immutable_unaccent(lower(%(like)s)) || '%%'
)
SELECT id FROM matches ORDER BY popularity DESC, id LIMIT {SEARCH_MAX_CANDIDATES}
"""


def track_search_ranked_ids(*, query: str) -> list[tuple[int, float]]:
    """(track id, score) of the best matches for ``query``, best first.

    1. Words are corrected against the catalog's own words (:func:`search_query_parse`).
    2. Candidates: full text with every word (or one of its corrections) present; when that
       finds few, any of the words, and trigram similarity on the whole document.
    3. Score: how well the corrected query matches the whole document and the title alone (an
       exact title beats a longer one containing it), full-text rank, popularity.
    """
    text = search_query_clean(query=query)
    parsed = search_query_parse(text=text)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(SEARCH_WORD_SIMILARITY)],
        )
        ids: list[int] = []
        if parsed.alternatives:
            cursor.execute(_FULL_TEXT_SQL, {"tsquery": parsed.tsquery(distinctive_only=True)})
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) < SEARCH_FEW and len(parsed.alternatives) > 1:
                cursor.execute(
                    _FULL_TEXT_SQL,
                    {"tsquery": parsed.tsquery(operator="|", distinctive_only=True)},
                )
                ids += [row[0] for row in cursor.fetchall()]
        if len(ids) < SEARCH_FEW:
            like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            cursor.execute(_TRIGRAM_SQL, {"text": text, "like": like})
            ids += [row[0] for row in cursor.fetchall()]
        if not ids:
            return []
        cursor.execute(
            _RANK_SQL,
            {
                "tsquery": parsed.tsquery(operator="|") if parsed.alternatives else "",
                "corrected": parsed.corrected or text,
                "ids": list(dict.fromkeys(ids)),
            },
        )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def search_words_corrected(*, query: str) -> list[str]:
    """The words of ``query`` as the catalog spells them ("beatels" → ``["beatles"]``: each
    misspelt word replaced by its best correction, lower case, without accents); ``[]`` for a
    query too short or too long to search."""
    try:
        text = search_query_clean(query=query)
    except ApplicationError:
        return []
    return search_query_parse(text=text).corrected.split()


def tracks_in_order(*, track_ids: list[int]) -> list[Track]:
    """Load tracks (with artists, album, genres) in the order of ``track_ids``."""
    tracks = track_list().in_bulk(track_ids)
    return [tracks[track_id] for track_id in track_ids if track_id in tracks]


def track_search(*, query: str, limit: int | None = None) -> list[Track]:
    """The best matches as Track objects, best first (``limit`` of them, or all)."""
    ranked = track_search_ranked_ids(query=query)[:limit]
    return tracks_in_order(track_ids=[track_id for track_id, _ in ranked])


@dataclass(frozen=True)
class SearchRecommendation:
    """The search result picked for a listener (``track_id``: one of the results) and why."""

    track_id: int
    reason: str


def search_recommendation(*, user: Any, track_ids: list[int]) -> SearchRecommendation | None:
    """The result among ``track_ids`` (a search's results, ranked) that fits ``user`` best,
    by the higher layer that knows the listener's taste (``registry.search_recommenders``,
    filled by the recommender); None for an anonymous caller, no results, or no pick. A
    recommender that fails is logged and skipped: a search never fails for its sake."""
    if not track_ids or user is None or not user.is_authenticated:
        return None
    offered = set(track_ids)
    for name, recommend in registry.search_recommenders.items():
        try:
            with transaction.atomic():  # a failed query must not break the caller's transaction
                picked = recommend(user, list(track_ids))
        except Exception:
            logger.exception("search recommender %s failed", name)
            continue
        if picked is not None and picked[0] in offered:
            return SearchRecommendation(track_id=int(picked[0]), reason=str(picked[1]))
    return None
