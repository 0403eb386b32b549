"""Readiness of the services musicrec depends on: PostgreSQL, Redis and the Celery broker."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    from django_redis import get_redis_connection

    # The cache ignores Redis errors on purpose (the site degrades); ask the client directly.
    get_redis_connection("default").ping()


def _check_broker() -> None:
    from musicrec.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "broker": _check_broker,
}


def service_status() -> dict[str, str]:
    """``{"database": "ok", "redis": "error: …", …}``"""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; say which and why
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = f"error: {exc.__class__.__name__}"
        else:
            results[name] = "ok"
    return results


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when every service answers, else 503 naming the ones that do not."""
    checks = service_status()
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "unavailable" if down else "ok", "checks": checks, "down": down}
    if settings.DEBUG:
        body["debug"] = True
    return JsonResponse(body, status=503 if down else 200)
