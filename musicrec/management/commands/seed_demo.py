"""``manage.py seed_demo --listeners N``: demo listeners for the recommender to learn from.

Idempotent: ``demo-0001`` … ``demo-N`` are created only when missing (see ``musicrec.demo``).
Also creates one sign-in account, ``demo``, whose password is generated once, kept under
``var/`` and printed at each run (like the curator account of ``bootstrap_demo``).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.models import User
from musicrec.demo import DEMO_SEED, DEMO_SIGNIN_USERNAME, MAX_DEMO_LISTENERS, demo_listeners_seed

PASSWORD_FILE = Path(settings.BASE_DIR) / "var" / "demo-listener-password.txt"


class Command(BaseCommand):
    help = "Create demo listeners (profiles, histories, interactions) that do not exist yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listeners", type=int, default=300, help="how many (default 300)")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="random seed")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--password-file",
            type=Path,
            default=PASSWORD_FILE,
            help=f"where the demo account's password is kept (default {PASSWORD_FILE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["listeners"]
        if not 0 <= count <= MAX_DEMO_LISTENERS:
            raise CommandError(f"--listeners must be from 0 to {MAX_DEMO_LISTENERS}.")
        secret_file: Path = options["password_file"]
        signin_missing = not User.objects.filter(username=DEMO_SIGNIN_USERNAME).exists()
        password = secrets.token_urlsafe(12) if signin_missing else None

        started = time.monotonic()
        with tqdm(
            total=count + (1 if signin_missing else 0),
            unit="listener",
            disable=options["no_progress"],
            file=self.stderr._out,
        ) as bar:
            try:
                summary = demo_listeners_seed(
                    count=count,
                    seed=options["seed"],
                    signin_password=password,
                    progress=bar.update,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if password is not None:
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)

        self.stdout.write(
            f"Demo listeners: {summary.created} created, {summary.existing} already there; "
            f"{summary.history_entries} history entries, {summary.interactions} interactions, "
            f"{summary.opinions} opinions added in {time.monotonic() - started:.1f} s."
        )
        self._signin(secret_file)

    def _signin(self, secret_file: Path) -> None:
        account = User.objects.filter(username=DEMO_SIGNIN_USERNAME).first()
        saved = secret_file.read_text().strip() if secret_file.exists() else ""
        if account and saved and account.check_password(saved):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo listener sign-in: user {DEMO_SIGNIN_USERNAME!r}, "
                    f"password {saved!r} (kept in {secret_file})"
                )
            )
        else:
            self.stdout.write(
                f"Demo listener sign-in: the {DEMO_SIGNIN_USERNAME!r} account's password was "
                f"changed (not the one in {secret_file})."
            )
