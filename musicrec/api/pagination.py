from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 100); an out-of-range page is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
