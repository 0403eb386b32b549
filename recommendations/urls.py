"""Page URLs of the recommender, mounted at the site's root before the catalog's (so ``/`` is
the listener's home; visitors get the catalog's home page from the same view)."""

from django.urls import path

from recommendations import views, views_experiments

app_name = "recommendations"

urlpatterns = [
    path("", views.home, name="home"),
    path("recommendations/list/", views.list_fragment, name="list"),
    path("recommendations/feedback/", views.feedback, name="feedback"),
    path("recommendations/controls/", views.list_controls, name="controls"),
    path("recommendations/block/", views.artist_block, name="artist_block"),
    path("recommendations/unblock/", views.artist_unblock, name="artist_unblock"),
    path("recommendations/discovery/", views.discovery_default, name="discovery"),
    path(
        "staff/experiments/",
        views_experiments.experiment_list_page,
        name="experiment_list",
    ),
    path(
        "staff/experiments/<int:experiment_id>/",
        views_experiments.experiment_report_page,
        name="experiment_report",
    ),
]
