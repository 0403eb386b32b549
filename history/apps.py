from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "history"
    verbose_name = "Listening history"

    def ready(self) -> None:
        # The lower layers (accounts' export and profile, musicrec's /metrics) show the
        # history through these registries; they never import this app.
        from history.api.serializers import HistorySummarySerializer
        from history.metrics import history_figures
        from history.selectors.entries import history_summary
        from history.selectors.exports import listener_history_export
        from musicrec import registry

        registry.listener_export_parts.register("history", listener_history_export)
        registry.profile_parts.register(
            "history",
            registry.ProfilePart(
                read=lambda user: history_summary(user=user),
                serializer=HistorySummarySerializer,
            ),
        )
        registry.metrics_collectors.register("history", history_figures)
