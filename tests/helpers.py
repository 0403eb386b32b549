"""Small helpers shared by tests."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponseBase


def response_json(response: HttpResponseBase) -> Any:
    """The JSON body of a response, streamed (the data export) or not."""
    if getattr(response, "streaming", False):
        return json.loads(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    return json.loads(response.content)  # type: ignore[attr-defined]
