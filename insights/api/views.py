"""``GET /api/v1/me/insights/``: the signed-in listener's insights (the page's figures)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.api.serializers import ListenerInsightsSerializer, insights_payload
from insights.listener_charts import listener_charts
from insights.selectors.listener import listener_insights, options
from musicrec.api.schema import error_responses


class MyInsightsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: ListenerInsightsSerializer, **error_responses(401, 429)},
        description="The figures of the listener's insights page (`/insights/`): genres of "
        "the history and likes and how the genres of their plays changed, the audio-feature "
        "profile against the average listener's, plays per day and per local hour, top artists "
        "and tracks, what recommendations brought; each with the page's one-line reading. "
        "Plays are live and imported ones of the last 90 days of the listener's calendar "
        "(their time zone). See docs/insights.md for each definition.",
    )
    def get(self, request: Request) -> Response:
        insights = listener_insights(user=request.user)
        charts = listener_charts(insights, genres_shown=int(options()["genres_shown"]))
        return Response(ListenerInsightsSerializer(insights_payload(insights, charts)).data)
