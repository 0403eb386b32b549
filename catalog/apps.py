from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.metrics import catalog_figures
        from musicrec import registry

        registry.metrics_collectors.register("catalog", catalog_figures)
