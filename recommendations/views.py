"""Recommendation pages: the signed-in listener's home (the list with its reasons, feedback
buttons, the context picker and discovery slider, trending), the list fragment the page and its
live client fetch, and the feedback actions every page that lists tracks posts to.

Thin: forms (``recommendations.forms``) parse, the services of history (``interaction_record``)
and accounts (``artist_block``, ``listener_context_update`` …) write, and the list is served by
``recommendation_list_serve`` — the one path, so each list shown is recorded as an impression
whose id the feedback carries back.

Everything works without JavaScript: each button is a plain POST form that redirects back with
a message. With htmx (``request.htmx``) the same POST answers a fragment instead: the list
(``#rec-list``: after a dislike, a skip, a blocked artist or new controls, so a track the
listener turned down is gone at once) or the buttons of the one track. Refusals
(``ApplicationError``: an unknown track or artist) go to
``musicrec.pages.ApplicationErrorMiddleware``. Every view acts on ``request.user`` only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_safe

from accounts import services as account_services
from catalog import views as catalog_views
from catalog.models import Track
from catalog.selectors import track_get
from history.models import Interaction
from history.selectors.entries import history_state
from history.services.interactions import interaction_record
from musicrec.pages import form_errors_text, post_only, redirect_back, safe_next
from recommendations.forms import ArtistForm, DiscoveryForm, FeedbackForm, ListControlsForm
from recommendations.models import ImpressionSurface
from recommendations.selectors.pages import (
    home_trending,
    listener_has_preferred_genres,
    listener_opinions,
)
from recommendations.services.lists import recommendation_list_serve

#: The id of the element the list fragment fills (htmx's ``HX-Target``).
LIST_TARGET = "rec-list"

HOME = "recommendations:home"


def _pages_setting(name: str) -> int:
    return int(settings.RECOMMENDER["pages"][name])


def _list_context(request: HttpRequest, *, shown: uuid.UUID | None = None) -> dict[str, Any]:
    """A list served now for the home page (recorded as a ``web`` impression, unless it is the
    list of impression ``shown`` the live update already recorded), with the listener's
    opinions of its tracks and their history (for the buttons' state)."""
    served = recommendation_list_serve(
        user=request.user,
        n=_pages_setting("home_results"),
        surface=ImpressionSurface.WEB,
        shown=shown,
    )
    track_ids = [result["track"]["id"] for result in served.payload["results"]]
    return {
        "served": served.payload,
        "opinions": listener_opinions(user=request.user, track_ids=track_ids),
        "history": history_state(user=request.user),
    }


def _list_fragment(
    request: HttpRequest,
    *,
    status: int = 200,
    notice: str | None = None,
    undo_on_profile: bool = False,
    shown: uuid.UUID | None = None,
) -> HttpResponse:
    """The list fragment. The answer to a button (``notice`` not None) also says what the
    button did, swapped out of band into the page's ``#rec-notice`` (htmx), so the listener
    sees why the list changed; ``""`` empties it (new controls: the last notice is stale).
    The live client's GET carries none, and names the pushed list's impression (``shown``)."""
    context = _list_context(request, shown=shown)
    context.update(notice=notice, undo_on_profile=undo_on_profile)
    return render(request, "recommendations/_list.html", context, status=status)


def _home_page(
    request: HttpRequest, *, controls: ListControlsForm | None = None, status: int = 200
) -> HttpResponse:
    context = _list_context(request)
    context.update(
        controls=controls or ListControlsForm(initial=ListControlsForm.initial_for(request.user)),
        trending=home_trending(limit=_pages_setting("home_trending"), user=request.user),
        history_count=context["history"].count,
        history_limit=context["history"].limit,
        preferred_genres=listener_has_preferred_genres(user=request.user),
    )
    return render(request, "recommendations/home.html", context, status=status)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in listener's dashboard; visitors get the catalog's home page as before."""
    if not request.user.is_authenticated:
        return catalog_views.home(request)
    return _home_page(request)


@login_required
@require_GET
def list_fragment(request: HttpRequest) -> HttpResponse:
    """A freshly served list, as the fragment that fills ``#rec-list`` (the live client
    fetches it when the server says the list changed, naming the pushed list's impression in
    ``?impression=``: when that is the list served now, it is shown under that impression and
    not recorded twice; a malformed id is ignored). Opened as a page, it is the home page."""
    if not request.htmx:
        return redirect(reverse(HOME) + "#recommendations")
    try:
        shown = uuid.UUID(request.GET.get("impression", ""))
    except ValueError:
        shown = None
    return _list_fragment(request, shown=shown)


def _track_label(track_id: int) -> str:
    return f"“{Track.objects.filter(pk=track_id).values_list('title', flat=True).first()}”"


FEEDBACK_MESSAGES = {
    Interaction.Kind.LIKE: "You like {title}: more like it will follow.",
    Interaction.Kind.DISLIKE: "{title} will not be recommended to you again.",
    Interaction.Kind.SKIP: "Skipped {title}: it stays out of your list for a day.",
}


@login_required
@post_only(HOME)
def feedback(request: HttpRequest) -> HttpResponse:
    """Like, dislike or skip a track (``history.services.interactions.interaction_record``)."""
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    track_id = form.cleaned_data["track_id"]
    kind = form.cleaned_data["kind"]
    # an unknown track: ApplicationError 404 (the middleware's not-found page)
    interaction_record(
        user=request.user,
        track_id=track_id,
        kind=kind,
        impression_id=form.cleaned_data["impression_id"],
    )
    if request.htmx:
        if request.htmx.target == LIST_TARGET:
            notice = FEEDBACK_MESSAGES[kind].format(title=_track_label(track_id))
            return _list_fragment(request, notice=notice)
        return _track_buttons(request, form=form)
    messages.success(request, FEEDBACK_MESSAGES[kind].format(title=_track_label(track_id)))
    return redirect_back(request, default=reverse(HOME))


def _track_buttons(request: HttpRequest, *, form: FeedbackForm) -> HttpResponse:
    """The buttons of one track in their new state (htmx swaps them in), still carrying the
    list they belong to, if any."""
    track = track_get(track_id=form.cleaned_data["track_id"])
    return render(
        request,
        "recommendations/_track_buttons.html",
        {
            "track": track,
            "artists": track.artist_list,
            "impression_id": form.cleaned_data["impression_id"],
            "opinions": listener_opinions(user=request.user, track_ids=[track.pk]),
            "back": safe_next(request, default=reverse(HOME)).split("#", 1)[0],
        },
    )


@login_required
@post_only(HOME)
def artist_block(request: HttpRequest) -> HttpResponse:
    """ "Not this artist" (``accounts.services.artist_block``): its tracks leave the list."""
    form = ArtistForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    # an unknown artist: ApplicationError 404
    block = account_services.artist_block(
        user=request.user, artist_id=form.cleaned_data["artist_id"]
    )
    if request.htmx and request.htmx.target == LIST_TARGET:
        notice = f"“{block.artist.name}” will not be recommended to you again."
        return _list_fragment(request, notice=notice, undo_on_profile=True)
    messages.success(
        request,
        f"“{block.artist.name}” will not be recommended to you again. "
        "You can undo this on your profile.",
    )
    return redirect_back(request, default=reverse(HOME))


@login_required
@post_only("accounts:profile", anchor="recommendations")
def artist_unblock(request: HttpRequest) -> HttpResponse:
    form = ArtistForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", status=400)
    if account_services.artist_unblock(user=request.user, artist_id=form.cleaned_data["artist_id"]):
        messages.success(request, "Unblocked: that artist may be recommended to you again.")
    else:
        messages.info(request, "That artist was not blocked.")
    return redirect_back(request, default=reverse("accounts:profile") + "#recommendations")


@login_required
@post_only(HOME)
def list_controls(request: HttpRequest) -> HttpResponse:
    """The context picker and the discovery slider of the home page: stored as the listener's
    (so the API and live updates follow them too), then the list served again."""
    form = ListControlsForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():  # both or neither
                account_services.listener_context_update(
                    user=request.user,
                    mood=form.cleaned_data["mood"] or None,
                    activity=form.cleaned_data["activity"] or None,
                )
                account_services.listener_discovery_update(
                    user=request.user, discovery=form.cleaned_data["discovery"]
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # the services saved a locked copy: the list is served from what they stored
            request.user.refresh_from_db(fields=["mood", "activity", "discovery"])
            if request.htmx:
                return _list_fragment(request, notice="")
            messages.success(request, "Your list follows your new settings.")
            return redirect_back(request, default=reverse(HOME) + "#recommendations")
    if request.htmx:  # only a tampered request gets here: the controls offer valid values
        return _list_fragment(request, status=400)
    messages.error(request, f"Nothing was changed. {form_errors_text(form)}")
    return _home_page(request, controls=form, status=400)


@login_required
@post_only("accounts:profile", anchor="recommendations")
def discovery_default(request: HttpRequest) -> HttpResponse:
    """The default discovery, set on the profile page."""
    form = DiscoveryForm(request.POST)
    if form.is_valid():
        account_services.listener_discovery_update(
            user=request.user, discovery=form.cleaned_data["discovery"]
        )
        messages.success(request, "Your discovery setting was saved.")
    else:
        messages.error(request, f"Nothing was saved. {form_errors_text(form)}")
    return redirect_back(request, default=reverse("accounts:profile") + "#recommendations")
