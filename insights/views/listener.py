"""The listener's insights page (``/insights/``): their own figures only (the signed-in user's;
there is no way to name another listener)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from insights.listener_charts import listener_charts
from insights.selectors.listener import listener_insights, options


@login_required
def insights_page(request: HttpRequest) -> HttpResponse:
    insights = listener_insights(user=request.user)
    charts = listener_charts(insights, genres_shown=int(options()["genres_shown"]))
    return render(
        request,
        "insights/insights.html",
        {
            "insights": insights,
            "charts": charts,
            # the template places each chart by name: {{ chart_by_key.genre_trend }}
            "chart_by_key": {chart.key.replace("-", "_"): chart for chart in charts},
        },
    )
