"""The listener's insights page (built by the insights issue, #14)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def insights_page(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/insights.html", {"charts": []})
