"""Production settings: secure by default with DEBUG=0, and no insecure fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from musicrec import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    """manage.py in a process of its own; a variable given as None is unset."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "MUSICREC_INSTANCE"}
    }
    environment["MUSICREC_INSTANCE"] = "no-such-instance"  # ignore var/*/services.env
    environment.update({key: value for key, value in env.items() if value is not None})
    for key in [key for key, value in env.items() if value is None]:
        environment.pop(key, None)
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


def test_metrics_is_redirected_to_https_like_every_page_but_health():
    # given production settings (DEBUG=0: SECURE_SSL_REDIRECT on)
    code = (
        "from django.test import Client;"
        "c = Client(HTTP_HOST='musicrec.example.org');"
        "m = c.get('/metrics', HTTP_AUTHORIZATION='Bearer secret');"
        "h = c.get('/health/');"
        "print(m.status_code, m.get('Location'), h.status_code)"
    )

    # when /metrics and /health/ are asked for over plain HTTP
    result = _manage("shell", "-c", code, **PRODUCTION)

    # then /metrics answers only with the way to HTTPS; /health/ (load balancers) is answered
    metrics_status, location, health_status = result.stdout.splitlines()[-1].split()
    assert (metrics_status, location) == ("301", "https://musicrec.example.org/metrics")
    assert health_status in {"200", "503"}


@pytest.fixture
def stale_services_env():
    """A services.env as the launcher of an older version left it: with DEBUG=1, and a secret
    key someone added by hand."""
    instance = embedded.Instance("test-settings-env")
    instance.env_file.parent.mkdir(parents=True, exist_ok=True)
    instance.env_file.write_text(
        f"DATABASE_URL={os.environ['DATABASE_URL']}\nREDIS_URL={os.environ['REDIS_URL']}\n"
        "DEBUG=1\nSECRET_KEY=a-secret-key-from-the-file\n"
    )
    try:
        yield instance
    finally:
        instance.env_file.unlink(missing_ok=True)


def test_services_env_never_switches_debug_on(stale_services_env):
    # when settings load with the file named but DEBUG and SECRET_KEY unset
    result = _manage("check", MUSICREC_INSTANCE=stale_services_env.name)

    # then DEBUG stays off, so a secret key is required (the file's does not count)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_services_env_gives_only_the_service_urls(stale_services_env):
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECRET_KEY == 'a-secret-key-from-the-file', s.REDIS_URL)"
    )

    # when the launcher's instance is named and the URLs are not in the environment
    result = _manage(
        "shell", "-c", code, MUSICREC_INSTANCE=stale_services_env.name, DEBUG="1",
        DATABASE_URL=None, REDIS_URL=None,
    )  # fmt: skip

    # then the URLs come from the file, DEBUG from the environment, the secret key not at all
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "False", os.environ["REDIS_URL"]]


def test_services_env_is_read_only_when_the_launcher_names_it(stale_services_env):
    # when no instance is named (the launcher did not start this process)
    result = _manage("check", MUSICREC_INSTANCE=None, DEBUG="1", DATABASE_URL=None, REDIS_URL=None)

    # then no services.env is read, even var/dev/services.env
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
