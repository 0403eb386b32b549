"""History pages: the listener's 50-track history with its meter, adding from search results
and track pages, removing one entry and clearing (after a confirmation); the imports page:
upload a listening export, follow its processing (reload to update), take its offered tracks
into the history, undo it.

Thin: a form (``history.forms``) parses, ``history.services`` write, ``history.selectors``
read. Every view acts on ``request.user`` only; another listener's id is "not found".
Everything works without JavaScript: changes are plain POST forms that redirect back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from history.forms import HistoryAddForm, HistoryClearForm, ListenImportUploadForm, OfferAcceptForm
from history.listen_formats.parsers import FORMAT_LABELS
from history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM
from history.selectors import entries as entry_selectors
from history.selectors import imports as import_selectors
from history.services import entries as entry_services
from history.services import imports as import_services
from musicrec.errors import ApplicationError


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
@require_POST
def history_entry_add(request: HttpRequest) -> HttpResponse:
    form = HistoryAddForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    try:
        change = entry_services.history_entry_add(
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
        count = entry_services.history_entry_remove(user=request.user, entry_id=entry_id)
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
    context = {
        "form": form or ListenImportUploadForm(),
        "rows": rows,
        "summary": entry_selectors.history_summary(user=request.user),
        "in_progress": any(row["import"].status in ("pending", "processing") for row in rows),
    }
    return render(request, "history/imports.html", context, status=status)


@login_required
@require_GET
def imports_page(request: HttpRequest) -> HttpResponse:
    return _imports_page(request)


@login_required
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ListenImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _imports_page(request, form=form, status=400)
    try:
        listen_import = import_services.listen_import_create(
            user=request.user, file=form.cleaned_data["file"]
        )
    except ApplicationError as error:
        form.add_error("file", error.message)
        return _imports_page(request, form=form, status=400)
    messages.success(
        request,
        f"“{listen_import.file_name}” was uploaded "
        f"({FORMAT_LABELS.get(listen_import.format, listen_import.format)}). "
        "It is being processed: reload this page to follow it.",
    )
    return redirect("history:imports")


@login_required
@require_POST
def import_offer_accept(request: HttpRequest, import_id: int) -> HttpResponse:
    try:
        listen_import = import_selectors.listen_import_get(user=request.user, import_id=import_id)
    except ApplicationError:
        return render(request, "404.html", status=404)
    form = OfferAcceptForm(request.POST, listen_import=listen_import)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("track_ids", ["Invalid choice."])))
        return redirect("history:imports")
    try:
        change = import_services.listen_import_offer_accept(
            user=request.user, import_id=import_id, track_ids=form.cleaned_data["track_ids"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("history:imports")
    if not change.created:
        messages.info(request, "These tracks are already in your history.")
    else:
        message = f"Added to your history: it now holds {change.count} of {HISTORY_LIMIT} tracks."
        if change.warning:
            message += f" {change.warning}."
        messages.success(request, message)
    return redirect("history:imports")


@login_required
@require_POST
def import_undo(request: HttpRequest, import_id: int) -> HttpResponse:
    try:
        removed = import_services.listen_import_undo(user=request.user, import_id=import_id)
    except ApplicationError as error:
        if error.status == 404:
            return render(request, "404.html", status=404)
        messages.error(request, error.message)  # still processing
        return redirect("history:imports")
    messages.success(request, f"Import undone: {removed} plays removed.")
    return redirect("history:imports")
