"""The imports page: upload a listening export, follow its processing (reload to update), take
its offered tracks into the history, undo it.

Thin: a small form parses, ``history.imports.services`` write, ``history.imports.selectors``
read. Only the caller's imports; another listener's id is "not found". No JavaScript needed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from history.imports import selectors, services
from history.imports.parsers import FORMAT_LABELS
from history.models import HISTORY_LIMIT, ListenImport
from history.selectors import history_summary
from musicrec.errors import ApplicationError


class ListenImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="Last.fm scrobbles CSV, Spotify StreamingHistory / Streaming_History_Audio / "
        "endsong JSON or the ZIP Spotify sends, ListenBrainz listens (JSON or JSON lines), "
        ".scrobbler.log.",
        allow_empty_file=False,
    )


class OfferAcceptForm(forms.Form):
    track_ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)

    def __init__(self, *args, listen_import: ListenImport, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track_ids"].choices = [
            (track_id, track_id) for track_id in listen_import.offered_track_ids
        ]
        self.fields["track_ids"].error_messages["required"] = "Tick at least one track."


def _imports_page(
    request: HttpRequest, *, form: ListenImportUploadForm | None = None, status: int = 200
) -> HttpResponse:
    imports = list(selectors.listen_import_list(user=request.user)[:20])
    offers = selectors.listen_import_offers(user=request.user, imports=imports)
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
        "summary": history_summary(user=request.user),
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
        listen_import = services.listen_import_create(
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
        listen_import = selectors.listen_import_get(user=request.user, import_id=import_id)
    except ApplicationError:
        return render(request, "404.html", status=404)
    form = OfferAcceptForm(request.POST, listen_import=listen_import)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("track_ids", ["Invalid choice."])))
        return redirect("history:imports")
    try:
        change = services.listen_import_offer_accept(
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
        removed = services.listen_import_undo(user=request.user, import_id=import_id)
    except ApplicationError as error:
        if error.status == 404:
            return render(request, "404.html", status=404)
        messages.error(request, error.message)  # still processing
        return redirect("history:imports")
    messages.success(request, f"Import undone: {removed} plays removed.")
    return redirect("history:imports")
