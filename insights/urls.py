"""Page URLs of the insights app: the listener's ``/insights/`` and staff's ``/staff/insights/``."""

from django.urls import path

from insights.views import listener, staff

app_name = "insights"

urlpatterns = [
    path("insights/", listener.insights_page, name="mine"),
    path("staff/insights/", staff.staff_insights_page, name="staff"),
    path("staff/insights/refresh/", staff.staff_insights_refresh, name="staff_refresh"),
]
