"""The house rules that `make lint` checks, run by the suite too (CI runs `make test` only):
the layers and import contracts (import-linter), types on the domain layer (mypy), and that
the recommendation engine stays plain numpy."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FRAMEWORKS = ("django", "rest_framework", "channels", "celery")


def _run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=BASE_DIR, capture_output=True, text=True, timeout=300, env=env, check=False
    )


def framework_imports(path: Path) -> list[str]:
    """The Django/DRF/Channels/Celery modules a Python file imports (anywhere in it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [name for name in names if name.split(".")[0] in FRAMEWORKS]
    return found


def test_the_import_contracts_hold():
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_the_domain_layer_type_checks():
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://lint@127.0.0.1/lint"}
    result = _run(str(BIN / "mypy"), env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_engine_module_imports_a_framework():
    modules = sorted((BASE_DIR / "recommendations" / "engine").rglob("*.py"))
    assert modules, "recommendations/engine/ is missing"
    offenders = {str(path.relative_to(BASE_DIR)): framework_imports(path) for path in modules}
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import numpy as np\n", []),
        ("from django.db import models\n", ["django.db"]),
        ("def f():\n    import rest_framework.views\n", ["rest_framework.views"]),
        ("from . import ranking\n", []),
        ("from channels.layers import get_channel_layer\n", ["channels.layers"]),
    ],
)
def test_the_engine_check_sees_framework_imports(tmp_path, source, expected):
    module = tmp_path / "module.py"
    module.write_text(source)

    assert framework_imports(module) == expected
