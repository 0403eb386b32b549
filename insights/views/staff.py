"""The platform dashboard for staff (built by the insights issue, #14)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@staff_member_required
def staff_insights_page(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/staff.html", {"charts": []})
