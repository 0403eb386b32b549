from django.apps import AppConfig


class MusicrecConfig(AppConfig):
    name = "musicrec"
    verbose_name = "musicrec"

    def ready(self) -> None:
        from musicrec import checks  # noqa: F401  (registers the system checks)
