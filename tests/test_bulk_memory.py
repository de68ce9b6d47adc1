"""A 100,000-row bulk file in bounded memory: validated, run through the ledger, reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT_MIB = 200
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_100k_row_file_stays_under_200_mib_from_validation_to_the_report() -> None:
    # Given a file of 100,000 orders, when it is validated, ingested, every row fed to a worker
    # and given a result, and the reports written (scripts/bench_memory.py, in its own process),
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_memory.py"), "--rows", "100000", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # then the process never held more than 200 MiB, and every row went through.
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["peak_rss_mib"] < LIMIT_MIB, done.stderr
    assert "100000 rows" in figures["phases"][3]["phase"]
    assert "'assigned': 100000" in figures["phases"][4]["phase"]
