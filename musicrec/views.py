"""Project-level error pages: JSON under /api/, HTML elsewhere."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": "Not found.", "code": "not_found"}, status=404)
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
