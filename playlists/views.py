"""Playlist pages: the listener's playlists, one playlist (reorder by drag or by up/down
buttons, remove, rename, describe, make public, delete, export), a listener's public page, the
generate form with its track pickers, import with its report, and "add to playlist" from every
page that lists tracks.

Thin: forms (``playlists.forms``) parse, ``playlists.services`` write, ``playlists.selectors``
read. Every page needs a signed-in listener (anonymous visitors are sent to sign in, as
public playlists are readable by anyone *signed in*). Who may do what is the selectors' rule:
another listener's private playlist is "not found" (404, its existence is not revealed);
another's public one can be read and exported, and changing it is a 403 page.

Everything works without JavaScript: changes are plain POST forms that redirect back with a
message; a refusal (``ApplicationError``) goes to ``musicrec.pages.ApplicationErrorMiddleware``
(the 404 page, or the message at the top of the page the listener came from). The drag of
``static/js/playlist-reorder.js`` posts the same move as the up/down buttons, asking for JSON.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from catalog.selectors import track_get, track_search_ranked_ids, tracks_in_order
from musicrec.errors import ApplicationError
from musicrec.pages import form_errors_text, post_only, redirect_back
from musicrec.throttling import rate_limit
from playlists.forms import (
    LENGTH_DEFAULT,
    TRACK_PICKERS,
    DeleteForm,
    GenerateForm,
    ImportForm,
    PickForm,
    PlaylistCreateForm,
    PlaylistForm,
    TrackAddForm,
    TrackForm,
    TrackMoveForm,
)
from playlists.models import PLAYLIST_TRACKS_MAX, Origin, Playlist
from playlists.selectors import pages as page_selectors
from playlists.selectors.owners import playlist_owner_get
from playlists.selectors.playlists import (
    playlist_entries,
    playlist_get,
    playlist_list,
    playlist_owned,
)
from playlists.selectors.transfer import EXPORT_FORMATS, playlist_export
from playlists.services import playlists as services
from playlists.services.generate import playlist_generate
from playlists.services.transfer import playlist_import

LIST = "playlists:list"
#: the export formats offered (``playlists.selectors.transfer.EXPORT_FORMATS``), with labels
EXPORT_LABELS = {
    fmt: {"m3u": "M3U", "jspf": "JSPF (JSON)", "csv": "CSV"}.get(fmt, fmt.upper())
    for fmt in EXPORT_FORMATS
}
#: results a track picker shows
PICK_RESULTS = 10


def _forbidden(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(request, "error.html", {"error": error}, status=403)


def _owned(request: HttpRequest, playlist_id: int) -> Playlist | HttpResponse:
    """The listener's own playlist, the 404 page (``ApplicationError``) when they may not see
    it, or the 403 page when it is another listener's public one: no button of the pages
    offers that change, so it is a crafted request, answered as such (no redirect)."""
    try:
        return playlist_owned(user=request.user, playlist_id=playlist_id)
    except ApplicationError as error:
        if error.status == 403:
            return _forbidden(request, error)
        raise


def _detail_url(playlist_id: int) -> str:
    return reverse("playlists:detail", args=[playlist_id])


# --------------------------------------------------------------------------- lists


@login_required
@require_safe
def playlist_list_page(request: HttpRequest) -> HttpResponse:
    playlists = Paginator(playlist_list(viewer=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "playlists/list.html",
        {"page": playlists, "playlists": playlists.object_list},
    )


@login_required
@require_safe
def playlists_by_owner(request: HttpRequest, username: str) -> HttpResponse:
    """A listener's public page: their public playlists (the owner sees the same page, as
    others see it, with a link to all of theirs)."""
    owner = playlist_owner_get(username=username)
    public = playlist_list(viewer=request.user, owner=owner).filter(is_public=True)
    playlists = Paginator(public, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "playlists/by_owner.html",
        {"owner": owner, "page": playlists, "playlists": playlists.object_list},
    )


# --------------------------------------------------------------------------- create


def _create_page(
    request: HttpRequest, form: PlaylistCreateForm, *, status: int = 200
) -> HttpResponse:
    track = page_selectors.picked_track(track_id=_as_int(form["track_id"].value()))
    return render(request, "playlists/new.html", {"form": form, "track": track}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def playlist_new(request: HttpRequest) -> HttpResponse:
    """The "New playlist" form (``?track_id=`` starts it with that track: "new playlist with
    this track", whose add is recorded as an ``add_to_playlist`` like any other)."""
    if request.method != "POST":
        return _create_page(request, PlaylistCreateForm(initial=request.GET.dict()))
    form = PlaylistCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                playlist = services.playlist_create(
                    owner=request.user,
                    name=data["name"],
                    description=data["description"],
                    is_public=data["is_public"],
                )
                if data["track_id"]:
                    services.playlist_tracks_add(
                        user=request.user, playlist_id=playlist.pk, track_ids=[data["track_id"]]
                    )
        except ValidationError as error:
            form.add_error(None, error)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Playlist “{playlist.name}” was made.")
            return redirect(_detail_url(playlist.pk))
    messages.error(request, f"No playlist was made. {form_errors_text(form)}")
    return _create_page(request, form, status=400)


# --------------------------------------------------------------------------- one playlist


def _detail_page(
    request: HttpRequest,
    playlist: Playlist,
    *,
    edit_form: PlaylistForm | None = None,
    status: int = 200,
) -> HttpResponse:
    entries = playlist_entries(playlist=playlist)
    own = playlist.owner_id == request.user.pk
    context: dict[str, Any] = {
        "playlist": playlist,
        "entries": entries,
        "own": own,
        "exports": EXPORT_LABELS,
        "tracks_max": PLAYLIST_TRACKS_MAX,
    }
    if own:
        context["edit_form"] = edit_form or PlaylistForm(
            initial={
                "name": playlist.name,
                "description": playlist.description,
                "is_public": playlist.is_public,
            }
        )
    return render(request, "playlists/detail.html", context, status=status)


@login_required
@require_safe
def playlist_detail(request: HttpRequest, playlist_id: int) -> HttpResponse:
    return _detail_page(request, playlist_get(viewer=request.user, playlist_id=playlist_id))


@login_required
@post_only(LIST)
def playlist_edit(request: HttpRequest, playlist_id: int) -> HttpResponse:
    owned = _owned(request, playlist_id)
    if isinstance(owned, HttpResponse):
        return owned
    form = PlaylistForm(request.POST)
    if form.is_valid():
        try:
            services.playlist_update(
                user=request.user, playlist_id=playlist_id, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Saved.")
            return redirect(_detail_url(playlist_id))
    messages.error(request, f"Nothing was saved. {form_errors_text(form)}")
    return _detail_page(request, owned, edit_form=form, status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def playlist_delete(request: HttpRequest, playlist_id: int) -> HttpResponse:
    """A confirmation page (a required checkbox: it works without JavaScript), then delete."""
    owned = _owned(request, playlist_id)
    if isinstance(owned, HttpResponse):
        return owned
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            services.playlist_delete(user=request.user, playlist_id=playlist_id)
            messages.success(request, f"Playlist “{owned.name}” was deleted.")
            return redirect(LIST)
        # Only the box can be missing: its label ("Yes, delete this playlist") before the
        # field's error would read as a contradiction at the top of the page.
        messages.error(request, "Nothing was deleted: tick the box to confirm, then delete.")
    return render(
        request,
        "playlists/delete.html",
        {"playlist": owned, "form": form},
        status=400 if form.is_bound else 200,
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@post_only(LIST)
def playlist_track_move(request: HttpRequest, playlist_id: int) -> HttpResponse:
    """Move one track to a 1-based position: the up/down buttons (a redirect back to the
    track's row) and the drag (``Accept: application/json``: the new order, or the refusal as
    ``{"error", "code"}`` with its status)."""
    json = _wants_json(request)
    owned = _owned(request, playlist_id)
    if isinstance(owned, HttpResponse):
        if json:
            return JsonResponse({"error": "forbidden", "code": "forbidden"}, status=403)
        return owned
    form = TrackMoveForm(request.POST)
    if not form.is_valid():
        if json:
            return JsonResponse({"error": form_errors_text(form), "code": "invalid"}, status=400)
        messages.error(request, f"Nothing was moved. {form_errors_text(form)}")
        return redirect(_detail_url(playlist_id))
    track_id, position = form.cleaned_data["track_id"], form.cleaned_data["position"]
    try:
        order = services.playlist_track_move(
            user=request.user, playlist_id=playlist_id, track_id=track_id, position=position
        )
    except ApplicationError as error:
        if json:
            return JsonResponse({"error": error.message, "code": error.code}, status=error.status)
        raise
    if json:
        return JsonResponse({"order": order})
    return redirect(f"{_detail_url(playlist_id)}#entry-{track_id}")


@login_required
@post_only(LIST)
def playlist_track_remove(request: HttpRequest, playlist_id: int) -> HttpResponse:
    owned = _owned(request, playlist_id)
    if isinstance(owned, HttpResponse):
        return owned
    form = TrackForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was removed. {form_errors_text(form)}")
        return redirect(_detail_url(playlist_id))
    track_id = form.cleaned_data["track_id"]
    left = services.playlist_track_remove(
        user=request.user, playlist_id=playlist_id, track_id=track_id
    )
    title = track_get(track_id=track_id).title
    messages.success(request, f"Removed “{title}” ({left} track{'s' if left != 1 else ''} left).")
    return redirect(_detail_url(playlist_id))


@login_required
@require_safe
def playlist_export_download(request: HttpRequest, playlist_id: int, fmt: str) -> HttpResponse:
    """The playlist as a file (M3U, JSPF or CSV): the owner's, or another listener's public
    one, like reading it."""
    playlist = playlist_get(viewer=request.user, playlist_id=playlist_id)
    if fmt not in EXPORT_LABELS:
        raise ApplicationError("No such export format.", code="not_found", status=404)
    export = playlist_export(
        playlist=playlist, fmt=fmt, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = export.content_disposition
    return response


# --------------------------------------------------------------------------- add to playlist


@login_required
@post_only(LIST)
def playlist_track_add(request: HttpRequest) -> HttpResponse:
    """ "Add to playlist" from any page that lists tracks: back to that page with a message
    (recorded as an ``add_to_playlist`` interaction by the service)."""
    form = TrackAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was added. {form_errors_text(form)}")
        return redirect_back(request, default=reverse(LIST))
    owned = _owned(request, form.cleaned_data["playlist_id"])
    if isinstance(owned, HttpResponse):
        return owned
    # already there (409), full, an unknown track: the middleware's message, nothing changed
    added = services.playlist_tracks_add(
        user=request.user,
        playlist_id=owned.pk,
        track_ids=[form.cleaned_data["track_id"]],
    )
    title = track_get(track_id=form.cleaned_data["track_id"]).title
    detail = _detail_url(owned.pk)
    messages.success(request, f"Added “{title}” to “{added.playlist.name}” ({added.count} tracks).")
    return redirect_back(request, default=detail)


# --------------------------------------------------------------------------- generate


def _generate_page(request: HttpRequest, form: GenerateForm, *, status: int = 200) -> HttpResponse:
    data = form.data if form.is_bound else form.initial
    pickers = []
    for name, label in TRACK_PICKERS.items():
        pickers.append(
            {
                "name": name,
                "label": label,
                "track": page_selectors.picked_track(track_id=_as_int(data.get(name))),
                "field": form[name],
            }
        )
    artist = page_selectors.picked_artist(artist_id=_as_int(data.get("seed_artist_id")))
    return render(
        request,
        "playlists/generate.html",
        {"form": form, "pickers": {p["name"]: p for p in pickers}, "seed_artist": artist},
        status=status,
    )


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


GENERATE_FIELDS = (
    "kind",
    "length",
    "seed_track_id",
    "seed_artist_id",
    "mood",
    "activity",
    "from_track_id",
    "to_track_id",
    "seed",
    "is_public",
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def playlist_generate_page(request: HttpRequest) -> HttpResponse:
    """The generate form. A GET takes its fields from the query (a track page's "Radio from
    this track" link, a picker's choice); a POST makes the playlist and opens it."""
    if request.method != "POST":
        initial: dict[str, Any] = {"kind": "recommendations", "length": LENGTH_DEFAULT}
        initial.update({k: v for k, v in request.GET.items() if k in GENERATE_FIELDS and v != ""})
        return _generate_page(request, GenerateForm(initial=initial))
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            playlist = playlist_generate(owner=request.user, **form.generator_arguments())
        except ValidationError as error:
            _add_errors(form, error)
        except ApplicationError as error:
            if error.status not in (400, 404, 409):
                raise
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Made “{playlist.name}”.")
            return redirect(_detail_url(playlist.pk))
    messages.error(request, f"No playlist was made. {form_errors_text(form)}")
    return _generate_page(request, form, status=400)


def _add_errors(form: GenerateForm, error: ValidationError) -> None:
    """The generator's errors next to the form's fields (a field the form lacks goes on top)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_safe
def track_pick(request: HttpRequest) -> HttpResponse:
    """The generate form's track picker: the catalog's search for a field of the form. Asked
    as a fragment (``HX-Request``: the page's script, searching as you type) only the results;
    without JavaScript a page of results, each a
    link back to the form with that track chosen and the form's other fields kept."""
    if "csrfmiddlewaretoken" in request.GET:  # the form's "Find" button sent it all: drop it
        query = request.GET.copy()
        del query["csrfmiddlewaretoken"]
        return redirect(f"{reverse('playlists:pick')}?{query.urlencode()}")
    form = PickForm(request.GET)
    if not form.is_valid():
        return redirect("playlists:generate")
    field = form.cleaned_data["field"]
    query = (form.cleaned_data["q"] or request.GET.get(f"q_{field}", "")).strip()
    if not query:  # Enter in another picker's box presses the form's first "Find"
        typed = [request.GET.get(f"q_{name}", "").strip() for name in TRACK_PICKERS]
        others = [(name, q) for name, q in zip(TRACK_PICKERS, typed, strict=True) if q]
        if len(others) == 1:
            field, query = others[0]
    hint, tracks = "", []
    try:
        ranked = track_search_ranked_ids(query=query[:200])
    except ApplicationError as error:
        hint = error.message
    else:
        tracks = tracks_in_order(track_ids=[track_id for track_id, _ in ranked[:PICK_RESULTS]])
        if not tracks:
            hint = f"No tracks match “{query}”."
    kept = {k: v for k, v in request.GET.items() if k in GENERATE_FIELDS and k != field}
    choices = []
    for track in tracks:
        params = {**kept, field: str(track.pk)}
        choices.append({"track": track, "query": params})
    context = {
        "query": query,
        "field": field,
        "label": TRACK_PICKERS[field],
        "hint": hint,
        "choices": choices,
        "kept": kept,
    }
    template = "playlists/_pick_results.html" if request.htmx else "playlists/pick.html"
    return render(request, template, context)


# --------------------------------------------------------------------------- import


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def playlist_import_page(request: HttpRequest) -> HttpResponse:
    """Upload a playlist file; then, after a redirect (a reload never sends the file again),
    the report of what did not match."""
    if request.method != "POST":
        return render(request, "playlists/import.html", {"form": ImportForm()})
    try:
        rate_limit(request, scope="playlist_imports")  # shared with the API's upload; fails closed
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return render(
            request, "playlists/import.html", {"form": ImportForm()}, status=refusal.status
        )
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            outcome = playlist_import(
                owner=request.user,
                upload=form.cleaned_data["file"],
                name=form.cleaned_data["name"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect("playlists:import_report", playlist_id=outcome.playlist.pk)
    messages.error(request, f"Nothing was imported. {form_errors_text(form)}")
    return render(request, "playlists/import.html", {"form": form}, status=400)


@login_required
@require_safe
def playlist_import_report(request: HttpRequest, playlist_id: int) -> HttpResponse:
    """What an import matched and what it did not (kept with the playlist by the import:
    ``origin_parameters``), for its owner; the playlist itself for anything else."""
    playlist = playlist_get(viewer=request.user, playlist_id=playlist_id)
    if playlist.origin != Origin.IMPORT or playlist.owner_id != request.user.pk:
        return redirect(_detail_url(playlist.pk))
    report = playlist.origin_parameters or {}
    unmatched = [row for row in report.get("unmatched", []) if isinstance(row, dict)]
    return render(
        request,
        "playlists/import_report.html",
        {
            "playlist": playlist,
            "report": report,
            "unmatched": unmatched,
            "unmatched_count": int(report.get("unmatched_count", len(unmatched)) or 0),
        },
    )
