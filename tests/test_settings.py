"""Production settings: secure by default with DEBUG=0, and no insecure fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "MUSICREC_INSTANCE"}
    }
    environment["MUSICREC_INSTANCE"] = "no-such-instance"  # ignore var/*/services.env
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "musicrec.example.org",
}


def test_check_deploy_is_clean_in_production_mode():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_missing_secret_key_with_debug_off_is_a_clear_error():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    result = _manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_security_settings_default_on_and_can_be_read_from_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.DEBUG, s.EMAIL_BACKEND)"
    )
    default = _manage("shell", "-c", code, **PRODUCTION)
    relaxed = _manage(
        "shell", "-c", code, SECURE_HSTS_SECONDS="60", SECURE_SSL_REDIRECT="0",
        EMAIL_URL="smtp://user:pw@mail.example.org:587", **PRODUCTION,
    )  # fmt: skip

    assert default.stdout.splitlines()[-1].split() == [
        "True", "True", "True", "31536000", "False",
        "django.core.mail.backends.console.EmailBackend",
    ]  # fmt: skip
    assert relaxed.stdout.splitlines()[-1].split() == [
        "False", "True", "True", "60", "False", "django.core.mail.backends.smtp.EmailBackend",
    ]  # fmt: skip
