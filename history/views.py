"""History pages: the listener's 50-track history with its meter, adding from search results
and track pages, removing one entry and clearing (after a confirmation).

Thin: a small form parses, ``history.services`` write, ``history.selectors`` read. Every view acts
on ``request.user`` only; another listener's entry id is "not found". Everything works without
JavaScript: adds and removals are plain POST forms that redirect back (``next``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog.models import ID_MAX
from history import selectors, services
from history.import_views import ListenImportUploadForm
from history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM
from musicrec.errors import ApplicationError


class HistoryAddForm(forms.Form):
    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)


class HistoryClearForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Yes, remove every track from my history",
        error_messages={"required": "Tick the box to confirm that the whole history goes."},
    )


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """To ``next`` when it is a URL of this site, else to the history page."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("history:page")
    return redirect(target)


def meter_state(count: int) -> str:
    """``ok``, ``warning`` (from 45 entries) or ``full`` (50): the meter's CSS state."""
    if count >= HISTORY_LIMIT:
        return "full"
    if count >= HISTORY_WARNING_FROM:
        return "warning"
    return "ok"


def _history_page(
    request: HttpRequest, *, clear_form: HistoryClearForm | None = None, status: int = 200
) -> HttpResponse:
    entries = list(selectors.history_list(user=request.user))
    count = len(entries)
    return render(
        request,
        "history/history.html",
        {
            "entries": entries,
            **selectors.history_counts(count),
            "warning_from": HISTORY_WARNING_FROM,
            "state": meter_state(count),
            "clear_form": clear_form or HistoryClearForm(),
            "import_form": ListenImportUploadForm(),
        },
        status=status,
    )


@login_required
@require_GET
def history_page(request: HttpRequest) -> HttpResponse:
    return _history_page(request)


@login_required
@require_POST
def history_entry_add(request: HttpRequest) -> HttpResponse:
    form = HistoryAddForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    try:
        change = services.history_entry_add(
            user=request.user, track_id=form.cleaned_data["track_id"]
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        # history_limit_reached: nothing changed; say why on the page the listener came from
        messages.error(request, exc.message)
        return _back(request)
    title = change.entry.track.title
    if not change.created:
        messages.info(request, f"“{title}” is already in your history.")
    elif change.warning:
        messages.warning(request, f"Added “{title}” to your history — {change.warning}.")
    else:
        messages.success(request, f"Added “{title}” to your history.")
    return _back(request)


@login_required
@require_POST
def history_entry_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        count = services.history_entry_remove(user=request.user, entry_id=entry_id)
    except ApplicationError as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"Removed from your history ({count} / {HISTORY_LIMIT} tracks now).")
    return _back(request)


@login_required
@require_POST
def history_clear(request: HttpRequest) -> HttpResponse:
    """The confirmation is the required checkbox of the form on the history page."""
    form = HistoryClearForm(request.POST)
    if not form.is_valid():
        return _history_page(request, clear_form=form, status=400)
    removed = services.history_clear(user=request.user)
    messages.success(
        request, f"Your history was cleared ({removed} track{'s' if removed != 1 else ''})."
    )
    return redirect("history:page")
