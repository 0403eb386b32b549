from history import history_page_urls, imports_page_urls

app_name = "history"

urlpatterns = [
    *history_page_urls.urlpatterns,
    *imports_page_urls.urlpatterns,
]
