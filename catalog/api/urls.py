from django.urls import path

from catalog.api import views

urlpatterns = [
    path("tracks/", views.TrackListView.as_view(), name="track-list"),
    path("tracks/<int:pk>/", views.TrackDetailView.as_view(), name="track-detail"),
    path("artists/", views.ArtistListView.as_view(), name="artist-list"),
    path("artists/<int:pk>/", views.ArtistDetailView.as_view(), name="artist-detail"),
    path("genres/", views.GenreListView.as_view(), name="genre-list"),
    path("search/", views.SearchView.as_view(), name="search"),
]
