"""Domain errors on server-rendered pages, handled one way (as ``musicrec.api.errors`` does for
the API).

A page view lets ``ApplicationError`` propagate unless it wants to show the message next to a
form field. ``ApplicationErrorMiddleware`` then answers:

* ``status`` 404: the not-found page, with the message;
* a POST (a button or form that changes something): the message at the top of the page the
  listener came from (``next`` when it is a URL of this site, else the same-site referrer, else
  the start page), after a redirect, so that reloading never re-sends the form and the address
  stays one that answers a GET;
* anything else: an error page with the message and the error's status.

Paths under ``/api/`` are left to DRF's handler.

A page view that shows a form again after a failed POST renders it (status 400) with the
message at the top (``messages.error``, e.g. ``form_errors_text``) and the errors next to the
fields; the address it is left at is the action URL, so action views are wrapped in
``post_only(page)``: a GET there (a reload, a bookmark) is sent to the page, never a bare 405.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from musicrec.errors import ApplicationError


def _is_own(request: HttpRequest, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request: HttpRequest, *, default: str) -> str:
    """``next`` (POST, then GET) when it is a URL of this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if _is_own(request, target) else default


def redirect_back(request: HttpRequest, *, default: str) -> HttpResponseRedirect:
    """To ``next`` when it is a URL of this site, else to ``default``."""
    return redirect(safe_next(request, default=default))


View = Callable[..., HttpResponse]


def post_only(page: str, *, anchor: str = "") -> Callable[[View], View]:
    """For a view that only acts on POST (a button, a form): a GET or HEAD — a reload of the
    address where a failed form was shown, a bookmark — is redirected to ``page`` (a URL name or
    path, plus ``#anchor``) instead of Django's empty 405; other methods are still a 405."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(resolve_url(page) + (f"#{anchor}" if anchor else ""))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def form_errors_text(form: forms.BaseForm) -> str:
    """The errors of a bound form in one line, each after its field's label: for the message
    at the top of the page (the errors also stay next to their fields)."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        label = form[name].label if name in form.fields else ""
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


def _came_from(request: HttpRequest) -> str:
    referrer = request.headers.get("Referer", "")
    if _is_own(request, referrer):
        parts = urlsplit(referrer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


class ApplicationErrorMiddleware:
    """Turns an ``ApplicationError`` that a page view raised into a page (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        if exception.status == 404:
            return render(request, "404.html", {"message": exception.message}, status=404)
        if request.method == "POST":
            messages.error(request, exception.message)
            return redirect(safe_next(request, default=_came_from(request)))
        return render(request, "error.html", {"error": exception}, status=exception.status)
