"""``{% history_state_of_listener as history %}``: the signed-in listener's history size and
track ids, for "Add to history" buttons (read once per request, however many buttons a page
shows)."""

from __future__ import annotations

from typing import Any

from django import template

from history.selectors.entries import HistoryState, history_state

register = template.Library()


@register.simple_tag(takes_context=True)
def history_state_of_listener(context: dict[str, Any]) -> HistoryState | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(request, "_history_state", None)
    if cached is None:
        cached = history_state(user=user)
        request._history_state = cached  # type: ignore[union-attr]
    return cached
