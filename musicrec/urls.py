from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.admin import admin_sign_in
from musicrec.health import health
from musicrec.metrics import metrics
from musicrec.views import api_not_found

api_v1 = [
    path("", include("catalog.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("history.api.urls")),
    path("", include("recommendations.api.urls")),
    # trending, similar tracks and stats: the recommender's code under the catalog's paths
    path("", include("recommendations.api.catalog_urls")),
    path("", include("playlists.api.urls")),
    path("", include("insights.api.urls")),
]

urlpatterns = [
    # the listener's home at "/" (visitors: the catalog's), then the catalog's pages
    path("", include("recommendations.urls")),
    path("", include("catalog.urls")),
    path("accounts/", include("accounts.urls")),
    path("history/", include("history.urls")),
    path("playlists/", include("playlists.urls")),
    path("", include("insights.urls")),
    path("admin/login/", admin_sign_in, name="admin-sign-in"),  # rate-limited
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    # Last: whatever else starts with api/ is a JSON 404, with DEBUG on or off.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]

handler400 = "musicrec.views.bad_request"
handler403 = "musicrec.views.permission_denied"
handler404 = "musicrec.views.page_not_found"
handler500 = "musicrec.views.server_error"

admin.site.site_header = "musicrec curation"
admin.site.site_title = "musicrec admin"
admin.site.index_title = "Catalog and listeners"
