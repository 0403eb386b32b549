"""WebSocket routes: each app's ``routing.websocket_urlpatterns`` joined, in app order.

An app with live features adds ``<app>/routing.py`` with its consumers' paths (consumers
subclass ``musicrec.consumers.ListenerConsumer``); nothing needs registering here.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.urls import URLPattern, URLResolver


def _app_routes() -> list[URLPattern | URLResolver]:
    routes: list[URLPattern | URLResolver] = []
    for app in settings.LOCAL_APPS:
        module_name = f"{app}.routing"
        if app == "musicrec" or find_spec(module_name) is None:
            continue
        routes.extend(getattr(import_module(module_name), "websocket_urlpatterns", []))
    return routes


websocket_urlpatterns = _app_routes()
