from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from musicrec import registry
        from recommendations import hooks
        from recommendations.admin_actions import recompute_embeddings
        from recommendations.metrics import popularity_figures
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
        # the catalog's search asks which of its results fits the signed-in listener best
        registry.search_recommenders.register("recommendations.engine", hooks.search_recommendation)
        registry.track_admin_actions.register("recompute_embeddings", recompute_embeddings)
        # musicrec's /metrics shows the recommender's figures through this registry
        registry.metrics_collectors.register("recommendations.popularity", popularity_figures)
