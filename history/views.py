"""History pages: the listener's 50-track history with its meter, adding from search results
and track pages, removing one entry and clearing (after a confirmation); the imports page:
upload a listening export, follow its processing (reload to update), take its offered tracks
into the history, undo it.

Thin: a form (``history.forms``) parses, ``history.services`` write, ``history.selectors``
read. Every view acts on ``request.user`` only; another listener's id is "not found".
Everything works without JavaScript: changes are plain POST forms that redirect back. A refusal
(``ApplicationError``) is left to ``musicrec.pages.ApplicationErrorMiddleware``: the not-found
page, or the message at the top of the page the listener came from. A form that failed is shown
again with its message at the top and its errors next to the fields; its action URL answers a
GET with a redirect to its page (``post_only``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from history.forms import HistoryAddForm, HistoryClearForm, ListenImportUploadForm, OfferAcceptForm
from history.listen_formats.parsers import FORMAT_LABELS
from history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM
from history.selectors import entries as entry_selectors
from history.selectors import imports as import_selectors
from history.services import entries as entry_services
from history.services import imports as import_services
from musicrec.errors import ApplicationError
from musicrec.pages import form_errors_text, post_only, redirect_back
from musicrec.throttling import upload_rate_limit


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
    entries = list(entry_selectors.history_list(user=request.user))
    count = len(entries)
    return render(
        request,
        "history/history.html",
        {
            "entries": entries,
            **entry_selectors.history_counts(count),
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
@post_only("history:page")
def history_entry_add(request: HttpRequest) -> HttpResponse:
    form = HistoryAddForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    # history_limit_reached (nothing changed) or an unknown track: ApplicationErrorMiddleware
    change = entry_services.history_entry_add(
        user=request.user, track_id=form.cleaned_data["track_id"]
    )
    title = change.entry.track.title
    if not change.created:
        messages.info(request, f"“{title}” is already in your history.")
    elif change.warning:
        messages.warning(request, f"Added “{title}” to your history — {change.warning}.")
    else:
        messages.success(request, f"Added “{title}” to your history.")
    return redirect_back(request, default=reverse("history:page"))


@login_required
@post_only("history:page")
def history_entry_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    count = entry_services.history_entry_remove(user=request.user, entry_id=entry_id)
    messages.success(request, f"Removed from your history ({count} / {HISTORY_LIMIT} tracks now).")
    return redirect_back(request, default=reverse("history:page"))


@login_required
@post_only("history:page", anchor="clear")
def history_clear(request: HttpRequest) -> HttpResponse:
    """The confirmation is the required checkbox of the form on the history page."""
    form = HistoryClearForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Your history was not cleared. {form_errors_text(form)}")
        return _history_page(request, clear_form=form, status=400)
    removed = entry_services.history_clear(user=request.user)
    messages.success(
        request, f"Your history was cleared ({removed} track{'s' if removed != 1 else ''})."
    )
    return redirect("history:page")


# --------------------------------------------------------------------------- imports


def _imports_page(
    request: HttpRequest, *, form: ListenImportUploadForm | None = None, status: int = 200
) -> HttpResponse:
    imports = list(import_selectors.listen_import_list(user=request.user)[:20])
    offers = import_selectors.listen_import_offers(user=request.user, imports=imports)
    rows = [
        {
            "import": listen_import,
            "label": FORMAT_LABELS.get(listen_import.format, listen_import.format),
            "offered": offers.get(listen_import.pk, []),
        }
        for listen_import in imports
    ]
    summary = entry_selectors.history_summary(user=request.user)
    context = {
        "form": form or ListenImportUploadForm(),
        "rows": rows,
        "summary": summary,
        "history_full": summary["remaining"] <= 0,
        "plays_limit": settings.LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER,
        "in_progress": any(row["import"].status in ("pending", "processing") for row in rows),
    }
    return render(request, "history/imports.html", context, status=status)


@login_required
@require_GET
def imports_page(request: HttpRequest) -> HttpResponse:
    return _imports_page(request)


@login_required
@post_only("history:imports")
def import_upload(request: HttpRequest) -> HttpResponse:
    try:
        upload_rate_limit(request)  # shared with POST /api/v1/imports/; fails closed
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return _imports_page(request, status=refusal.status)
    form = ListenImportUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            listen_import = import_services.listen_import_create(
                user=request.user, file=form.cleaned_data["file"]
            )
        except ApplicationError as error:  # shown next to the field too
            form.add_error("file", error.message)
        else:
            label = FORMAT_LABELS.get(listen_import.format, listen_import.format)
            messages.success(
                request,
                f"“{listen_import.file_name}” was uploaded ({label}). It is being processed: "
                "reload this page to follow it.",
            )
            return redirect("history:imports")
    messages.error(request, f"Your file was not imported. {form_errors_text(form)}")
    return _imports_page(request, form=form, status=400)


@login_required
@post_only("history:imports")
def import_offer_accept(request: HttpRequest, import_id: int) -> HttpResponse:
    listen_import = import_selectors.listen_import_get(user=request.user, import_id=import_id)
    form = OfferAcceptForm(request.POST, listen_import=listen_import)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("track_ids", ["Invalid choice."])))
        return redirect("history:imports")
    change = import_services.listen_import_offer_accept(
        user=request.user, import_id=import_id, track_ids=form.cleaned_data["track_ids"]
    )
    if not change.created:
        messages.info(request, "These tracks are already in your history.")
    else:
        message = f"Added to your history: it now holds {change.count} of {HISTORY_LIMIT} tracks."
        if change.warning:
            message += f" {change.warning}."
        messages.success(request, message)
    return redirect("history:imports")


@login_required
@post_only("history:imports")
def import_undo(request: HttpRequest, import_id: int) -> HttpResponse:
    removed = import_services.listen_import_undo(user=request.user, import_id=import_id)
    messages.success(request, f"Import undone: {removed} plays removed.")
    return redirect("history:imports")
