"""The gold data itself: schema, coverage of kinds and articles, and every quote verbatim in its article."""

import subprocess
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent / "gold"


def test_gold_data_is_valid_and_quotes_are_verbatim():
    run = subprocess.run([sys.executable, str(GOLD / "check_gold.py")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
