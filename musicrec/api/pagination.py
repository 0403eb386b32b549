from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


def _whole_number(raw: str) -> int | None:
    # ASCII digits only, as the schema's integer says (int() also reads " 7", "1_0" and "٧").
    return int(raw) if raw.isascii() and raw.isdigit() else None


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` (1 or more) and ``?page_size=`` (1–100). A malformed value is a 400; a page
    past the end is a 404. The schema says exactly that (``schema_parameters``)."""

    page_size_query_param = "page_size"
    max_page_size = 100
    # Only numbers: DRF's ``?page=last`` was never documented, and the schema says integers.
    last_page_strings = ()

    @classmethod
    def schema_parameters(cls) -> list[dict[str, Any]]:
        """The two query parameters, as OpenAPI parameter objects."""
        return [
            {
                "name": cls.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1; a page past the last one is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": cls.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1–{cls.max_page_size} "
                f"(default {cls.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": cls.max_page_size},
            },
        ]

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return self.schema_parameters()

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_page_number(self, request, paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = _whole_number(raw)
        if number is None or number < 1:
            raise ValidationError({"page": ["A whole number of 1 or more."]})
        return number
