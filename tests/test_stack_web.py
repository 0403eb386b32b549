"""The web server ``make run`` starts (``musicrec.stack``): its command line, the number of
processes (``WEB_CONCURRENCY``) and its environment (``MALLOC_ARENA_MAX``). Nothing is started."""

from __future__ import annotations

import pytest

from musicrec import stack


def test_the_web_command_serves_the_asgi_app_with_the_lifespan_on():
    command = stack.web_command(host="127.0.0.1", port=8000)

    assert command[1:4] == ["-m", "uvicorn", "musicrec.asgi:application"]
    # the lifespan start-up is what builds the serving state before the first request
    assert command[command.index("--lifespan") + 1] == "on"
    assert command[command.index("--port") + 1] == "8000"
    assert "--workers" not in command
    assert "--no-access-log" not in command


def test_more_web_processes_are_uvicorn_workers():
    command = stack.web_command(host="::1", port=8080, workers=3, access_log=False)

    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--host") + 1] == "::1"
    assert "--no-access-log" in command


def test_web_concurrency_defaults_to_the_measured_number(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert stack.web_concurrency() == stack.WEB_CONCURRENCY_DEFAULT

    monkeypatch.setenv("WEB_CONCURRENCY", " 3 ")
    assert stack.web_concurrency() == 3


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5", "65"])
def test_a_bad_web_concurrency_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("WEB_CONCURRENCY", value)

    with pytest.raises(SystemExit) as stopped:
        stack.web_concurrency()

    assert "WEB_CONCURRENCY" in str(stopped.value)
    assert repr(value) in str(stopped.value)


def test_the_web_processes_hold_glibc_to_few_arenas_unless_told_otherwise():
    assert stack.web_environment({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert stack.web_environment({"MALLOC_ARENA_MAX": "4"}) == {"MALLOC_ARENA_MAX": "4"}
