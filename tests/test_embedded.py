"""Embedded services and the process check at the end of a test run: nothing a test starts
may outlive it."""

from __future__ import annotations

import socket
import subprocess
import time

from musicrec import embedded
from tests.services import helper_instance


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.3):
            return True
    except OSError:
        return False


def test_start_redis_returns_once_its_pid_file_is_written():
    instance = helper_instance("pid-file")
    try:
        # when
        embedded.start_redis(instance)

        # then: at once, no waiting
        assert embedded.redis_running(instance)
    finally:
        assert embedded.stop_redis(instance)


def test_stop_redis_stops_a_server_whose_pid_file_is_gone():
    # given
    instance = helper_instance("no-pid-file")
    try:
        url, _ = embedded.start_redis(instance)
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        (instance.redis_dir / "redis.pid").unlink()

        # when
        stopped = embedded.stop_redis(instance)
    finally:
        embedded.processes_stop(embedded.processes_under([instance.redis_dir]))

    # then
    assert stopped
    assert not _answers(port)
    assert embedded.processes_under([instance.redis_dir]) == []


def test_processes_under_a_folder_are_found_and_stopped(tmp_path):
    # given: a process working in a helper folder, and one elsewhere
    folder = helper_instance("stray").root
    folder.mkdir(parents=True, exist_ok=True)
    inside = subprocess.Popen(["sleep", "60"], cwd=folder)
    outside = subprocess.Popen(["sleep", "60"], cwd=tmp_path)
    try:
        # when
        found = embedded.processes_under([folder])
        embedded.processes_stop(found)

        # then
        assert [process.pid for process in found] == [inside.pid]
        assert inside.wait(5) is not None
        assert outside.poll() is None
        assert embedded.processes_under([folder]) == []
    finally:
        for process in (inside, outside):
            process.kill()
            process.wait()


def test_a_sibling_folder_with_the_same_prefix_is_not_under(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test-2").mkdir()
    sibling = subprocess.Popen(["sleep", "60"], cwd=tmp_path / "test-2")
    try:
        time.sleep(0.05)
        assert embedded.processes_under([tmp_path / "test"]) == []
    finally:
        sibling.kill()
        sibling.wait()


def test_the_launcher_fails_a_test_run_that_left_a_process_behind(capsys):
    # given: a process still running in a test run's helper folder
    from musicrec import stack

    run = helper_instance("launcher-run")
    folder = embedded.helper_instance(run, "redis").root
    folder.mkdir(parents=True, exist_ok=True)
    leftover = subprocess.Popen(["sleep", "60"], cwd=folder)
    try:
        # when
        clean = stack._no_leftovers(run, {"postgres": False, "redis": False})

        # then
        assert not clean
        assert leftover.wait(5) is not None
        assert f"pid {leftover.pid}" in capsys.readouterr().out
        assert stack._no_leftovers(run, {"postgres": False, "redis": False})
    finally:
        leftover.kill()
        leftover.wait()
