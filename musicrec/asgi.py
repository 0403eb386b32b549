"""ASGI entry point: HTTP through Django, WebSockets through Channels, and the server's
lifespan events: at start-up, the recommender's serving state is built in the background
(``RECOMMENDER["serving"]["warm_up"]``), so the first listener does not wait for it."""

import logging
import os
import threading
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from musicrec.consumers import OriginOrTokenValidator
from musicrec.routing import websocket_urlpatterns
from musicrec.uploads import RequestBodyLimit
from recommendations.selectors.serving import serving_state_warm_up_start

logger = logging.getLogger(__name__)


def websocket_application(routes: list) -> OriginOrTokenValidator:
    """The WebSocket stack: allowed origins (or a token without cookies), then the session's
    user, then the routes. (Tests build the same stack around routes of their own.)"""
    return OriginOrTokenValidator(AuthMiddlewareStack(URLRouter(routes)))


class Lifespan:
    """The ASGI lifespan protocol (uvicorn ``--lifespan on``, what ``make run`` starts): on
    ``startup`` the serving state's warm-up starts in a thread of its own and the server is told
    at once that the start-up is complete (it serves meanwhile; the requests that need the state
    wait for that build, as they would for a first request's). Nothing here may stop the server
    from starting: a failure is logged. ``shutdown`` has nothing to release."""

    def __init__(self) -> None:
        self.warm_up: threading.Thread | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.warm_up = serving_state_warm_up_start()
                except Exception:
                    logger.exception("the serving state's warm-up did not start")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


lifespan = Lifespan()

application = ProtocolTypeRouter(
    {
        # Django would spool a large body to a temporary file before any check: refuse it first
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": websocket_application(websocket_urlpatterns),
        "lifespan": lifespan,
    }
)
