"""The API's JSON parser: DRF's, with a body nested too deeply for Python a 400.

DRF turns a ``ValueError`` of ``json.loads`` into a ``ParseError`` (400), but JSON nested
deeper than the recursion limit (``[[[…]]]``, a few hundred kB) raises ``RecursionError``,
which it let through as a 500 on every JSON endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
