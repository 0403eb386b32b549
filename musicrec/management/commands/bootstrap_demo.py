"""``manage.py bootstrap_demo``: what ``make run`` needs on first start.

Loads the demo catalog when the catalog is empty and creates a demo curator account when no
superuser exists (its password is generated once, kept under ``var/`` and printed at each
start). Safe to run any number of times.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from catalog.models import Track

DEMO_CATALOG = Path(settings.BASE_DIR) / "catalog" / "data" / "demo_catalog.csv.gz"
ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Load the demo catalog into an empty database, create a demo curator account and the "
        "demo listeners."
    )

    def handle(self, *args, **options) -> None:
        if not Track.objects.exists():
            self.stdout.write("The catalog is empty: loading the demo catalog …")
            call_command("import_catalog", str(DEMO_CATALOG), stdout=self.stdout)
        else:
            self.stdout.write(f"Catalog: {Track.objects.count()} tracks.")
        self._admin()
        # Demo listeners give the recommender something to learn from on first start; on later
        # starts this adds nothing and prints the demo listener's sign-in again.
        call_command("seed_demo", "--no-progress", stdout=self.stdout)

    def _admin(self) -> None:
        user_model = get_user_model()
        secret_file = Path(settings.BASE_DIR) / "var" / "demo-admin-password.txt"
        if not user_model.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", password)
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        admin = user_model.objects.filter(username=ADMIN_USERNAME, is_superuser=True).first()
        if admin and secret_file.exists() and admin.check_password(secret_file.read_text().strip()):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Curator sign-in at /admin/: user {ADMIN_USERNAME!r}, "
                    f"password {secret_file.read_text().strip()!r} (kept in {secret_file})"
                )
            )
        else:
            self.stdout.write(
                "Curator sign-in: use your superuser at /admin/ "
                "(create one with `.venv/bin/python manage.py createsuperuser`)."
            )
