from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        # musicrec's /metrics shows the recommender's figures through this registry.
        from musicrec import registry
        from recommendations.metrics import popularity_figures

        registry.metrics_collectors.register("recommendations.popularity", popularity_figures)
