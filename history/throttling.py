"""How often a listener may upload listening data from the web page: the API's "imports" rate
(``THROTTLE_IMPORTS``, 30 an hour), counted together with the API's uploads.

MERGE NOTE (issue #9): a temporary stand-in. Fail-closed throttling for pages and the API is
being built in ``musicrec/throttling.py`` on another branch; once it is merged, make
``import_upload_wait`` call that helper with the scope ``"imports"`` (or call it from
``history.views.import_upload`` directly) and delete this module. It uses DRF's
``ScopedRateThrottle`` so that the page and ``POST /api/v1/imports/`` share one counter (cache key
``throttle_imports_<user id>``); like every DRF throttle it lets requests through when the cache
(Redis) is down.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

SCOPE = "imports"


class _UploadView:
    """What ScopedRateThrottle reads from a view: its scope."""

    throttle_scope = SCOPE


def import_upload_wait(request: HttpRequest) -> float | None:
    """None when the signed-in listener may upload now (this upload is counted), else how many
    seconds until they may."""
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, _UploadView()):  # type: ignore[arg-type]
        return None
    return throttle.wait() or 1.0
