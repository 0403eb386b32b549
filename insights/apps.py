from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """A listener's insights (``/insights/``, ``GET /api/v1/me/insights/``) and the platform
    dashboard for staff (``/staff/insights/``): reads of every app below, no models of its own."""

    name = "insights"
    verbose_name = "Insights"
