"""The embedded services of this test run, and the ones single tests start for themselves."""

from __future__ import annotations

import os

from musicrec import embedded


def run_instance() -> embedded.Instance:
    """The instance whose services this run uses (as musicrec.settings picks it)."""
    return embedded.Instance(os.environ.get("MUSICREC_INSTANCE", "dev"))


def helper_instance(name: str) -> embedded.Instance:
    """Services a test starts and stops itself, under ``var/<instance>/helpers/<name>/``: the
    end of the session checks that nothing there is still running."""
    return embedded.helper_instance(run_instance(), name)
