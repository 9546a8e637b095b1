"""`make run` serves what the README says it does: the procedures of PROCEDURES_DIR."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned_loads(**env: str) -> list[str]:
    """The load_procedures commands `make run` would run (make -n runs nothing)."""
    base = {k: v for k, v in os.environ.items() if k != "PROCEDURES_DIR"}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if "load_procedures" in line]


def test_make_run_loads_the_procedures_dir_of_the_environment():
    loads = planned_loads(PROCEDURES_DIR="/srv/shinsei/procedures")
    assert len(loads) == 1
    assert loads[0].endswith("load_procedures '/srv/shinsei/procedures'")


def test_make_run_loads_the_shipped_procedures_by_default():
    loads = planned_loads()
    assert len(loads) == 1
    assert loads[0].endswith("load_procedures 'procedures'")
