"""Project-wide request checks that belong to no app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from musicrec.views import bad_request_reason

NUL = "\x00"


def query_parameter_with_nul(request: HttpRequest) -> str | None:
    """The name of the first query parameter whose name or value holds a NUL, else None."""
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            return name
    return None


class RejectNulQueryMiddleware:
    """A NUL character (``%00``) in a query parameter is a 400, before any view sees it.

    PostgreSQL refuses NUL in text, so every view, filter and admin search that passes a query
    parameter to the database would otherwise fail with a 500. No legitimate parameter holds
    one; rejecting them here is one check instead of one per field. (Form and JSON bodies are
    covered by the fields themselves: Django's and DRF's CharField refuse NUL.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = query_parameter_with_nul(request)
        if name is not None:
            shown = name.replace(NUL, "%00")[:50]
            return bad_request_reason(
                request,
                reason=f"The query parameter {shown!r} contains a NUL character (%00), "
                "which is never valid. Remove it and try again.",
                code="null_character",
                extra={"parameter": shown},
            )
        return self.get_response(request)
