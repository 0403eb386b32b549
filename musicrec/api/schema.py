"""OpenAPI pieces shared by every API view, defined once: the error bodies of
``musicrec.api.errors``, the responses each status code answers with, and the pagination
envelope of ``musicrec.api.pagination``.

A view documents what it can answer with ``responses={200: …, **error_responses(400, 401,
404)}``; a paginated list with ``paginated(ItemSerializer, name="Track")``. Mobile clients are
generated from this schema, and the contract test (``tests/api/test_contract.py``) holds every
answer to it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error but field validation: ``{"error": …, "code": …}``, plus keys some errors
    add (``retry_after``, ``limit``, ``count``, ``missing``, ``parameter`` …)."""

    error = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="What went wrong, for programs (stable).")

    class Meta:
        ref_name = "Error"


class ThrottledSerializer(ErrorSerializer):
    """A refused request over a rate limit."""

    retry_after = serializers.IntegerField(
        required=False, min_value=0, help_text="Seconds until a new attempt may succeed."
    )

    class Meta:
        ref_name = "Throttled"


# DRF's validation errors: {field: [messages]} (nested serializers nest; a list field may give
# a list of such objects). "non_field_errors" holds errors of the whole body.
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Field errors: `{field: [messages]}`.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object"},
        ]
    },
}

_ERROR = {"$ref": "#/components/schemas/Error"}

_DESCRIPTIONS = {
    400: "The request is not valid: field errors, or an error with its code.",
    401: "Not signed in, or the token is not valid (expired, revoked, of another type).",
    403: "Signed in, but not allowed to do this.",
    404: "No such object (or not the caller's).",
    405: "This method is not allowed here.",
    409: "The object is busy (e.g. an import being processed); try again later.",
    413: "The request body is larger than this endpoint accepts.",
    415: "The request's content type is not accepted here.",
    429: "Too many requests: wait `retry_after` seconds.",
    503: "A limit or service this request needs does not answer (e.g. Redis is down).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses a view can answer with, by status code."""
    responses: dict[int, OpenApiResponse] = {}
    for status in statuses:
        description = _DESCRIPTIONS[status]
        if status == 400:
            body: Any = {"anyOf": [FIELD_ERRORS_SCHEMA, _ERROR]}
            responses[status] = OpenApiResponse(body, description=description)
            continue
        if status == 429:
            responses[status] = OpenApiResponse(ThrottledSerializer, description=description)
            continue
        responses[status] = OpenApiResponse(ErrorSerializer, description=description)
    return responses


def paginated(
    item: type[serializers.Serializer],
    *,
    name: str,
    extra: dict[str, serializers.Field] | None = None,
) -> serializers.Serializer:
    """The page envelope of ``musicrec.api.pagination``: ``count``, ``next``, ``previous``,
    ``results`` (and ``extra`` keys, such as the history's ``limit`` and ``remaining``)."""
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(min_value=0),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
            **(extra or {}),
        },
    )


# Kept for views not yet moved to error_responses(): one generic error and the field errors.
ERROR_RESPONSE = OpenApiResponse(ErrorSerializer, description='An error: `{"error", "code"}`.')
FIELD_ERRORS = OpenApiResponse(FIELD_ERRORS_SCHEMA, description=_DESCRIPTIONS[400])
NO_CONTENT = OpenApiResponse(None, description="Done; no body.")
