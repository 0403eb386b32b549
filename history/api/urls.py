from history.api import history_urls, import_urls, interaction_urls

urlpatterns = [
    *history_urls.urlpatterns,
    *interaction_urls.urlpatterns,
    *import_urls.urlpatterns,
]
