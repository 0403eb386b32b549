"""OpenAPI descriptions shared by every API view (the one error format of musicrec.api.errors)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

ERROR_RESPONSE = OpenApiResponse(OpenApiTypes.OBJECT, description='{"error": "...", "code": "..."}')
FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="{field: [messages]}")
