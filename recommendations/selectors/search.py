"""The search result that fits a listener best (``GET /api/v1/search/``'s ``recommendation``).

The catalog's search cannot import the recommender (a lower layer); it asks
``musicrec.registry.search_recommenders``, where ``RecommendationsConfig.ready()`` registers
:func:`search_recommendation_pick` (through ``recommendations.hooks``). The pick is the
engine's own list for this listener restricted to the search's results
(``engine.ensemble.recommend(..., candidates=…)``): the same predictors, weights, filters,
context and discovery as the listener's recommendations, no other model.
"""

from __future__ import annotations

from accounts.models import User
from recommendations.engine.ensemble import reason_text, recommend
from recommendations.selectors.serving import listener_profile, serving_state


def search_recommendation_pick(*, user: User, track_ids: list[int]) -> tuple[int, str] | None:
    """The track among ``track_ids`` the engine ranks first for ``user``, with its strongest
    reason as a sentence; None when none of them may be recommended (all in the history, liked
    or disliked, of a disliked genre or a blocked artist, skipped today, or not in the served
    catalog). Costs what one list costs: the listener's rows and the predictors over the
    candidates."""
    if not track_ids:
        return None
    state = serving_state()
    found = state.engine.indices(track_ids)
    candidates = found[found >= 0]
    if not len(candidates):
        return None
    profile = listener_profile(user=user, engine=state.engine)
    result = recommend(
        profile,
        state.predictors,
        state.engine.catalog,
        n=1,
        params=state.params,
        candidates=candidates,
    )
    if not result.items:
        return None
    best = result.items[0]
    reason = (
        reason_text(best.reasons[0], state.engine.catalog) if best.reasons else "Fits your taste"
    )
    return int(state.engine.track_ids[best.track]), reason
