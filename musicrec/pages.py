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
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
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
