from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from musicrec.api.schema_params import page_parameters

INVALID_PAGE_SIZE = "A whole number from 1 to {max}."
INVALID_PAGE = "A whole number of 1 or more."


def _whole_number(raw: str) -> int | None:
    # ASCII digits only, as the schema says (int() also reads " 7", "1_0" and "٧").
    return int(raw) if raw.isascii() and raw.isdigit() else None


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` (1 or more) and ``?page_size=`` (1–100). A malformed value is a 400; a page
    past the end is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # the schema says a number; "last" is not one

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [INVALID_PAGE_SIZE.format(max=self.max_page_size)]})
        return size

    def get_page_number(self, request, paginator) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = _whole_number(raw)
        if number is None or number < 1:
            raise ValidationError({"page": [INVALID_PAGE]})
        return number

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return page_parameters(max_page_size=self.max_page_size)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """The page as it is sent: every key always there (``next``/``previous`` null at the
        ends), as ``musicrec.api.schema.paginated`` documents it for hand-paginated views."""
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": {**link, "description": "the next page, null on the last"},
                "previous": {**link, "description": "the previous page, null on the first"},
                "results": schema,
            },
        }
