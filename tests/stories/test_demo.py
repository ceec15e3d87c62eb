"""`briefing demo` (what `make demo` runs) shows the seeds' central-bank story from two outlets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.config import REPO


def test_demo_shows_a_multi_outlet_story_with_attributed_positions(demo_config: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "briefing", "--config", str(demo_config), "demo"],
                         capture_output=True, text=True, timeout=600, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    story = out.stdout[out.stdout.index("Stories reported by more than one outlet: 1"):]
    assert "Central bank holds rates as inflation stays above target" in story
    assert "2 outlet(s), 2 article(s): ledger-world, nordic-wire" in story
    assert "Elise Brandt (Governor) — says consumer prices rose 3.1%" in story
    assert "— ledger-world, nordic-wire" in story and 'evidence: "Governor Elise Brandt said' in story
