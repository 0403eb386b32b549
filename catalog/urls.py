from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("tracks/<int:pk>/", views.track_detail, name="track"),
    path("artists/<int:pk>/", views.artist_detail, name="artist"),
    path("genres/<slug:slug>/", views.genre_detail, name="genre"),
]
