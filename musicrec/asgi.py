"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from musicrec.consumers import OriginOrTokenValidator
from musicrec.routing import websocket_urlpatterns
from musicrec.uploads import RequestBodyLimit


def websocket_application(routes: list) -> OriginOrTokenValidator:
    """The WebSocket stack: allowed origins (or a token without cookies), then the session's
    user, then the routes. (Tests build the same stack around routes of their own.)"""
    return OriginOrTokenValidator(AuthMiddlewareStack(URLRouter(routes)))


application = ProtocolTypeRouter(
    {
        # Django would spool a large body to a temporary file before any check: refuse it first
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": websocket_application(websocket_urlpatterns),
    }
)
