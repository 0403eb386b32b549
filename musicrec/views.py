"""Project-level error pages: JSON under /api/, HTML elsewhere."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_not_found_response(request: HttpRequest) -> JsonResponse:
    body = {"error": "Not found.", "code": "not_found"}
    if not request.path_info.endswith("/"):
        # No redirect to the URL with the slash (APPEND_SLASH): a POST would lose its body, and
        # Django refuses it with DEBUG on. Name the right URL instead.
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            body["did_you_mean"] = request.path + "/"
    return JsonResponse(body, status=404)


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every URL under /api/ that no API view serves (the last pattern of the URLconf).

    A route rather than only ``handler404``: with DEBUG on, Django answers an unresolved URL
    with its technical 404 page and never calls the handler, and API clients need JSON always.
    """
    return _api_not_found_response(request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return _api_not_found_response(request)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"error": "Something went wrong on our side.", "code": "server_error"}, status=500
        )
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": "Bad request.", "code": "bad_request"}, status=400)
    return render(request, "400.html", status=400)


def bad_request_reason(
    request: HttpRequest, *, reason: str, code: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    """A 400 that says what is wrong: the API's error format, or the 400 page with ``reason``."""
    if _wants_json(request):
        return JsonResponse({"error": reason, "code": code, **(extra or {})}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"error": "You do not have permission to do this.", "code": "permission_denied"},
            status=403,
        )
    return render(request, "403.html", status=403)
