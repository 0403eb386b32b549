from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from musicrec import registry
        from recommendations import hooks
        from recommendations.admin_actions import recompute_embeddings
        from recommendations.metrics import list_cache_figures, popularity_figures
        from recommendations.selectors.impressions import impression_is_listeners
        from recommendations.services import serving

        # in the transaction that saves tracks (catalog services): content first, then fold-in
        registry.tracks_changed.register("recommendations.content", hooks.tracks_changed_content)
        registry.tracks_changed.register("recommendations.fold_in", hooks.tracks_changed_fold_in)
        # and, once that commits, every web process reloads the catalog it serves from
        registry.tracks_changed.register("recommendations.serving", serving.tracks_changed)
        # after a listener's history, feedback or listening import changed (on commit)
        registry.taste_changed.register(
            "recommendations.listener_vector", hooks.taste_changed_listener_vector
        )
        # after any change of a listener's taste (history, feedback, context, blocks …): their
        # cached lists are left behind. After the listener's vector (a list computed between
        # the two would be cached under the new version), before anything that serves a list
        registry.taste_changed.register("recommendations.list_cache", hooks.taste_changed_lists)
        # interactions may name the list they answer: only the listener's own
        registry.impression_owners.register("recommendations.impressions", impression_is_listeners)
        # keep it the last taste_changed hook: the list it pushes reads what the others bring
        # up to date (the listener vector, the cached lists' version)
        registry.taste_changed.register("recommendations.live", hooks.taste_changed_live)
        registry.track_admin_actions.register("recompute_embeddings", recompute_embeddings)
        # musicrec's /metrics shows the recommender's figures through this registry
        registry.metrics_collectors.register("recommendations.popularity", popularity_figures)
        registry.metrics_collectors.register("recommendations.list_cache", list_cache_figures)
