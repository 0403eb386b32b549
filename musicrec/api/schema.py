"""OpenAPI pieces shared by every API view, defined once: the error bodies of
``musicrec.api.errors``, the responses each status code answers with, the pagination envelope
and parameters of ``musicrec.api.pagination``, links between operations, and the schema class
that adds to every operation the answers its kind of view always can give.

A view documents what it can answer with ``responses={200: …, **error_responses(400, 404)}``;
a paginated list with ``paginated(ItemSerializer, name="Track")`` and
``parameters=PAGE_PARAMETERS``; a link from an answer to the operation that takes its id with
``extensions=response_links({201: {"RemoveEntry": Link("v1_history_destroy", entry_id="id")}})``.
``AutoSchema`` adds, where the view does not say them itself: 400 (a NUL in the query string,
on any path), 401 (views that read a JWT: a bad token is refused even where no sign-in is
needed), 403 (CSRF, for a session sign-in on unsafe methods), 404 (a page past the last),
413 and 415 (request bodies), 429 (throttled views), 503 (limits that fail closed).

Mobile clients are generated from this schema, and the contract test
(``tests/api/test_contract.py``) holds every answer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from musicrec.api.pagination import PageNumberPagination


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
# A component of its own (added by ``add_shared_components``): one model in a generated client,
# not one per operation.
_FIELD_ERRORS = {"$ref": "#/components/schemas/FieldErrors"}

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
            body: Any = {"anyOf": [_FIELD_ERRORS, _ERROR]}
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


# ``?page=`` and ``?page_size=`` of a paginated list that is not a generic view (generic views
# get them from the paginator); a page past the last one is a 404.
PAGE_PARAMETERS = [
    OpenApiParameter(
        parameter["name"],
        parameter["schema"],
        description=parameter["description"],
    )
    for parameter in PageNumberPagination.schema_parameters()
]


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: the operation ``operation_id`` takes its ``parameters`` (name → the
    answer's body field, ``id`` or a JSON pointer ``#/id``) from this answer."""

    operation_id: str
    parameters: dict[str, str]
    description: str = ""

    def __init__(self, operation_id: str, description: str = "", **parameters: str) -> None:
        object.__setattr__(self, "operation_id", operation_id)
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "description", description)

    def as_openapi(self) -> dict[str, Any]:
        link: dict[str, Any] = {
            "operationId": self.operation_id,
            "parameters": {
                name: f"$response.body#/{field.lstrip('#/')}"
                for name, field in self.parameters.items()
            },
        }
        if self.description:
            link["description"] = self.description
        return link


_LINKS_KEY = "x-response-links"


def response_links(links: dict[int, dict[str, Link]]) -> dict[str, Any]:
    """``extend_schema(extensions=response_links({201: {"Name": Link(…)}}))``: the links of an
    operation's answers, by status (drf-spectacular 0.30 has no links of its own; the
    ``links_into_responses`` hook puts them where OpenAPI wants them)."""
    return {
        _LINKS_KEY: {
            str(status): {name: link.as_openapi() for name, link in by_name.items()}
            for status, by_name in links.items()
        }
    }


def links_into_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: move each operation's ``response_links`` into its responses, and
    check that every link names an operation that exists."""
    operation_ids = {
        operation["operationId"]
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for status, links in operation.pop(_LINKS_KEY, {}).items():
                unknown = {link["operationId"] for link in links.values()} - operation_ids
                if unknown:
                    raise ValueError(f"links to unknown operations: {', '.join(sorted(unknown))}")
                operation["responses"][status].setdefault("links", {}).update(links)
    return result


def add_shared_components(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: the components that are raw schemas, not serializers
    (``FieldErrors``)."""
    result.setdefault("components", {}).setdefault("schemas", {})["FieldErrors"] = (
        FIELD_ERRORS_SCHEMA
    )
    return result


_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "How to authenticate (`Bearer`).",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema of a view, plus the answers a view of its kind always can give
    and does not document itself (see the module's docstring): they come from middleware,
    authentication, parsers, pagination and throttles, not from the view's code, so a new view
    has them right without a word."""

    def _common_statuses(self, documented: dict[str, Any]) -> dict[int, str | None]:
        view = self.view
        statuses: dict[int, str | None] = {
            400: "A query parameter holds a NUL character (`null_character`)."
        }
        authenticators = getattr(view, "authentication_classes", ())
        if any(issubclass(cls, JWTAuthentication) for cls in authenticators):
            statuses[401] = None
        if self.method not in ("GET", "HEAD", "OPTIONS") and any(
            issubclass(cls, SessionAuthentication) for cls in authenticators
        ):
            statuses[403] = "Signed in with a session cookie but without the CSRF token."
        if any(parameter.get("name") == "page" for parameter in self._page_parameters()):
            statuses[404] = "No such page (past the last one)."
        if self.method in _BODY_METHODS:
            statuses[413] = None
            statuses[415] = None
        throttles = view.get_throttles() if hasattr(view, "get_throttles") else []
        if throttles:
            statuses[429] = None
        from musicrec.throttling import StrictScopedRateThrottle

        if any(isinstance(throttle, StrictScopedRateThrottle) for throttle in throttles):
            statuses[503] = None
        return {status: text for status, text in statuses.items() if str(status) not in documented}

    def _page_parameters(self) -> list[dict[str, Any]]:
        parameters = [
            {"name": parameter.name}
            for parameter in self.get_override_parameters()
            if isinstance(parameter, OpenApiParameter)
        ]
        if self._is_list_view() and self._get_paginator() is not None:
            parameters.append({"name": "page"})
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status, text in self._common_statuses(responses).items():
            response = error_responses(status)[status]
            if text:
                response = OpenApiResponse(response.response, description=text)
            responses[str(status)] = self._get_response_for_code(
                response, str(status), direction=direction
            )
        for status, headers in _HEADERS.items():
            if str(status) in responses:
                responses[str(status)].setdefault("headers", {}).update(headers)
        return responses


# Kept for views not yet moved to error_responses(): one generic error and the field errors.
ERROR_RESPONSE = OpenApiResponse(ErrorSerializer, description='An error: `{"error", "code"}`.')
FIELD_ERRORS = OpenApiResponse(_FIELD_ERRORS, description=_DESCRIPTIONS[400])
NO_CONTENT = OpenApiResponse(None, description="Done; no body.")
