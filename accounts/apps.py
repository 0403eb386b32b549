from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.metrics import account_figures
        from musicrec import registry

        registry.metrics_collectors.register("accounts", account_figures)
