"""One error format for the whole API.

Validation errors keep DRF's ``{field: [messages]}`` shape; every other error (401, 403, 404,
405, 429, domain errors) becomes ``{"error": "...", "code": "...", ...extra}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from musicrec.errors import ApplicationError

logger = logging.getLogger(__name__)


def _first_code(detail: Any) -> str:
    codes = detail
    while isinstance(codes, (list, dict)):
        if not codes:
            return "error"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = {"error": exc.message, "code": exc.code, **exc.extra}
        response = Response(body, status=exc.status)
        if "retry_after" in exc.extra:  # a rate limit's refusal (musicrec.throttling)
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        # DRF's own shape: {field: [messages]} (a bare list becomes non_field_errors).
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        return response

    detail = getattr(exc, "detail", "")
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(detail, dict):
        # simplejwt's token errors: {"detail": "...", "code": "...", "messages": [...]}; the
        # code is the "code" item's text ("password_changed"), not the codes of the items.
        if "code" in detail:
            codes = str(detail["code"])
        detail = detail.get("detail", next(iter(detail.values()), ""))
    body: dict[str, Any] = {"error": str(detail), "code": _first_code(codes)}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait)
    response.data = body
    return response
